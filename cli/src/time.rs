//! Durations (`90s`, `15m`, `1h30m`, `7d`) and times (RFC 3339) as flags take them.

use crate::exit::CliError;
use chrono::{DateTime, Duration, Utc};

/// A duration such as `45s`, `15m`, `1h30m`, `2d`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, CliError> {
    let bad = || {
        CliError::usage(format!(
            "{text:?} is not a duration (such as 90s, 15m, 1h30m, 2d)"
        ))
    };
    let text = text.trim();
    if let Ok(secs) = text.parse::<i64>() {
        return if secs > 0 {
            Ok(Duration::seconds(secs))
        } else {
            Err(bad())
        };
    }
    let mut total: i64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: i64 = number.parse().map_err(|_| bad())?;
        number.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(bad()),
        };
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    if !number.is_empty() || total <= 0 {
        return Err(bad());
    }
    Ok(Duration::seconds(total))
}

/// An RFC 3339 time.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, CliError> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            CliError::usage(format!(
                "{text:?} is not an RFC 3339 time (such as 2026-01-31T09:00:00Z)"
            ))
        })
}

/// A time, or a duration before now.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, CliError> {
    parse_time(text).or_else(|_| parse_duration(text).map(|d| now - d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times_parse_and_nonsense_is_a_usage_error() {
        assert_eq!(parse_duration("90").unwrap(), Duration::seconds(90));
        assert_eq!(parse_duration("15m").unwrap(), Duration::minutes(15));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::minutes(90));
        assert_eq!(parse_duration("2d").unwrap(), Duration::days(2));
        for bad in ["", "0", "-5", "1x", "h", "10m5", "99999999999999999999d"] {
            assert_eq!(parse_duration(bad).unwrap_err().exit_code, 2, "{bad}");
        }
        let now = parse_time("2026-01-31T09:00:00Z").unwrap();
        assert_eq!(
            parse_since("1h", now).unwrap(),
            parse_time("2026-01-31T08:00:00Z").unwrap()
        );
        assert_eq!(
            parse_since("2026-01-30T00:00:00+01:00", now).unwrap(),
            parse_time("2026-01-29T23:00:00Z").unwrap()
        );
        assert!(parse_since("yesterday", now).is_err());
    }
}
