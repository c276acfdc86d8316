//! The escape sequence, as in ssh: `~` typed first on a line, then `.`, leaves a hung terminal
//! (the remote side keeps nothing of it); `~~` sends one `~`; `~?` lists the escapes. Anything
//! else after the `~` goes through as typed.

/// What the typed bytes ask for besides what they send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// `~.`: leave now.
    Leave,
    /// `~?`: say which escapes exist.
    Help,
}

/// Watches typed bytes for the escape.
#[derive(Debug, Clone)]
pub struct EscapeReader {
    at_line_start: bool,
    after_tilde: bool,
}

impl Default for EscapeReader {
    fn default() -> Self {
        EscapeReader {
            at_line_start: true,
            after_tilde: false,
        }
    }
}

impl EscapeReader {
    /// Splits `typed` into what to send and the escape it ended with, if any (bytes after a
    /// `~.` are dropped: the terminal is being left).
    pub fn feed(&mut self, typed: &[u8]) -> (Vec<u8>, Option<Escape>) {
        let mut send = Vec::with_capacity(typed.len());
        let mut asked = None;
        for &b in typed {
            if self.after_tilde {
                self.after_tilde = false;
                match b {
                    b'.' => return (send, Some(Escape::Leave)),
                    b'?' => {
                        asked = Some(Escape::Help);
                        continue;
                    }
                    b'~' => {
                        send.push(b'~');
                        self.at_line_start = false;
                        continue;
                    }
                    _ => send.push(b'~'),
                }
            } else if self.at_line_start && b == b'~' {
                self.after_tilde = true;
                continue;
            }
            send.push(b);
            self.at_line_start = matches!(b, b'\r' | b'\n');
        }
        (send, asked)
    }
}

/// What `~?` prints.
pub const HELP: &str = "Supported escapes (after Enter):\r\n  ~.  leave the terminal\r\n  ~~  send one ~\r\n  ~?  this list\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_dot_at_a_line_start_leaves() {
        let mut r = EscapeReader::default();
        assert_eq!(r.feed(b"~."), (Vec::new(), Some(Escape::Leave)));
        let mut r = EscapeReader::default();
        assert_eq!(r.feed(b"ls\r"), (b"ls\r".to_vec(), None));
        assert_eq!(r.feed(b"~"), (Vec::new(), None), "held until the next key");
        assert_eq!(r.feed(b".rest"), (Vec::new(), Some(Escape::Leave)));
    }

    #[test]
    fn a_tilde_elsewhere_or_doubled_goes_through() {
        let mut r = EscapeReader::default();
        assert_eq!(r.feed(b"a~."), (b"a~.".to_vec(), None));
        let mut r = EscapeReader::default();
        assert_eq!(r.feed(b"~~."), (b"~.".to_vec(), None));
        let mut r = EscapeReader::default();
        assert_eq!(r.feed(b"~x"), (b"~x".to_vec(), None));
        assert_eq!(r.feed(b"\n~?"), (b"\n".to_vec(), Some(Escape::Help)));
        assert_eq!(
            r.feed(b"~."),
            (Vec::new(), Some(Escape::Leave)),
            "still at a line start"
        );
    }
}
