//! A transfer's progress line on stderr (bytes, rate, time left), drawn only when stderr is a
//! terminal and messages are wanted: a pipe or a log file never receives carriage returns.

use crate::output::{sanitize, Output};
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often the line is redrawn at most.
const REDRAW: Duration = Duration::from_millis(100);

/// One transfer's progress. Shared by reference with the code that moves the bytes.
#[derive(Debug)]
pub struct Progress {
    state: Option<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    label: String,
    total: Option<u64>,
    done: u64,
    started: Instant,
    drawn: Option<Instant>,
    /// The last state was drawn with its line end.
    finished: bool,
}

impl Progress {
    /// A progress line for `label`, drawn only when `out` shows messages on a terminal.
    pub fn new(out: &Output, label: &str, total: Option<u64>) -> Self {
        let shown = !out.quiet && !out.json && std::io::stderr().is_terminal();
        Progress {
            state: shown.then(|| {
                Mutex::new(State {
                    label: sanitize(label),
                    total,
                    done: 0,
                    started: Instant::now(),
                    drawn: None,
                    finished: false,
                })
            }),
        }
    }

    /// A progress that never draws.
    pub fn hidden() -> Self {
        Progress { state: None }
    }

    /// The total became known (a download's Content-Length).
    pub fn set_total(&self, total: u64) {
        if let Some(state) = &self.state {
            if let Ok(mut s) = state.lock() {
                s.total = Some(total);
            }
        }
    }

    /// `n` more bytes moved.
    pub fn add(&self, n: usize) {
        let Some(state) = &self.state else { return };
        let Ok(mut s) = state.lock() else { return };
        s.done += n as u64;
        let now = Instant::now();
        if s.drawn.is_none_or(|at| now.duration_since(at) >= REDRAW) {
            s.drawn = Some(now);
            draw(&s, now, false);
        }
    }

    /// The transfer ended: the last state, and the line is left in place.
    pub fn finish(&self) {
        let Some(state) = &self.state else { return };
        let Ok(mut s) = state.lock() else { return };
        s.finished = true;
        draw(&s, Instant::now(), true);
    }
}

impl Drop for Progress {
    /// A transfer that failed half-way ends its line, so the error starts on a line of its own.
    fn drop(&mut self) {
        let Some(state) = &self.state else { return };
        let Ok(s) = state.lock() else { return };
        if s.drawn.is_some() && !s.finished {
            eprintln!();
        }
    }
}

fn draw(s: &State, now: Instant, last: bool) {
    let secs = now.duration_since(s.started).as_secs_f64();
    let rate = if secs > 0.0 {
        s.done as f64 / secs
    } else {
        0.0
    };
    let mut line = format!("\r\x1b[K{}  {}", s.label, bytes(s.done));
    if let Some(total) = s.total {
        let pct = (s.done.min(total) * 100).checked_div(total).unwrap_or(100);
        line.push_str(&format!(" / {} {pct:>3}%", bytes(total)));
    }
    line.push_str(&format!("  {}/s", bytes(rate as u64)));
    match (last, s.total) {
        (true, _) => line.push_str(&format!("  {}\n", clock(secs))),
        (false, Some(total)) if rate > 0.0 => {
            let left = total.saturating_sub(s.done) as f64 / rate;
            line.push_str(&format!("  ETA {}", clock(left)));
        }
        _ => {}
    }
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(line.as_bytes());
    let _ = err.flush();
}

/// `1.5 MiB` for a number of bytes.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `0:07` or `1:02:05` for a number of seconds.
fn clock(secs: f64) -> String {
    gatehouse_shared::asciicast::format_clock(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(20 * 1024 * 1024), "20.0 MiB");
    }

    #[test]
    fn a_hidden_progress_counts_nothing_and_draws_nothing() {
        let p = Progress::hidden();
        p.add(10);
        p.set_total(5);
        p.finish();
        assert!(p.state.is_none());
    }
}
