//! Unit parsing for scenario values (SPEC section 3): counts, byte sizes, durations and
//! fractions. Each parser takes the text of one YAML scalar and returns base units, or a message
//! that says what is wrong and how to write it instead. `B` is a billion in a count and bytes in
//! a size, so each parser also recognises the other kinds' units to explain a mix-up.

use std::time::Duration;

/// Seconds in a day (SPEC: a day is 86,400 s).
pub const DAY_S: f64 = 86_400.0;

const COUNT_HINT: &str =
    "write a plain number or use K, M, B, G or T (1e3, 1e6, 1e9, 1e9, 1e12), e.g. 200M";
const SIZE_HINT: &str = "write bytes as a plain number or use B, KB, MB, GB, TB, PB (x1000) or KiB, MiB, GiB, TiB, PiB (x1024), e.g. 200KB";
const DURATION_HINT: &str =
    "write a number with a unit: us, ms, s, min, h, d, w, mo (30 d) or y (365 d), e.g. 10s, 5min or 5y";
const FRACTION_HINT: &str = "write a fraction in [0, 1] like 0.2, or a percentage like 20%";

const COUNT_UNITS: [(&str, f64); 6] = [
    ("K", 1e3),
    ("k", 1e3),
    ("M", 1e6),
    ("B", 1e9),
    ("G", 1e9),
    ("T", 1e12),
];

const SIZE_UNITS: [(&str, f64); 12] = [
    ("KiB", 1024.0),
    ("MiB", 1_048_576.0),
    ("GiB", 1_073_741_824.0),
    ("TiB", 1_099_511_627_776.0),
    ("PiB", 1_125_899_906_842_624.0),
    ("kB", 1e3),
    ("KB", 1e3),
    ("MB", 1e6),
    ("GB", 1e9),
    ("TB", 1e12),
    ("PB", 1e15),
    ("B", 1.0),
];

const DURATION_UNITS: [(&str, f64); 9] = [
    ("us", 1e-6),
    ("ms", 0.001),
    ("min", 60.0),
    ("mo", 30.0 * DAY_S),
    ("s", 1.0),
    ("h", 3600.0),
    ("d", DAY_S),
    ("w", 7.0 * DAY_S),
    ("y", 365.0 * DAY_S),
];

/// Splits `text` into its numeric part and unit suffix (letters and `%` at the end).
fn split_unit(text: &str) -> (&str, &str) {
    let t = text.trim();
    let cut = t
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphabetic() || *c == '%')
        .last()
        .map_or(t.len(), |(i, _)| i);
    // `1e6` is a number, not `1` with unit `e6`: only letters after the last digit count.
    (t[..cut].trim_end(), &t[cut..])
}

/// Parses the numeric part of a value; `_` may separate digit groups.
fn number(num: &str, whole: &str, hint: &str) -> Result<f64, String> {
    let cleaned: String = num.chars().filter(|c| *c != '_').collect();
    let x: f64 = cleaned
        .parse()
        .map_err(|_| format!("`{whole}` is not a number; {hint}"))?;
    if !x.is_finite() {
        return Err(format!("`{whole}` is not a finite number; {hint}"));
    }
    if x < 0.0 {
        return Err(format!("`{whole}` is negative; {hint}"));
    }
    Ok(x)
}

fn lookup(units: &[(&str, f64)], unit: &str) -> Option<f64> {
    units.iter().find(|(u, _)| *u == unit).map(|(_, m)| *m)
}

fn is_size_unit(unit: &str) -> bool {
    unit != "B" && lookup(&SIZE_UNITS, unit).is_some()
}

/// A count: `200M`, `10K`, `0.5`, `1e-4`. Non-negative.
pub fn count(text: &str) -> Result<f64, String> {
    let (num, unit) = split_unit(text);
    if num.is_empty() && !unit.is_empty() {
        return Err(format!("`{text}` is not a count; {COUNT_HINT}"));
    }
    if unit.is_empty() {
        return number(num, text, COUNT_HINT);
    }
    if let Some(m) = lookup(&COUNT_UNITS, unit) {
        return Ok(number(num, text, COUNT_HINT)? * m);
    }
    if is_size_unit(unit) {
        return Err(format!(
            "`{text}` is a size but a count is expected here; {COUNT_HINT} (B means billion in a count)"
        ));
    }
    if lookup(&DURATION_UNITS, unit).is_some() {
        return Err(format!(
            "`{text}` is a duration but a count is expected here; {COUNT_HINT}"
        ));
    }
    if unit == "%" {
        return Err(format!(
            "`{text}` is a percentage but a count is expected here; {COUNT_HINT}"
        ));
    }
    Err(format!(
        "`{text}`: unknown unit `{unit}` for a count; {COUNT_HINT}"
    ))
}

/// A byte size: `200KB`, `1.5GiB`, `100B`, `310` (bytes). Rounded to the nearest byte.
pub fn size(text: &str) -> Result<u64, String> {
    let (num, unit) = split_unit(text);
    if num.is_empty() && !unit.is_empty() {
        return Err(format!("`{text}` is not a size; {SIZE_HINT}"));
    }
    let mult = if unit.is_empty() {
        1.0
    } else if let Some(m) = lookup(&SIZE_UNITS, unit) {
        m
    } else if lookup(&COUNT_UNITS, unit).is_some() {
        return Err(format!(
            "`{text}` is a count but a size is expected here; {SIZE_HINT} (did you mean {num}{}B?)",
            unit.to_ascii_uppercase()
        ));
    } else if lookup(&DURATION_UNITS, unit).is_some() {
        return Err(format!(
            "`{text}` is a duration but a size is expected here; {SIZE_HINT}"
        ));
    } else {
        return Err(format!(
            "`{text}`: unknown unit `{unit}` for a size; {SIZE_HINT}"
        ));
    };
    let bytes = (number(num, text, SIZE_HINT)? * mult).round();
    if bytes >= u64::MAX as f64 {
        return Err(format!("`{text}` is too large a size"));
    }
    Ok(bytes as u64)
}

/// A duration: `100ms`, `10s`, `5min`, `3d`, `5y`. A bare `0` is zero; other bare numbers need a
/// unit. Rounded to the nearest nanosecond.
pub fn duration(text: &str) -> Result<Duration, String> {
    let (num, unit) = split_unit(text);
    if num.is_empty() && !unit.is_empty() {
        return Err(format!("`{text}` is not a duration; {DURATION_HINT}"));
    }
    let mult = if unit.is_empty() {
        if number(num, text, DURATION_HINT)? == 0.0 {
            return Ok(Duration::ZERO);
        }
        return Err(format!("`{text}` has no unit; {DURATION_HINT}"));
    } else if let Some(m) = lookup(&DURATION_UNITS, unit) {
        m
    } else if unit == "m" {
        return Err(format!(
            "`{text}`: `m` is ambiguous; write min for minutes or mo for months"
        ));
    } else {
        return Err(format!(
            "`{text}`: unknown unit `{unit}` for a duration; {DURATION_HINT}"
        ));
    };
    let secs = number(num, text, DURATION_HINT)? * mult;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("`{text}` is too long a duration"))
}

/// A fraction in [0, 1]: `0.2` or `20%`.
pub fn fraction(text: &str) -> Result<f64, String> {
    let x = ratio(text, FRACTION_HINT)?;
    check_fraction(x, text)
}

/// Checks that an already-numeric fraction lies in [0, 1].
pub fn check_fraction(x: f64, text: &str) -> Result<f64, String> {
    if (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("`{text}` is outside [0, 1]; {FRACTION_HINT}"))
    }
}

/// A non-negative ratio that may exceed 1: `2`, `150%`, `1e-4`.
pub fn ratio(text: &str, hint: &str) -> Result<f64, String> {
    let (num, unit) = split_unit(text);
    match unit {
        "" => number(num, text, hint),
        "%" => Ok(number(num, text, hint)? / 100.0),
        _ => Err(format!("`{text}`: unknown unit `{unit}`; {hint}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_use_decimal_suffixes_and_b_is_billion() {
        assert_eq!(count("200M"), Ok(200e6));
        assert_eq!(count("10K"), Ok(10e3));
        assert_eq!(count("10k"), Ok(10e3));
        assert_eq!(count("2B"), Ok(2e9));
        assert_eq!(count("2G"), Ok(2e9));
        assert_eq!(count("1.5T"), Ok(1.5e12));
        assert_eq!(count("0.5"), Ok(0.5));
        assert_eq!(count("1e-4"), Ok(1e-4));
        assert_eq!(count("1_000"), Ok(1000.0));
        assert_eq!(count(" 7 "), Ok(7.0));
        assert_eq!(count("3 M"), Ok(3e6));
    }

    #[test]
    fn count_errors_explain_the_mix_up() {
        let e = count("200KB").unwrap_err();
        assert!(e.contains("is a size but a count is expected"), "{e}");
        assert!(count("5s").unwrap_err().contains("is a duration"));
        assert!(count("5%").unwrap_err().contains("percentage"));
        let e = count("12X").unwrap_err();
        assert!(e.contains("unknown unit `X` for a count"), "{e}");
        assert!(e.contains("K, M, B, G or T"), "{e}");
        assert!(count("-3").unwrap_err().contains("negative"));
        assert!(count("abc").unwrap_err().contains("not a count"));
        assert!(count("").unwrap_err().contains("not a number"));
        assert!(count("inf").is_err());
    }

    #[test]
    fn sizes_are_decimal_or_binary_and_bare_numbers_are_bytes() {
        assert_eq!(size("100B"), Ok(100));
        assert_eq!(size("310"), Ok(310));
        assert_eq!(size("200KB"), Ok(200_000));
        assert_eq!(size("200kB"), Ok(200_000));
        assert_eq!(size("1MB"), Ok(1_000_000));
        assert_eq!(size("4TB"), Ok(4_000_000_000_000));
        assert_eq!(size("1PB"), Ok(1_000_000_000_000_000));
        assert_eq!(size("1KiB"), Ok(1024));
        assert_eq!(size("1.5KiB"), Ok(1536));
        assert_eq!(size("2MiB"), Ok(2 * 1024 * 1024));
        assert_eq!(size("1GiB"), Ok(1 << 30));
        assert_eq!(size("1TiB"), Ok(1 << 40));
    }

    #[test]
    fn sizes_round_to_the_nearest_byte() {
        assert_eq!(size("0.4"), Ok(0));
        assert_eq!(size("0.5"), Ok(1));
        assert_eq!(size("1.0004KB"), Ok(1000));
        assert_eq!(size("1.0006KB"), Ok(1001));
    }

    #[test]
    fn size_errors_explain_the_mix_up() {
        let e = size("200K").unwrap_err();
        assert!(e.contains("is a count but a size is expected"), "{e}");
        assert!(e.contains("did you mean 200KB?"), "{e}");
        assert!(size("3d").unwrap_err().contains("duration"));
        assert!(size("3Mb").unwrap_err().contains("unknown unit `Mb`"));
        assert!(size("-1KB").unwrap_err().contains("negative"));
        assert!(size("1e30PB").unwrap_err().contains("too large"));
    }

    #[test]
    fn durations_cover_every_unit() {
        assert_eq!(duration("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(duration("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(duration("5min"), Ok(Duration::from_secs(300)));
        assert_eq!(duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(duration("3d"), Ok(Duration::from_secs(3 * 86_400)));
        assert_eq!(duration("1w"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(duration("1mo"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(duration("5y"), Ok(Duration::from_secs(5 * 365 * 86_400)));
        assert_eq!(duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(duration("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn duration_errors() {
        assert!(duration("10").unwrap_err().contains("has no unit"));
        assert!(duration("10m").unwrap_err().contains("ambiguous"));
        assert!(duration("10x").unwrap_err().contains("unknown unit `x`"));
        assert!(duration("-1s").unwrap_err().contains("negative"));
        assert!(duration("1e300y").unwrap_err().contains("too long"));
    }

    #[test]
    fn fractions_accept_percentages_and_reject_out_of_range() {
        assert_eq!(fraction("0.1%"), Ok(0.001));
        assert_eq!(fraction("20%"), Ok(0.2));
        assert_eq!(fraction("0.7"), Ok(0.7));
        assert_eq!(fraction("0"), Ok(0.0));
        assert_eq!(fraction("1"), Ok(1.0));
        let e = fraction("1.5").unwrap_err();
        assert!(e.contains("outside [0, 1]"), "{e}");
        assert!(fraction("150%").unwrap_err().contains("outside [0, 1]"));
        assert!(fraction("-0.1").is_err());
        assert!(fraction("5KB").unwrap_err().contains("unknown unit"));
    }
}
