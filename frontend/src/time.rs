//! Time in the console: the browser clock and human-readable windows.

use chrono::{DateTime, Utc};

/// Now, from the browser's clock (chrono's own clock is unavailable in wasm without JS bindings).
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

/// `2026-11-24 13:05 UTC`.
pub fn format_at(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `2h 05m`, `4m 10s`, `12s` for a positive number of seconds.
pub fn format_duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

/// Seconds from now until `at` (negative once past).
pub fn secs_until(at: &DateTime<Utc>) -> i64 {
    (*at - now()).num_seconds()
}

/// Parses the value of an `<input type="datetime-local">` (browser local time) into UTC.
pub fn parse_local_input(value: &str) -> Option<DateTime<Utc>> {
    if value.is_empty() {
        return None;
    }
    let millis = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(value)).get_time();
    if millis.is_nan() {
        return None;
    }
    DateTime::from_timestamp_millis(millis as i64)
}

/// The `<input type="datetime-local">` value (browser local time) for a UTC moment.
pub fn to_local_input(at: &DateTime<Utc>) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        at.timestamp_millis() as f64
    ));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes()
    )
}

/// Converts a datetime-local value into the RFC 3339 text the API takes (empty stays empty).
pub fn local_input_to_rfc3339(value: &str) -> String {
    parse_local_input(value)
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The reverse of [`local_input_to_rfc3339`], for filling an input from the URL.
pub fn rfc3339_to_local_input(value: &str) -> String {
    DateTime::parse_from_rfc3339(value)
        .map(|at| to_local_input(&at.with_timezone(&Utc)))
        .unwrap_or_default()
}

/// The browser's offset from UTC now, as `UTC`, `UTC+1` or `UTC−3:30`: what a `datetime-local`
/// input's value means, said next to it.
pub fn local_zone() -> String {
    // getTimezoneOffset is UTC minus local time, in minutes.
    let offset = -(js_sys::Date::new_0().get_timezone_offset() as i64);
    if offset == 0 {
        return "UTC".to_owned();
    }
    let sign = if offset > 0 { '+' } else { '−' };
    let (h, m) = (offset.abs() / 60, offset.abs() % 60);
    if m == 0 {
        format!("UTC{sign}{h}")
    } else {
        format!("UTC{sign}{h}:{m:02}")
    }
}

/// `(your time, UTC+1)`, for the label of a time input.
pub fn your_time() -> String {
    format!("(your time, {})", local_zone())
}
