//! Printing: data to stdout (a table or JSON), everything else to stderr, and server-supplied
//! text made safe for a terminal (no control characters, no bidi overrides that could make a
//! line read differently from what it is).

use crate::exit::CliError;
use serde::Serialize;
use std::io::{IsTerminal, Write};

/// Where and how this run prints.
#[derive(Debug, Clone)]
pub struct Output {
    pub json: bool,
    pub quiet: bool,
    pub color: bool,
}

impl Output {
    pub fn new(json: bool, quiet: bool, no_color: bool) -> Self {
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Output {
            json,
            quiet,
            color: !no_color && !no_color_env && std::io::stdout().is_terminal(),
        }
    }

    /// A progress message or notice (stderr; not with `-q`, nor under `--output json`, where
    /// stderr carries only the error object).
    pub fn info(&self, message: &str) {
        if !self.quiet && !self.json {
            eprintln!("{}", sanitize(message));
        }
    }

    /// A warning (stderr, even with `-q`).
    pub fn warn(&self, message: &str) {
        eprintln!("warning: {}", sanitize(message));
    }

    /// A value as JSON on stdout.
    pub fn json_value<T: Serialize>(&self, value: &T) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| CliError::failed("internal", e.to_string()))?;
        println!("{text}");
        Ok(())
    }

    /// `value` as JSON, or `table` otherwise.
    pub fn data<T: Serialize>(
        &self,
        value: &T,
        table: impl FnOnce() -> Table,
    ) -> Result<(), CliError> {
        if self.json {
            self.json_value(value)
        } else {
            table().print(self.color);
            Ok(())
        }
    }

    /// Key/value lines for one object.
    pub fn record<T: Serialize>(
        &self,
        value: &T,
        fields: Vec<(&str, String)>,
    ) -> Result<(), CliError> {
        if self.json {
            return self.json_value(value);
        }
        let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        let mut out = std::io::stdout().lock();
        for (k, v) in fields {
            let _ = writeln!(out, "{k:width$}  {}", cell(&v));
        }
        Ok(())
    }

    /// An error: one JSON object (the envelope with `exit_code`) or readable lines, on stderr.
    pub fn error(&self, e: &CliError) {
        if self.json {
            eprintln!("{}", e.json());
            return;
        }
        let env = &e.envelope;
        eprintln!("error: {}", sanitize(e.message()));
        if let Some(reason) = env["reason"].as_str() {
            eprintln!("  reason: {}", sanitize(reason));
        }
        eprintln!(
            "  code: {} (exit {})",
            sanitize(e.error_code()),
            e.exit_code
        );
        for field in env["fields"].as_array().into_iter().flatten() {
            eprintln!(
                "  {}: {}",
                sanitize(field["field"].as_str().unwrap_or_default()),
                sanitize(field["message"].as_str().unwrap_or_default())
            );
        }
        if let Some(secs) = env["retry_after_secs"].as_u64() {
            eprintln!("  retry after: {secs}s");
        }
        for next in env["next_actions"].as_array().into_iter().flatten() {
            eprintln!("  next: {}", sanitize(next.as_str().unwrap_or_default()));
        }
    }
}

/// Rows under headers, columns padded to fit.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&'static str]) -> Self {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells.iter().map(|c| cell(c)).collect());
    }

    pub fn render(&self, color: bool) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.len()).collect();
        for row in &self.rows {
            for (i, c) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(c.chars().count());
                }
            }
        }
        let line = |cells: &[String]| -> String {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    s.push_str(c);
                } else {
                    let pad = widths[i].saturating_sub(c.chars().count());
                    s.push_str(c);
                    s.push_str(&" ".repeat(pad + 2));
                }
            }
            s.trim_end().to_owned()
        };
        let header: Vec<String> = self.headers.iter().map(|h| h.to_string()).collect();
        let mut out = line(&header);
        if color {
            out = format!("\x1b[1m{out}\x1b[0m");
        }
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row));
            out.push('\n');
        }
        out
    }

    pub fn print(&self, color: bool) {
        print!("{}", self.render(color));
    }
}

/// Whether `c` must never reach a terminal: C0 and C1 controls, DEL, and the Unicode bidi
/// embedding, override, isolate and mark characters.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        )
}

/// Server-supplied text for a message: unsafe characters dropped; newlines and tabs kept.
pub fn sanitize(text: &str) -> String {
    text.chars()
        .filter(|&c| c == '\n' || c == '\t' || !is_unsafe(c))
        .collect()
}

/// Server-supplied text for one table cell or field: on one line.
pub fn cell(text: &str) -> String {
    text.chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .filter(|&c| !is_unsafe(c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_never_reach_the_terminal() {
        let hostile = "ok\x1b]0;pwned\x07 \u{202E}evil\u{202C} \u{2066}x\u{2069}\u{200E}\u{200F}\u{061C}\u{9b}31m\x7f";
        let clean = sanitize(hostile);
        assert_eq!(clean, "ok]0;pwned evil x31m");
        assert!(!clean.chars().any(is_unsafe));
        assert_eq!(sanitize("two\nlines\tand tab"), "two\nlines\tand tab");
        assert_eq!(cell("two\nlines\tand\rcr"), "two lines andcr");
        // Ordinary non-ASCII text stays.
        assert_eq!(sanitize("café — 日本 ✓"), "café — 日本 ✓");
    }

    #[test]
    fn tables_pad_columns_and_sanitise_cells() {
        let mut t = Table::new(&["ID", "PURPOSE"]);
        t.row(vec!["1".into(), "fix\u{202E}db\n".into()]);
        t.row(vec!["12345".into(), "x".into()]);
        assert_eq!(t.render(false), "ID     PURPOSE\n1      fixdb\n12345  x\n");
    }
}
