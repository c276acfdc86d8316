//! The searchable plain text of a recording: what was typed and what was shown, with the
//! terminal's escape sequences (colours, cursor moves, titles) taken out, and bounded: the
//! first and the last [`SHOWN_HALF`] (typed: [`TYPED_HALF`]) of a long recording, because a
//! search mostly looks for a command or an error and those sit near the start or the end, and
//! a row per terminal must stay small however long the terminal ran.

use crate::store::recordings::RecordingText;
use std::io::BufRead;
use std::path::Path;

/// Bytes of shown text kept from the start, and as many from the end.
pub const SHOWN_HALF: usize = 64 * 1024;
/// Bytes of typed text kept from the start, and as many from the end.
pub const TYPED_HALF: usize = 16 * 1024;

/// Where an escape sequence being skipped is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Escape {
    #[default]
    None,
    /// After ESC.
    Start,
    /// `ESC [`: parameters until a final byte in `@`..=`~`.
    Csi,
    /// `ESC ]`, `ESC P`, `ESC _`, `ESC ^`, `ESC X`: a string until BEL or `ESC \`.
    Text,
    /// ESC inside such a string: `\` ends it.
    TextEsc,
    /// `ESC (`, `ESC #` and the like: one more character.
    Intermediate,
}

/// Plain text from a stream of terminal characters, fed in pieces (a sequence may be split
/// between two events), kept within `half` bytes at each end.
#[derive(Debug)]
pub struct Plain {
    escape: Escape,
    pending_cr: bool,
    /// Input: a carriage return is Enter, and DEL/backspace erase what was typed.
    typed: bool,
    half: usize,
    head: String,
    tail: String,
    /// Whether anything went to `tail` (the head is full).
    spilled: bool,
    /// Whether text fell out between the head and the tail.
    truncated: bool,
}

impl Plain {
    pub fn new(half: usize, typed: bool) -> Self {
        Self {
            escape: Escape::None,
            pending_cr: false,
            typed,
            half,
            head: String::new(),
            tail: String::new(),
            spilled: false,
            truncated: false,
        }
    }

    pub fn feed(&mut self, text: &str) {
        for c in text.chars() {
            self.char(c);
        }
    }

    fn char(&mut self, c: char) {
        match self.escape {
            Escape::None => {}
            Escape::Start => {
                self.escape = match c {
                    '[' => Escape::Csi,
                    ']' | 'P' | '_' | '^' | 'X' => Escape::Text,
                    ' '..='/' => Escape::Intermediate,
                    _ => Escape::None,
                };
                return;
            }
            Escape::Csi => {
                if ('@'..='~').contains(&c) {
                    self.escape = Escape::None;
                }
                return;
            }
            Escape::Text => {
                match c {
                    '\u{7}' | '\u{9c}' => self.escape = Escape::None,
                    '\u{1b}' => self.escape = Escape::TextEsc,
                    _ => {}
                }
                return;
            }
            Escape::TextEsc => {
                self.escape = if c == '\\' {
                    Escape::None
                } else {
                    Escape::Text
                };
                return;
            }
            Escape::Intermediate => {
                self.escape = Escape::None;
                return;
            }
        }
        if self.pending_cr {
            self.pending_cr = false;
            self.push('\n');
            if c == '\n' {
                return;
            }
        }
        match c {
            '\u{1b}' => self.escape = Escape::Start,
            '\u{9b}' => self.escape = Escape::Csi,
            '\r' if self.typed => self.push('\n'),
            // A lone carriage return rewrites the line (a progress bar): keep each version.
            '\r' => self.pending_cr = true,
            '\u{8}' | '\u{7f}' => self.erase(),
            '\n' | '\t' => self.push(c),
            c if c.is_control() => {}
            c => self.push(c),
        }
    }

    /// Backspace: echo erases a character with `\b \b`; typing erases with DEL. Either way
    /// the last character of the line goes (never across a line, never out of the head).
    fn erase(&mut self) {
        let last = if self.spilled {
            &mut self.tail
        } else {
            &mut self.head
        };
        if last.chars().last().is_some_and(|c| c != '\n') {
            last.pop();
        }
    }

    fn push(&mut self, c: char) {
        // Blank-looking runs of spaces (a cleared screen) say nothing.
        let last = if self.spilled { &self.tail } else { &self.head };
        if c == ' ' && last.ends_with("  ") {
            return;
        }
        if c == '\n' && last.ends_with("\n\n") {
            return;
        }
        if !self.spilled && self.head.len() + c.len_utf8() <= self.half {
            self.head.push(c);
            return;
        }
        self.spilled = true;
        self.tail.push(c);
        if self.tail.len() > 2 * self.half {
            let mut cut = self.tail.len() - self.half;
            while !self.tail.is_char_boundary(cut) {
                cut += 1;
            }
            self.tail.drain(..cut);
            self.truncated = true;
        }
    }

    /// The file's middle was skipped: what follows is not the continuation of what came before.
    pub fn gap(&mut self) {
        self.escape = Escape::None;
        self.pending_cr = false;
        self.truncated = true;
        let last = if self.spilled { &self.tail } else { &self.head };
        if !last.is_empty() && !last.ends_with('\n') {
            self.push('\n');
        }
    }

    /// The text, and whether its middle was left out.
    pub fn finish(self) -> (String, bool) {
        let mut out = self.head;
        let mut truncated = self.truncated;
        let mut tail = self.tail.as_str();
        if tail.len() > self.half {
            let mut cut = tail.len() - self.half;
            while !tail.is_char_boundary(cut) {
                cut += 1;
            }
            tail = &tail[cut..];
            truncated = true;
        }
        if truncated {
            out.push_str("\n…\n");
        }
        out.push_str(tail);
        (out, truncated)
    }
}

/// File bytes read from each end of a long recording. JSON escaping makes a file several times
/// longer than its text, so this covers the text kept with room to spare, and reading a
/// recording costs the same whether it holds a minute or a week.
pub const FILE_WINDOW: u64 = 1024 * 1024;

/// One line of the file into the text: output to `shown`, input to `typed`. Lines that are not
/// events (the header, a torn last line) are skipped: the text is for finding, the file stays
/// the record.
fn feed_line(line: &str, typed: &mut Plain, shown: &mut Plain) {
    let Ok(serde_json::Value::Array(event)) = serde_json::from_str(line) else {
        return;
    };
    let data = event.get(2).and_then(|d| d.as_str()).unwrap_or_default();
    match event.get(1).and_then(|c| c.as_str()) {
        Some("o") => shown.feed(data),
        Some("i") => typed.feed(data),
        _ => {}
    }
}

/// Reads an asciicast v2 file into its searchable text: all of it, or for a long file the whole
/// lines of its first and last [`FILE_WINDOW`] bytes. Works on a recording still being written
/// (a live terminal): a line cut at the end is skipped.
pub fn extract(path: &Path) -> std::io::Result<RecordingText> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path)?;
    let size_bytes = file.metadata()?.len();
    let mut typed = Plain::new(TYPED_HALF, true);
    let mut shown = Plain::new(SHOWN_HALF, false);
    if size_bytes <= 2 * FILE_WINDOW {
        for line in std::io::BufReader::new(file).lines().skip(1) {
            let Ok(line) = line else { continue };
            feed_line(&line, &mut typed, &mut shown);
        }
    } else {
        let mut window = vec![0u8; FILE_WINDOW as usize];
        file.read_exact_at(&mut window, 0)?;
        let head = String::from_utf8_lossy(&window);
        // The header first; the last line may be cut by the window.
        let lines: Vec<&str> = head.lines().skip(1).collect();
        for line in &lines[..lines.len().saturating_sub(1)] {
            feed_line(line, &mut typed, &mut shown);
        }
        typed.gap();
        shown.gap();
        file.read_exact_at(&mut window, size_bytes - FILE_WINDOW)?;
        let tail = String::from_utf8_lossy(&window);
        // The first line is cut by the window.
        for line in tail.lines().skip(1) {
            feed_line(line, &mut typed, &mut shown);
        }
    }
    let (typed, typed_cut) = typed.finish();
    let (shown, shown_cut) = shown.finish();
    Ok(RecordingText {
        typed,
        shown,
        truncated: typed_cut || shown_cut,
        size_bytes,
    })
}

/// The text around the first case-insensitive match of `needle`, on one line, with `…` where it
/// was cut; `None` without a match.
pub fn snippet(text: &str, needle: &str) -> Option<String> {
    const BEFORE: usize = 40;
    const AFTER: usize = 80;
    let needle = needle.to_lowercase();
    if needle.is_empty() {
        return None;
    }
    let chars: Vec<char> = text.chars().collect();
    // The lowercased text, and for each of its bytes the character of `text` it came from
    // (lowercasing may change lengths: `İ` becomes two characters).
    let mut folded = String::with_capacity(text.len());
    let mut from = Vec::with_capacity(text.len());
    for (i, c) in chars.iter().enumerate() {
        for l in c.to_lowercase() {
            folded.push(l);
            from.resize(folded.len(), i);
        }
    }
    let at = folded.find(&needle)?;
    let (first, last) = (from[at], from[at + needle.len() - 1]);
    let start = first.saturating_sub(BEFORE);
    let end = (last + 1 + AFTER).min(chars.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(chars[start..end].iter().map(|&c| match c {
        '\n' | '\t' => ' ',
        c => c,
    }));
    if end < chars.len() {
        out.push('…');
    }
    Some(out.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(input: &[&str], typed: bool) -> String {
        let mut p = Plain::new(1024, typed);
        for piece in input {
            p.feed(piece);
        }
        p.finish().0
    }

    #[test]
    fn escape_sequences_go_even_when_split_between_events() {
        let shown = plain(
            &[
                "\u{1b}]0;alice@web-01: ~\u{7}\u{1b}[01;32malice\u{1b}[0",
                "m$ echo hi\r\nhi\r\n\u{1b}(B\u{1b}P1$r\u{1b}\\done",
            ],
            false,
        );
        assert_eq!(shown, "alice$ echo hi\nhi\ndone");
    }

    #[test]
    fn typing_keeps_what_was_entered_after_corrections() {
        let typed = plain(&["ecjo", "\u{7f}\u{7f}ho gh", "\u{1b}[A\r", "ls\r"], true);
        assert_eq!(typed, "echo gh\nls\n");
        // Echoed backspaces erase on the screen too.
        assert_eq!(plain(&["abc\u{8} \u{8}\u{8} \u{8}d"], false), "ad");
    }

    #[test]
    fn a_long_recording_keeps_its_head_and_tail() {
        let mut p = Plain::new(10, false);
        p.feed("0123456789");
        for _ in 0..100 {
            p.feed("abcdefghij");
        }
        p.feed("THE-END");
        let (text, truncated) = p.finish();
        assert!(truncated);
        assert!(text.starts_with("0123456789"));
        assert!(text.ends_with("hijTHE-END"), "{text}");
        assert!(text.len() < 40);
    }

    #[test]
    fn snippets_surround_the_first_match_whatever_the_case() {
        assert_eq!(
            snippet("$ echo GH-Needle-42\nGH-Needle-42\n", "gh-needle").as_deref(),
            Some("$ echo GH-Needle-42 GH-Needle-42")
        );
        let long = format!("{}needle{}", "x".repeat(100), "y".repeat(100));
        let s = snippet(&long, "NEEDLE").unwrap();
        assert!(s.starts_with('…') && s.ends_with('…') && s.contains("needle"));
        assert_eq!(
            snippet("İstanbul needle", "needle").as_deref(),
            Some("İstanbul needle")
        );
        assert_eq!(snippet("nothing", "needle"), None);
    }

    #[test]
    fn a_long_file_is_read_at_both_ends_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.cast");
        let mut text = String::from("{\"version\":2}\n[0.1,\"i\",\"echo first-command\\r\"]\n");
        let filler = format!("[0.2,\"o\",\"{}\\r\\n\"]\n", "m".repeat(1000));
        while (text.len() as u64) < 3 * FILE_WINDOW {
            text.push_str(&filler);
        }
        text.push_str("[9.0,\"o\",\"last-words\\r\\n\"]\n[9.1,\"o\",\"torn");
        std::fs::write(&path, &text).unwrap();
        let read = extract(&path).unwrap();
        assert!(read.truncated);
        assert_eq!(read.typed, "echo first-command\n\n…\n");
        assert!(
            read.shown.ends_with("last-words\n"),
            "{}",
            &read.shown[read.shown.len() - 50..]
        );
        assert!(read.shown.len() <= 2 * SHOWN_HALF + 8);
        assert_eq!(read.size_bytes, text.len() as u64);
    }

    #[test]
    fn a_cast_file_reads_into_typed_and_shown_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.cast");
        std::fs::write(
            &path,
            "{\"version\":2,\"width\":80,\"height\":24}\n\
             [0.1,\"o\",\"$ \"]\n[0.2,\"input_by\",{\"name\":\"alice\"}]\n[0.3,\"i\",\"ls\\r\"]\n\
             [0.4,\"o\",\"ls\\r\\nREADME\\r\\n\"]\n[0.5,\"r\",\"100x30\"]\n[0.6,\"o\",\"tor",
        )
        .unwrap();
        let text = extract(&path).unwrap();
        assert_eq!(text.typed, "ls\n");
        assert_eq!(text.shown, "$ ls\nREADME\n");
        assert!(!text.truncated);
        assert!(text.size_bytes > 0);
    }
}
