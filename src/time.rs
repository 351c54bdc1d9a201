//! Simulated time: integer microseconds, plus parsing and display of the
//! durations and sizes that scenario files and redis.conf use.

use std::fmt;

/// An instant or a span of simulated time, in microseconds.
pub type Micros = u64;

pub const MICROS_PER_MS: Micros = 1_000;
pub const MICROS_PER_SEC: Micros = 1_000_000;

/// Node wall clocks start at this Unix time (2026-01-01T00:00:00Z, in µs)
/// rather than at zero: Redis compares `mstime()` against fields that start
/// at 0 (e.g. Sentinel's `failover_start_time`), which only works when the
/// clock reads like a real one.
pub const WALL_CLOCK_START: Micros = 1_767_225_600 * MICROS_PER_SEC;

/// The longest duration any scenario value may take: one year. Longer values
/// are typos or overflow probes; a year of simulated time already exceeds any
/// event budget, and keeping every duration below 2^45 µs means sums such as
/// `at + length` or a wall clock moved back by a clock jump never overflow.
pub const MAX_DURATION: Micros = 365 * 24 * 3600 * MICROS_PER_SEC;

/// The largest size (bytes, or bytes per second) a scenario value may take:
/// 1 TiB, far beyond anything a simulated node holds, and small enough that
/// sizes multiplied by a million (bytes per second to µs) never overflow.
pub const MAX_SIZE: u64 = 1 << 40;

pub const fn ms(n: u64) -> Micros {
    n * MICROS_PER_MS
}

pub const fn secs(n: u64) -> Micros {
    n * MICROS_PER_SEC
}

/// Parses a duration such as `250ms`, `10s`, `1.5s`, `2m`, `500us` or `1h`.
/// A bare number is rejected: units are required so that a scenario never
/// silently mixes milliseconds and seconds.
pub fn parse_duration(text: &str) -> Result<Micros, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("duration `{text}` needs a unit (us, ms, s, m or h)"))?;
    let (num, unit) = t.split_at(split);
    if num.is_empty() {
        return Err(format!("duration `{text}` does not start with a number"));
    }
    let scale: f64 = match unit.trim() {
        "us" | "µs" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" | "min" => 60e6,
        "h" => 3600e6,
        other => {
            return Err(format!(
                "unknown unit `{other}` in duration `{text}` (use us, ms, s, m or h)"
            ));
        }
    };
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{num}` in duration `{text}` is not a number"))?;
    let micros = value * scale;
    if !micros.is_finite() || !(0.0..=MAX_DURATION as f64).contains(&micros) {
        return Err(format!(
            "duration `{text}` is out of range: at most 365 days (longer values cannot be simulated within any event budget)"
        ));
    }
    Ok(micros.round() as Micros)
}

/// Parses a point in simulated time (a duration since the start of the run),
/// with a clear message for negative times.
pub fn parse_time(text: &str) -> Result<Micros, String> {
    if text.trim_start().starts_with('-') {
        return Err(format!(
            "`{text}` is before time zero: times count from the start of the run"
        ));
    }
    parse_duration(text)
}

/// Parses a memory size as redis.conf does (`memtoull`): `1k` = 1000,
/// `1kb` = 1024, `1m` = 10^6, `1mb` = 2^20, `1g`, `1gb`; a bare number is bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if num.is_empty() {
        return Err(format!("size `{text}` does not start with a number"));
    }
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        other => {
            return Err(format!(
                "unknown unit `{other}` in size `{text}` (use b, k, kb, m, mb, g or gb)"
            ));
        }
    };
    let n: u64 = num.parse().map_err(|_| {
        format!("`{num}` in size `{text}` is out of range: at most 1tb (1099511627776 bytes)")
    })?;
    n.checked_mul(mul)
        .filter(|&b| b <= MAX_SIZE)
        .ok_or_else(|| {
            format!(
                "size `{text}` is out of range: at most 1tb (1099511627776 bytes), far more than any simulated node holds"
            )
        })
}

/// Displays a simulated instant as seconds with microsecond precision.
pub struct Secs(pub Micros);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:06}s",
            self.0 / MICROS_PER_SEC,
            self.0 % MICROS_PER_SEC
        )
    }
}

/// Displays a duration compactly, in the units a person would write it.
pub fn format_duration(d: Micros) -> String {
    if d.is_multiple_of(MICROS_PER_SEC) {
        format!("{}s", d / MICROS_PER_SEC)
    } else if d.is_multiple_of(MICROS_PER_MS) {
        format!("{}ms", d / MICROS_PER_MS)
    } else {
        format!("{d}us")
    }
}

/// The words a clock jump is traced with, by the simulator and by the
/// conformance harness alike: "sentinel-1's clock jumps +30s".
pub fn clock_jump_text(node: &str, by: i64) -> String {
    let sign = if by < 0 { '-' } else { '+' };
    format!(
        "{node}'s clock jumps {sign}{}",
        format_duration(by.unsigned_abs())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("250ms"), Ok(250_000));
        assert_eq!(parse_duration("10s"), Ok(10_000_000));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000));
        assert_eq!(parse_duration("2m"), Ok(120_000_000));
        assert_eq!(parse_duration("500us"), Ok(500));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("10 parsecs").is_err());
        assert!(parse_duration("ms").is_err());
    }

    #[test]
    fn sizes_parse_like_redis_conf() {
        assert_eq!(parse_size("1mb"), Ok(1 << 20));
        assert_eq!(parse_size("1m"), Ok(1_000_000));
        assert_eq!(parse_size("16kb"), Ok(16384));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("1tb").is_err());
        assert_eq!(parse_size("1024gb"), Ok(MAX_SIZE));
        assert!(parse_size("1025gb").is_err());
        assert!(parse_size("99999999999999999999999").is_err());
    }

    #[test]
    fn durations_are_bounded() {
        assert_eq!(parse_duration("365d").ok(), None);
        assert_eq!(parse_duration("8760h"), Ok(MAX_DURATION));
        assert!(parse_duration("8761h").is_err());
        assert!(parse_duration("1e400s").is_err());
        assert!(parse_duration("99999999999999999999999999h").is_err());
    }

    #[test]
    fn instants_display_as_seconds() {
        assert_eq!(Secs(20_000_512).to_string(), "20.000512s");
        assert_eq!(format_duration(5_000_000), "5s");
        assert_eq!(format_duration(1_500), "1500us");
    }
}
