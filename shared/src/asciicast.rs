//! asciicast v2 recordings (what `GET /api/websh/{id}/recording` returns), parsed without any
//! browser types: the console's player and `gate play` read them the same way.
//!
//! The first line is a JSON header `{version, width, height, ...}`; every further line is an
//! event `[time, code, data]`: `"o"` output, `"i"` input, `"r"` resize (`"COLSxROWS"`).

use serde::Deserialize;

/// The header fields playback needs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Header {
    pub version: u32,
    pub width: u16,
    pub height: u16,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub timestamp: Option<i64>,
}

/// What happened at one moment of the recording.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    Output(String),
    /// Keystrokes, kept for the audit trail; playback never writes them to the screen.
    Input(String),
    Resize {
        cols: u16,
        rows: u16,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Seconds since the start.
    pub time: f64,
    pub kind: EventKind,
}

/// A parsed recording; events are in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    pub header: Header,
    pub events: Vec<Event>,
}

/// One thing to do to the screen during playback.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Write(String),
    Resize { cols: u16, rows: u16 },
}

/// Why a recording cannot be played.
#[derive(Debug, Clone, PartialEq)]
pub enum ParseError {
    Empty,
    BadHeader(String),
    UnsupportedVersion(u32),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Empty => f.write_str("the recording is empty"),
            ParseError::BadHeader(e) => write!(f, "the recording's header is unreadable: {e}"),
            ParseError::UnsupportedVersion(v) => {
                write!(f, "asciicast version {v} is not supported (only 2)")
            }
        }
    }
}

/// Parses asciicast v2 text. Lines that are not well-formed events are skipped, so a recording
/// whose last line was torn by a crash still plays up to that point.
pub fn parse(text: &str) -> Result<Recording, ParseError> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next().ok_or(ParseError::Empty)?;
    let header: Header =
        serde_json::from_str(first).map_err(|e| ParseError::BadHeader(e.to_string()))?;
    if header.version != 2 {
        return Err(ParseError::UnsupportedVersion(header.version));
    }
    let mut events = Vec::new();
    let mut last = 0.0f64;
    for line in lines {
        let Some(mut event) = parse_event(line) else {
            continue;
        };
        // Time never runs backwards in a well-formed recording; clamp rather than reorder.
        event.time = event.time.max(last);
        last = event.time;
        events.push(event);
    }
    Ok(Recording { header, events })
}

fn parse_event(line: &str) -> Option<Event> {
    let (time, code, data): (f64, String, String) = serde_json::from_str(line).ok()?;
    if !time.is_finite() || time < 0.0 {
        return None;
    }
    let kind = match code.as_str() {
        "o" => EventKind::Output(data),
        "i" => EventKind::Input(data),
        "r" => {
            let (cols, rows) = parse_size(&data)?;
            EventKind::Resize { cols, rows }
        }
        // Markers and future codes do not change the screen.
        _ => return None,
    };
    Some(Event { time, kind })
}

/// `"80x24"` → `(80, 24)`.
pub fn parse_size(text: &str) -> Option<(u16, u16)> {
    let (cols, rows) = text.split_once('x')?;
    let cols: u16 = cols.trim().parse().ok()?;
    let rows: u16 = rows.trim().parse().ok()?;
    (cols > 0 && rows > 0).then_some((cols, rows))
}

impl Recording {
    /// The time of the last event, in seconds.
    pub fn duration(&self) -> f64 {
        self.events.last().map_or(0.0, |e| e.time)
    }

    /// How many events happen at or before `time`: the index playback continues from.
    pub fn index_at(&self, time: f64) -> usize {
        self.events.partition_point(|e| e.time <= time)
    }

    /// What the screen must do for events `from..to`, with consecutive output merged into one
    /// write (a seek writes everything up to its time at once). Input is left out.
    pub fn steps(&self, from: usize, to: usize) -> Vec<Step> {
        let to = to.min(self.events.len());
        let mut steps: Vec<Step> = Vec::new();
        for event in self.events.get(from..to).unwrap_or_default() {
            match &event.kind {
                EventKind::Output(data) => match steps.last_mut() {
                    Some(Step::Write(text)) => text.push_str(data),
                    _ => steps.push(Step::Write(data.clone())),
                },
                EventKind::Resize { cols, rows } => steps.push(Step::Resize {
                    cols: *cols,
                    rows: *rows,
                }),
                EventKind::Input(_) => {}
            }
        }
        steps
    }

    /// The recorded keystrokes with their times.
    pub fn inputs(&self) -> impl Iterator<Item = (f64, &str)> {
        self.events.iter().filter_map(|e| match &e.kind {
            EventKind::Input(data) => Some((e.time, data.as_str())),
            _ => None,
        })
    }
}

/// `1:05` or `1:02:05` for a number of seconds.
pub fn format_clock(secs: f64) -> String {
    let total = if secs.is_finite() {
        secs.max(0.0) as u64
    } else {
        0
    };
    let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Keystrokes as readable text: control characters spelled out (`\r`, `^C`, `\x1b`).
pub fn printable(data: &str) -> String {
    let mut out = String::with_capacity(data.len());
    for c in data.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\x1b' => out.push_str("\\e"),
            '\x7f' => out.push_str("^?"),
            c if (c as u32) < 0x20 => {
                out.push('^');
                out.push(char::from(b'@' + c as u8));
            }
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = concat!(
        r#"{"version":2,"width":80,"height":24,"timestamp":1700000000,"title":"web-01","env":{"TERM":"xterm-256color"}}"#,
        "\n",
        r#"[0.1,"o","$ "]"#,
        "\n",
        r#"[0.5,"i","ls\r"]"#,
        "\n",
        r#"[0.6,"o","ls\r\n"]"#,
        "\n",
        r#"[0.7,"o","a b\r\n"]"#,
        "\n",
        r#"[1.0,"r","100x30"]"#,
        "\n",
        r#"[1.5,"m","marker"]"#,
        "\n",
        r#"[2.25,"o","$ "]"#,
        "\n",
    );

    #[test]
    fn parses_header_and_events() {
        let rec = parse(SAMPLE).unwrap();
        assert_eq!(rec.header.width, 80);
        assert_eq!(rec.header.height, 24);
        assert_eq!(rec.header.title.as_deref(), Some("web-01"));
        // The marker is dropped; everything else is kept in order.
        assert_eq!(rec.events.len(), 6);
        assert_eq!(rec.events[1].kind, EventKind::Input("ls\r".into()));
        assert_eq!(
            rec.events[4].kind,
            EventKind::Resize {
                cols: 100,
                rows: 30
            }
        );
        assert_eq!(rec.duration(), 2.25);
        assert_eq!(rec.inputs().collect::<Vec<_>>(), vec![(0.5, "ls\r")]);
    }

    #[test]
    fn steps_merge_output_and_leave_out_input() {
        let rec = parse(SAMPLE).unwrap();
        assert_eq!(
            rec.steps(0, rec.index_at(1.2)),
            vec![
                Step::Write("$ ls\r\na b\r\n".into()),
                Step::Resize {
                    cols: 100,
                    rows: 30
                },
            ]
        );
        assert_eq!(rec.steps(5, 99), vec![Step::Write("$ ".into())]);
        assert_eq!(rec.steps(9, 99), vec![]);
    }

    #[test]
    fn index_at_counts_events_at_or_before() {
        let rec = parse(SAMPLE).unwrap();
        assert_eq!(rec.index_at(0.0), 0);
        assert_eq!(rec.index_at(0.1), 1);
        assert_eq!(rec.index_at(0.65), 3);
        assert_eq!(rec.index_at(100.0), rec.events.len());
    }

    #[test]
    fn torn_and_odd_lines_are_skipped() {
        let text = concat!(
            r#"{"version":2,"width":10,"height":5}"#,
            "\n\n",
            r#"[0.5,"o","a"]"#,
            "\n",
            r#"[0.2,"o","b"]"#,
            "\n",
            r#"[-1,"o","c"]"#,
            "\n",
            r#"[0.9,"r","wide"]"#,
            "\n",
            r#"[1.0,"o","d"#,
        );
        let rec = parse(text).unwrap();
        let times: Vec<f64> = rec.events.iter().map(|e| e.time).collect();
        // The out-of-order event is clamped, the bad ones are gone.
        assert_eq!(times, vec![0.5, 0.5]);
        assert_eq!(rec.header.title, None);
    }

    #[test]
    fn bad_headers_are_errors() {
        assert_eq!(parse(""), Err(ParseError::Empty));
        assert!(matches!(parse("not json"), Err(ParseError::BadHeader(_))));
        assert_eq!(
            parse(r#"{"version":1,"width":1,"height":1}"#),
            Err(ParseError::UnsupportedVersion(1))
        );
    }

    #[test]
    fn sizes_clocks_and_keystrokes() {
        assert_eq!(parse_size("80x24"), Some((80, 24)));
        assert_eq!(parse_size("0x24"), None);
        assert_eq!(parse_size("80"), None);
        assert_eq!(format_clock(65.9), "1:05");
        assert_eq!(format_clock(3725.0), "1:02:05");
        assert_eq!(format_clock(f64::NAN), "0:00");
        assert_eq!(printable("ls -l\r\x03\x1b[A"), "ls -l\\r^C\\e[A");
    }
}
