//! Time as the store keeps it: integer microseconds since the Unix epoch.

use chrono::{DateTime, Utc};

/// Now, truncated to microseconds so that what is stored reads back identical.
pub fn now() -> DateTime<Utc> {
    from_micros(Utc::now().timestamp_micros())
}

pub fn to_micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// Out-of-range values (which only a hand-edited database holds) clamp to the epoch.
pub fn from_micros(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

pub fn opt_from_micros(micros: Option<i64>) -> Option<DateTime<Utc>> {
    micros.map(from_micros)
}
