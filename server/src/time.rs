//! RFC 3339 timestamps for JSON. Every tweet in a timeline page carries one, so formatting is
//! on the hot path: this writes `YYYY-MM-DDTHH:MM:SS.mmmZ` into a stack buffer with integer
//! arithmetic (days to civil date after Howard Hinnant's `civil_from_days`). Its output is
//! checked against `humantime` in the tests, and `humantime` formats what this does not cover.

use std::time::{Duration, UNIX_EPOCH};

/// Milliseconds of 10000-01-01T00:00:00Z: later times need more than four year digits.
const MAX_MS: u64 = 253_402_300_800_000;

/// A time (milliseconds since the Unix epoch) shown as RFC 3339 UTC with milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339(pub u64);

impl Rfc3339 {
    /// The 24 bytes of the timestamp, or None past year 9999.
    fn bytes(self) -> Option<[u8; 24]> {
        if self.0 >= MAX_MS {
            return None;
        }
        let (secs, millis) = (self.0 / 1000, (self.0 % 1000) as u32);
        let (days, rem) = (secs / 86_400, (secs % 86_400) as u32);
        let (year, month, day) = civil_from_days(days);
        let mut out = *b"0000-00-00T00:00:00.000Z";
        put(&mut out[0..4], year);
        put(&mut out[5..7], month);
        put(&mut out[8..10], day);
        put(&mut out[11..13], rem / 3600);
        put(&mut out[14..16], rem / 60 % 60);
        put(&mut out[17..19], rem % 60);
        put(&mut out[20..23], millis);
        Some(out)
    }
}

/// Writes `value` as zero-padded decimal digits filling `slot`.
fn put(slot: &mut [u8], mut value: u32) {
    for b in slot.iter_mut().rev() {
        *b = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// (year, month, day) of a day count since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: u64) -> (u32, u32, u32) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400) as u32 + u32::from(month <= 2);
    (year, month, day)
}

impl std::fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.bytes() {
            // The buffer is ASCII digits and punctuation.
            Some(b) => f.write_str(std::str::from_utf8(&b).map_err(|_| std::fmt::Error)?),
            None => {
                let t = UNIX_EPOCH + Duration::from_millis(self.0);
                std::fmt::Display::fmt(&humantime::format_rfc3339_millis(t), f)
            }
        }
    }
}

impl serde::Serialize for Rfc3339 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.bytes() {
            Some(b) => s.serialize_str(std::str::from_utf8(&b).map_err(serde::ser::Error::custom)?),
            None => s.collect_str(self),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference(ms: u64) -> String {
        humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
    }

    #[test]
    fn known_instants() {
        assert_eq!(Rfc3339(0).to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Rfc3339(951_782_400_000).to_string(),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            Rfc3339(1_798_761_599_999).to_string(),
            "2026-12-31T23:59:59.999Z"
        );
        assert_eq!(Rfc3339(MAX_MS - 1).to_string(), "9999-12-31T23:59:59.999Z");
    }

    proptest! {
        #[test]
        fn matches_humantime(ms in 0u64..MAX_MS) {
            prop_assert_eq!(Rfc3339(ms).to_string(), reference(ms));
            let json = serde_json::to_string(&Rfc3339(ms)).unwrap();
            prop_assert_eq!(json, format!("\"{}\"", reference(ms)));
        }
    }
}
