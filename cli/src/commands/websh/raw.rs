//! The local terminal while a remote one is attached: raw mode (every key goes to the server,
//! nothing is echoed or interpreted here), its size, and putting it back on every way out,
//! a panic included, so a crash never leaves the person's shell unusable.

use rustix::termios::{self, OptionalActions, Termios};
use std::io::IsTerminal;
use std::sync::{Mutex, Once};

/// The settings to restore, shared with the panic hook.
static SAVED: Mutex<Option<Termios>> = Mutex::new(None);
static HOOK: Once = Once::new();

/// Raw mode on standard input while alive; `None` when it is not a terminal (a pipe).
pub struct RawMode(());

impl RawMode {
    pub fn enable() -> std::io::Result<Option<RawMode>> {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Ok(None);
        }
        let saved = termios::tcgetattr(&stdin)?;
        let mut raw = saved.clone();
        raw.make_raw();
        *SAVED.lock().unwrap_or_else(|p| p.into_inner()) = Some(saved);
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                previous(info);
            }));
        });
        // Drain, not flush: keys typed before the terminal opened still reach it.
        termios::tcsetattr(&stdin, OptionalActions::Drain, &raw)?;
        Ok(Some(RawMode(())))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts the terminal back as it was, once.
pub fn restore() {
    let saved = SAVED.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(saved) = saved {
        let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Flush, &saved);
    }
}

/// The local terminal's size (columns, rows), or 80×24 when there is none.
pub fn size() -> (u16, u16) {
    [
        termios::tcgetwinsize(std::io::stdout()),
        termios::tcgetwinsize(std::io::stdin()),
    ]
    .into_iter()
    .flatten()
    .find(|w| w.ws_col > 0 && w.ws_row > 0)
    .map_or((80, 24), |w| (w.ws_col, w.ws_row))
}
