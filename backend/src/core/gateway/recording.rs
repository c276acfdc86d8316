//! Terminal recordings as asciicast v2 (output, input and resize events), playable by the console
//! and by `asciinema play`. A sidecar `.offset` file keeps the exact output byte count that has
//! reached the disk, so a restarted gateway knows from where to ask the agent to resend.
//!
//! Events are buffered and handed to the operating system in batches ([`Recorder::flush`]): before
//! the agent gets credit for output (so a gateway crash loses nothing acknowledged: the agent
//! resends the rest), at least once a second while the terminal lives, and when the recording
//! closes; a keystroke's echo costs no system call here. The files are synced to the disk at
//! least every [`SYNC_INTERVAL`] while output flows (off the link's reader, which must get back
//! to keystrokes), and when the recording closes.

use crate::core::gateway::viewers::ViewerIdentity;
use gatehouse_shared::ParticipantId;
use serde_json::json;
use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The file a terminal's recording is written to, under `<data-dir>/recordings`.
pub fn file_name(terminal: uuid::Uuid) -> String {
    format!("{terminal}.cast")
}

/// Room for a whole output chunk once escaped, so one chunk is one `write`.
const WRITE_BUFFER: usize = 256 * 1024;

/// The longest output stays written but not synced to the disk.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// Decodes a byte stream as UTF-8 across chunk boundaries: an incomplete trailing sequence waits
/// for the next chunk; invalid bytes become U+FFFD.
#[derive(Debug, Default)]
pub struct Utf8Carry {
    pending: Vec<u8>,
}

impl Utf8Carry {
    pub fn decode<'a>(&mut self, bytes: &'a [u8]) -> Cow<'a, str> {
        // The usual case, nothing carried and the chunk valid up to perhaps an incomplete last
        // character, is borrowed: terminal output is recorded with no copy before its escaping.
        if self.pending.is_empty() {
            match std::str::from_utf8(bytes) {
                Ok(text) => return Cow::Borrowed(text),
                Err(e) if e.error_len().is_none() => {
                    let (valid, tail) = bytes.split_at(e.valid_up_to());
                    self.pending.extend_from_slice(tail);
                    return Cow::Borrowed(std::str::from_utf8(valid).unwrap_or_default());
                }
                Err(_) => {}
            }
        }
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        let mut rest: &[u8] = &self.pending;
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    out.push_str(s);
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    // The prefix was just validated, so this cannot fail.
                    out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match e.error_len() {
                        Some(n) => {
                            out.push('\u{FFFD}');
                            rest = &after[n..];
                        }
                        None => {
                            rest = after;
                            break;
                        }
                    }
                }
            }
        }
        self.pending = rest.to_vec();
        Cow::Owned(out)
    }
}

/// An open recording.
pub struct Recorder {
    file: std::io::BufWriter<File>,
    offset_file: File,
    started: Instant,
    /// Seconds already elapsed when this process took the recording over (after a restart).
    time_base: f64,
    output: Utf8Carry,
    input: Utf8Carry,
    output_bytes: u64,
    /// The output byte count the offset file holds.
    offset_written: u64,
    /// Who the last `i` event belongs to (an `input_by` event precedes a change).
    last_typist: Option<ParticipantId>,
    synced_at: Instant,
    /// Background syncs: whether one runs now, and whether one failed.
    sync: Arc<SyncState>,
}

/// Shared with the background sync: at most one runs at a time, and a failure is reported by
/// the next write.
#[derive(Debug, Default)]
struct SyncState {
    running: AtomicBool,
    failed: AtomicBool,
}

/// The event type attributing the input events after it to one participant.
pub const INPUT_BY: &str = "input_by";

impl Recorder {
    /// Creates `path` with the asciicast header.
    pub fn create(path: &Path, cols: u16, rows: u16, title: &str) -> std::io::Result<Self> {
        let mut file = std::io::BufWriter::with_capacity(WRITE_BUFFER, File::create(path)?);
        let header = json!({
            "version": 2,
            "width": cols,
            "height": rows,
            "timestamp": chrono::Utc::now().timestamp(),
            "title": title,
            "env": {"TERM": "xterm-256color"},
        });
        writeln!(file, "{header}")?;
        file.flush()?;
        let offset_file = File::create(offset_path(path))?;
        offset_file.write_all_at(&0u64.to_be_bytes(), 0)?;
        Ok(Self {
            file,
            offset_file,
            started: Instant::now(),
            time_base: 0.0,
            output: Utf8Carry::default(),
            input: Utf8Carry::default(),
            output_bytes: 0,
            offset_written: 0,
            last_typist: None,
            synced_at: Instant::now(),
            sync: Arc::default(),
        })
    }

    /// Reopens a recording after a gateway restart, appending from where the disk left off.
    pub fn reopen(path: &Path) -> std::io::Result<(Self, Vec<u8>)> {
        let recovered = recover(path)?;
        let file = std::fs::OpenOptions::new().append(true).open(path)?;
        let offset_file = std::fs::OpenOptions::new()
            .write(true)
            .open(offset_path(path))?;
        Ok((
            Self {
                file: std::io::BufWriter::with_capacity(WRITE_BUFFER, file),
                offset_file,
                started: Instant::now(),
                time_base: recovered.last_time,
                output: Utf8Carry::default(),
                input: Utf8Carry::default(),
                output_bytes: recovered.output_bytes,
                offset_written: recovered.output_bytes,
                last_typist: None,
                synced_at: Instant::now(),
                sync: Arc::default(),
            },
            recovered.tail,
        ))
    }

    fn elapsed(&self) -> f64 {
        self.time_base + self.started.elapsed().as_secs_f64()
    }

    /// One `[time, code, data]` line, escaped straight into the buffer (the recording is the
    /// gateway's costliest step per output byte, so no JSON value or formatter in between).
    fn event(&mut self, code: &str, data: &str) -> std::io::Result<()> {
        let t = (self.elapsed() * 1e6).round() / 1e6;
        self.file.write_all(b"[")?;
        serde_json::to_writer(&mut self.file, &t)?;
        self.file.write_all(b",")?;
        serde_json::to_writer(&mut self.file, code)?;
        self.file.write_all(b",")?;
        serde_json::to_writer(&mut self.file, data)?;
        self.file.write_all(b"]\n")
    }

    /// Records output in the buffer: nothing reaches the operating system before [`Recorder::flush`],
    /// which must come before the agent is credited for it.
    pub fn output(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let text = self.output.decode(bytes);
        if !text.is_empty() {
            self.event("o", &text)?;
        }
        self.output_bytes += bytes.len() as u64;
        Ok(())
    }

    /// Hands what is buffered to the operating system and notes how much output that covers,
    /// so a restarted gateway resumes from there; starts a sync to the disk once per
    /// [`SYNC_INTERVAL`]. Returns the output byte count now written (nothing to do is cheap:
    /// no system call).
    pub fn flush(&mut self) -> std::io::Result<u64> {
        if !self.file.buffer().is_empty() {
            self.file.flush()?;
        }
        if self.offset_written != self.output_bytes {
            self.offset_file
                .write_all_at(&self.output_bytes.to_be_bytes(), 0)?;
            self.offset_written = self.output_bytes;
        }
        if self.sync.failed.load(Ordering::Relaxed) {
            return Err(std::io::Error::other(
                "syncing the recording to disk failed",
            ));
        }
        if self.synced_at.elapsed() >= SYNC_INTERVAL {
            self.synced_at = Instant::now();
            self.sync_in_background()?;
        }
        Ok(self.output_bytes)
    }

    /// Syncs both files on a blocking thread, so a slow disk never stalls the agent link; one
    /// sync at a time (the next interval catches up with whatever a long one left).
    fn sync_in_background(&self) -> std::io::Result<()> {
        if self.sync.running.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let file = self.file.get_ref().try_clone()?;
        let offset = self.offset_file.try_clone()?;
        let sync = self.sync.clone();
        let run = move || {
            if let Err(e) = file.sync_data().and_then(|()| offset.sync_data()) {
                tracing::error!(error = %e, "cannot sync a recording to disk");
                sync.failed.store(true, Ordering::Relaxed);
            }
            sync.running.store(false, Ordering::Release);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(run)),
            Err(_) => run(),
        }
        Ok(())
    }

    /// Records input typed by `who`. When the typist changes, an `input_by` event (an extension
    /// the asciicast v2 format allows; players skip event types they do not know) names the
    /// participant every following `i` event belongs to, until the next one.
    pub fn input(&mut self, bytes: &[u8], who: &ViewerIdentity) -> std::io::Result<()> {
        let text = self.input.decode(bytes);
        if text.is_empty() {
            return Ok(());
        }
        if self.last_typist != Some(who.participant) {
            let t = (self.elapsed() * 1e6).round() / 1e6;
            writeln!(self.file, "{}", json!([t, INPUT_BY, who.attribution()]))?;
            self.last_typist = Some(who.participant);
        }
        self.event("i", &text)
    }

    pub fn resize(&mut self, cols: u16, rows: u16) -> std::io::Result<()> {
        self.event("r", &format!("{cols}x{rows}"))
    }

    pub fn output_bytes(&self) -> u64 {
        self.output_bytes
    }

    /// Flushes what is left and syncs it to the disk off the caller's thread (the terminal ends
    /// on the agent link's reader, which must not wait for a disk).
    pub fn finish(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        self.offset_file
            .write_all_at(&self.output_bytes.to_be_bytes(), 0)?;
        self.offset_written = self.output_bytes;
        // A sync still running will not cover what was written since: wait for none, start one.
        self.sync.running.store(false, Ordering::Release);
        self.sync_in_background()
    }

    /// Points the recording at another file (tests: `/dev/full` makes every write fail).
    #[cfg(test)]
    pub(crate) fn redirect(&mut self, file: File) {
        self.file = std::io::BufWriter::new(file);
    }
}

fn offset_path(path: &Path) -> PathBuf {
    path.with_extension("offset")
}

/// What a restarted gateway learns from a recording on disk.
struct Recovered {
    output_bytes: u64,
    last_time: f64,
    /// The last output bytes (up to the terminal ring's size), when they can be reproduced exactly.
    tail: Vec<u8>,
}

/// Reads a recording after a crash and makes the file end where the `.offset` sidecar says the
/// output ends, so what is appended next continues it exactly:
/// - a torn last line (the process died inside a write) is cut off; the sidecar is only written
///   after a whole event, so it never counts one;
/// - a whole last output event that the sidecar does not count yet (the process died between the
///   two writes) is cut off too: the agent sends those bytes again from the sidecar's offset.
fn recover(path: &Path) -> std::io::Result<Recovered> {
    let mut offset = [0u8; 8];
    File::open(offset_path(path))?.read_exact_at(&mut offset, 0)?;
    let output_bytes = u64::from_be_bytes(offset);
    let cap = super::terminal::RING_BYTES;
    let mut tail: Vec<u8> = Vec::new();
    let mut total = 0u64;
    let mut last_time = 0.0;
    let mut reader = BufReader::new(File::open(path)?);
    let mut line = Vec::new();
    // The header line.
    let mut good_end = reader.read_until(b'\n', &mut line)? as u64;
    // Where the last output event starts, and how many bytes it carries.
    let mut last_output: Option<(u64, u64)> = None;
    loop {
        line.clear();
        let start = good_end;
        let n = reader.read_until(b'\n', &mut line)? as u64;
        // A line without its newline was cut short by a crash, whatever it parses as.
        if n == 0 || line.last() != Some(&b'\n') {
            break;
        }
        let Ok(serde_json::Value::Array(event)) =
            serde_json::from_slice::<serde_json::Value>(&line)
        else {
            break;
        };
        let output = (event.get(1).and_then(|c| c.as_str()) == Some("o"))
            .then(|| event.get(2).and_then(|d| d.as_str()))
            .flatten();
        if output.is_some() && total == output_bytes {
            // Everything the sidecar counts is in: this output, and whatever follows it, was
            // written after the sidecar was last updated (a batch cut short by a crash). It
            // goes, and the agent sends it again.
            break;
        }
        good_end = start + n;
        last_output = None;
        if let Some(t) = event.first().and_then(|t| t.as_f64()) {
            last_time = t;
        }
        if event.get(1).and_then(|c| c.as_str()) == Some("o") {
            if let Some(data) = output {
                total += data.len() as u64;
                last_output = Some((start, data.len() as u64));
                tail.extend_from_slice(data.as_bytes());
                if tail.len() > 2 * cap {
                    tail.drain(..tail.len() - cap);
                }
            }
        }
    }
    // The last event is output the sidecar does not count yet: it goes, and comes again.
    if let Some((start, len)) = last_output {
        if total != output_bytes && total - len == output_bytes {
            good_end = start;
            total -= len;
            tail.truncate(tail.len().saturating_sub(len as usize));
        }
    }
    let file = std::fs::OpenOptions::new().write(true).open(path)?;
    if file.metadata()?.len() > good_end {
        file.set_len(good_end)?;
        file.sync_data()?;
    }
    // The text reproduces the bytes exactly only when nothing was replaced as invalid UTF-8
    // (the byte counts agree); otherwise resuming starts at the recorded end.
    if total == output_bytes {
        let keep = tail.len().min(cap);
        tail.drain(..tail.len() - keep);
    } else {
        tail.clear();
    }
    Ok(Recovered {
        output_bytes,
        last_time,
        tail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_split_across_chunks_is_kept_whole() {
        let mut carry = Utf8Carry::default();
        let bytes = "héllo €".as_bytes();
        let (a, b) = bytes.split_at(2); // inside "é"
        assert_eq!(carry.decode(a), "h");
        assert_eq!(carry.decode(b), "éllo €");
        assert_eq!(carry.decode(&[0xff, b'x']), "\u{FFFD}x");
    }

    #[test]
    fn a_reopened_recording_knows_its_offset_and_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.cast");
        let mut rec = Recorder::create(&path, 80, 24, "test").unwrap();
        rec.output(b"hello ").unwrap();
        let owner = typist("alice");
        rec.input(b"ls\r", &owner).unwrap();
        rec.resize(100, 30).unwrap();
        rec.output("wörld".as_bytes()).unwrap();
        assert_eq!(rec.flush().unwrap(), 12);
        drop(rec);
        let (mut again, tail) = Recorder::reopen(&path).unwrap();
        assert_eq!(again.output_bytes(), 12);
        assert_eq!(tail, "hello wörld".as_bytes());
        again.output(b"!").unwrap();
        again.flush().unwrap();
        drop(again);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 7);
        assert!(lines[0].contains("\"version\":2"));
        assert!(lines[2].contains("\"input_by\"") && lines[2].contains("alice"));
        assert!(lines[3].contains("\"i\""));
        assert!(lines[4].contains("\"100x30\""));
    }

    /// A recording as a crash leaves it: `text` appended raw to a recording of "hello ".
    fn crashed_with(text: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.cast");
        let mut rec = Recorder::create(&path, 80, 24, "test").unwrap();
        rec.output(b"hello ").unwrap();
        rec.flush().unwrap();
        drop(rec);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(text).unwrap();
        (dir, path)
    }

    fn outputs(path: &Path) -> String {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("every line is whole"))
            .filter(|e| e[1] == "o")
            .map(|e| e[2].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn a_line_torn_by_a_crash_is_cut_before_appending() {
        let (_dir, path) = crashed_with(b"[1.5, \"o\", \"wor");
        let (mut again, tail) = Recorder::reopen(&path).unwrap();
        assert_eq!(again.output_bytes(), 6);
        assert_eq!(tail, b"hello ");
        // The agent resends from offset 6.
        again.output(b"world").unwrap();
        again.flush().unwrap();
        drop(again);
        assert_eq!(outputs(&path), "hello world");
    }

    /// Reopens a recording of "hello " left with `uncounted` after it by a crash, and checks
    /// that what the agent resends ("world") is recorded once.
    fn resent_once_after(uncounted: &[u8]) {
        let (_dir, path) = crashed_with(uncounted);
        let (mut again, tail) = Recorder::reopen(&path).unwrap();
        assert_eq!(again.output_bytes(), 6);
        assert_eq!(tail, b"hello ");
        again.output(b"world").unwrap();
        again.flush().unwrap();
        drop(again);
        assert_eq!(outputs(&path), "hello world", "nothing twice");
    }

    #[test]
    fn an_event_the_offset_does_not_count_yet_is_cut_and_comes_again() {
        // Written whole, but the process died before the sidecar counted it.
        resent_once_after(b"[1.5,\"o\",\"wor\"]\n");
    }

    #[test]
    fn output_counts_for_a_restart_only_once_flushed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.cast");
        let mut rec = Recorder::create(&path, 80, 24, "test").unwrap();
        rec.output(b"abc").unwrap();
        assert_eq!(rec.flush().unwrap(), 3);
        assert_eq!(rec.flush().unwrap(), 3, "nothing new: nothing written");
        // Never flushed: a crash here leaves "def" uncounted (the agent was not credited for
        // it, and resends it to the next gateway).
        rec.output(b"def").unwrap();
        drop(rec);
        let (again, tail) = Recorder::reopen(&path).unwrap();
        assert_eq!(again.output_bytes(), 3);
        assert_eq!(tail, b"abc");
    }

    #[test]
    fn a_batch_of_events_the_offset_does_not_count_is_cut_whole() {
        // A flush wrote several events, and the process died before the sidecar counted them.
        resent_once_after(b"[1.5,\"o\",\"wor\"]\n[1.6,\"i\",\"x\"]\n[1.7,\"o\",\"ld\"]\n");
    }

    fn typist(name: &str) -> ViewerIdentity {
        ViewerIdentity {
            participant: ParticipantId::new(),
            name: name.to_owned(),
            role: gatehouse_shared::share::ParticipantRole::Guest,
            read_only: false,
            share: None,
        }
    }

    #[test]
    fn each_change_of_typist_is_attributed_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.cast");
        let mut rec = Recorder::create(&path, 80, 24, "test").unwrap();
        let (alice, bob) = (typist("alice"), typist("bob"));
        rec.input(b"a", &alice).unwrap();
        rec.input(b"b", &alice).unwrap();
        rec.input(b"c", &bob).unwrap();
        rec.input(b"d", &alice).unwrap();
        rec.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut typed_by = Vec::new();
        let mut current = None;
        for line in text.lines().skip(1) {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            match event[1].as_str().unwrap() {
                INPUT_BY => current = Some(event[2]["name"].as_str().unwrap().to_owned()),
                "i" => typed_by.push((
                    event[2].as_str().unwrap().to_owned(),
                    current.clone().unwrap(),
                )),
                other => panic!("unexpected event {other}"),
            }
        }
        let expected: Vec<(String, String)> =
            [("a", "alice"), ("b", "alice"), ("c", "bob"), ("d", "alice")]
                .iter()
                .map(|(k, who)| (k.to_string(), who.to_string()))
                .collect();
        assert_eq!(typed_by, expected);
        assert_eq!(text.matches(INPUT_BY).count(), 3);
    }
}
