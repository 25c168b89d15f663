//! Human-readable numbers for tables: `1.2 K/s`, `24 TB/day`, `35 GB/s`, `5 y`.
//!
//! Rounding rule: a value is scaled by powers of 1000 (counts: K M B T; bytes: KB MB GB TB PB
//! EB) into [1, 1000); below 10 it shows one decimal (`1.2`), from 10 up none (`24`, `350`); a
//! trailing `.0` is dropped. Values below 1 with no prefix keep two significant digits
//! (`0.35`). Rounding that reaches 1000 moves to the next prefix (`999.7 K` is `1 M`).

use std::time::Duration;

const COUNT_PREFIXES: [&str; 5] = ["", "K", "M", "B", "T"];
const BYTE_PREFIXES: [&str; 7] = ["", "K", "M", "G", "T", "P", "E"];

/// Rounds per the module rule; returns the number text and the prefix index.
fn scaled(x: f64, max_prefix: usize) -> (String, usize) {
    if !x.is_finite() {
        return (format!("{x}"), 0);
    }
    if x == 0.0 {
        return ("0".to_string(), 0);
    }
    let mut v = x.abs();
    let mut p = 0;
    while v >= 1000.0 && p < max_prefix {
        v /= 1000.0;
        p += 1;
    }
    let sign = if x < 0.0 { "-" } else { "" };
    if v < 1.0 {
        let digits = (-v.log10()).floor() as usize + 2;
        let s = format!("{v:.digits$}");
        return (format!("{sign}{}", trim(&s)), p);
    }
    let mut r = if v < 10.0 {
        (v * 10.0).round() / 10.0
    } else {
        v.round()
    };
    if r >= 1000.0 && p < max_prefix {
        r /= 1000.0;
        p += 1;
    }
    let s = if r < 10.0 {
        format!("{r:.1}")
    } else {
        format!("{r:.0}")
    };
    (format!("{sign}{}", trim(&s)), p)
}

fn trim(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// An exact whole number with thousands separators: `7,902`, `85`, `1,234,567`.
pub fn integer(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count: `1.2 K`, `350`, `200 M`, `2 B`.
pub fn count(x: f64) -> String {
    let (n, p) = scaled(x, COUNT_PREFIXES.len() - 1);
    match COUNT_PREFIXES[p] {
        "" => n,
        prefix => format!("{n} {prefix}"),
    }
}

/// A count with a unit after it: `1.2 K/s`, `350/s`, `100 M/day`.
pub fn count_per(x: f64, per: &str) -> String {
    let (n, p) = scaled(x, COUNT_PREFIXES.len() - 1);
    match COUNT_PREFIXES[p] {
        "" => format!("{n}/{per}"),
        prefix => format!("{n} {prefix}/{per}"),
    }
}

/// Requests per second: `1.2 K/s`.
pub fn rate(x: f64) -> String {
    count_per(x, "s")
}

/// Bytes, decimal units: `1.2 PB`, `310 B`.
pub fn bytes(x: f64) -> String {
    let (n, p) = scaled(x, BYTE_PREFIXES.len() - 1);
    format!("{n} {}B", BYTE_PREFIXES[p])
}

/// Bytes per second: `35 GB/s`.
pub fn bytes_per_sec(x: f64) -> String {
    format!("{}/s", bytes(x))
}

/// Bytes per day: `24 TB/day`.
pub fn bytes_per_day(x: f64) -> String {
    format!("{}/day", bytes(x))
}

/// A duration in the largest unit that divides it into at least 1: `5 y`, `3 d`, `100 ms`.
pub fn duration(d: Duration) -> String {
    const UNITS: [(&str, f64); 8] = [
        ("y", 365.0 * 86_400.0),
        ("mo", 30.0 * 86_400.0),
        ("w", 7.0 * 86_400.0),
        ("d", 86_400.0),
        ("h", 3600.0),
        ("min", 60.0),
        ("s", 1.0),
        ("ms", 0.001),
    ];
    let s = d.as_secs_f64();
    if s == 0.0 {
        return "0 s".to_string();
    }
    for (unit, secs) in UNITS {
        let v = s / secs;
        // Prefer a unit the duration is a whole multiple of (30 d is 1 mo, 7 d is 1 w, 10 d is 10 d).
        if v >= 1.0 && ((v - v.round()).abs() < 1e-9 || unit == "ms" || secs < 86_400.0) {
            return format!("{} {unit}", count(v));
        }
    }
    format!("{} ms", count(s * 1000.0))
}

/// A fraction as a percentage: `20%`, `0.1%`.
pub fn percent(f: f64) -> String {
    format!("{}%", count(f * 100.0))
}

/// A plain factor: `2x`, `1.5x`.
pub fn factor(f: f64) -> String {
    format!("{}x", count(f))
}

#[cfg(test)]
mod tests {
    #[test]
    fn integers_get_thousands_separators() {
        assert_eq!(super::integer(0), "0");
        assert_eq!(super::integer(85), "85");
        assert_eq!(super::integer(7_902), "7,902");
        assert_eq!(super::integer(123_456), "123,456");
        assert_eq!(super::integer(1_234_567), "1,234,567");
    }

    use super::*;

    #[test]
    fn the_examples_of_the_issue() {
        assert_eq!(rate(1157.4), "1.2 K/s");
        assert_eq!(bytes_per_day(24e12), "24 TB/day");
        assert_eq!(bytes_per_sec(35.2e9), "35 GB/s");
    }

    #[test]
    fn one_decimal_below_ten_none_above() {
        assert_eq!(count(1.25), "1.3");
        assert_eq!(count(9.94), "9.9");
        assert_eq!(count(9.96), "10");
        assert_eq!(count(10.4), "10");
        assert_eq!(count(350.0), "350");
        assert_eq!(count(2000.0), "2 K");
        assert_eq!(count(2.3148e3), "2.3 K");
        assert_eq!(count(23_148.0), "23 K");
        assert_eq!(count(100e6), "100 M");
        assert_eq!(count(2e9), "2 B");
        assert_eq!(count(1.5e12), "1.5 T");
        assert_eq!(count(3e15), "3000 T");
    }

    #[test]
    fn rounding_up_to_1000_moves_to_the_next_prefix() {
        assert_eq!(count(999_700.0), "1 M");
        assert_eq!(bytes(999.6e9), "1 TB");
        assert_eq!(count(999.4), "999");
    }

    #[test]
    fn small_values_keep_two_significant_digits() {
        assert_eq!(count(0.0), "0");
        assert_eq!(count(0.35), "0.35");
        assert_eq!(count(0.0347), "0.035");
        assert_eq!(rate(0.5), "0.5/s");
        assert_eq!(count(-1500.0), "-1.5 K");
    }

    #[test]
    fn bytes_are_decimal() {
        assert_eq!(bytes(310.0), "310 B");
        assert_eq!(bytes(200_000.0), "200 KB");
        assert_eq!(bytes(1.2e15), "1.2 PB");
        assert_eq!(bytes(4e18), "4 EB");
        assert_eq!(bytes(0.0), "0 B");
    }

    #[test]
    fn durations_pick_a_whole_unit() {
        assert_eq!(duration(Duration::from_secs(5 * 365 * 86_400)), "5 y");
        assert_eq!(duration(Duration::from_secs(30 * 86_400)), "1 mo");
        assert_eq!(duration(Duration::from_secs(14 * 86_400)), "2 w");
        assert_eq!(duration(Duration::from_secs(3 * 86_400)), "3 d");
        assert_eq!(duration(Duration::from_secs(90)), "1.5 min");
        assert_eq!(duration(Duration::from_millis(100)), "100 ms");
        assert_eq!(duration(Duration::ZERO), "0 s");
    }

    #[test]
    fn percent_and_factor() {
        assert_eq!(percent(0.2), "20%");
        assert_eq!(percent(0.001), "0.1%");
        assert_eq!(factor(2.0), "2x");
        assert_eq!(factor(1.5), "1.5x");
    }
}
