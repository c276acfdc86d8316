//! A small server-sent events reader: bytes in, the names of complete events out. Comments
//! (the server's keep-alives) and data are skipped; the stream only says that something changed.

/// Splits a byte stream into events.
#[derive(Debug, Default)]
pub struct SseParser {
    buffer: Vec<u8>,
}

impl SseParser {
    /// Adds bytes; returns the names of the events they completed (`message` when unnamed).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        // Normalise line ends once, so `\r\n\r\n` and `\n\n` both end an event.
        self.buffer
            .extend(bytes.iter().copied().filter(|&b| b != b'\r'));
        let mut events = Vec::new();
        while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
            let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&block);
            let mut name = None;
            let mut has_field = false;
            for line in text.lines() {
                if line.is_empty() || line.starts_with(':') {
                    continue;
                }
                has_field = true;
                if let Some(value) = line.strip_prefix("event:") {
                    name = Some(value.trim().to_owned());
                }
            }
            if has_field {
                events.push(name.unwrap_or_else(|| "message".to_owned()));
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_found_across_chunks_and_keepalives_are_skipped() {
        let mut p = SseParser::default();
        assert!(p.feed(b": keep-alive\n\n").is_empty());
        assert!(p.feed(b"event: work_ses").is_empty());
        assert_eq!(p.feed(b"sions\ndata: changed\n\n"), ["work_sessions"]);
        assert_eq!(
            p.feed(b"data: x\r\n\r\nevent: a\ndata: y\n\n"),
            ["message", "a"]
        );
    }
}
