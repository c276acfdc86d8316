//! What a websh stream connects to and what it may send: a fixed path for signed-in viewers, or
//! a fresh path per attempt for a guest, whose tickets open one connection each.

use super::flow::{Phase, Viewer};
use std::future::Future;
use std::pin::Pin;

/// Why no path could be had for the next attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Worth trying again after the usual backoff (network down, rate limited, gateway busy).
    Retry,
    /// The terminal cannot be reached again (the link is gone, or the join was refused).
    Final(Phase),
}

/// The stream path (`/ws/websh/{id}?…`) for one connection attempt.
pub type PathFuture = Pin<Box<dyn Future<Output = Result<String, Refusal>>>>;

/// Where each connection attempt goes.
pub enum Source {
    /// The same path every time (the owner's terminal, a staff member watching): the cookie
    /// authenticates every attempt.
    Path(String),
    /// Asked before every attempt, including the first: a guest's join ticket is single-use
    /// and short-lived, so each reconnect joins again for a new one.
    Fresh(Box<dyn Fn() -> PathFuture>),
}

impl Source {
    /// Who connects through it, for what close codes mean to them.
    pub fn viewer(&self) -> Viewer {
        match self {
            Source::Path(_) => Viewer::Member,
            Source::Fresh(_) => Viewer::Guest,
        }
    }
}

/// What this viewer sends besides acknowledgements and keepalives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// The terminal's owner: keystrokes, and the shell follows this window's size.
    Owner,
    /// A guest allowed to type: keystrokes, but the owner's window keeps deciding the size, so
    /// a guest's small window never squeezes the owner's shell.
    Typist,
    /// Read-only (a read-only guest, a watching staff member): nothing else. The gateway drops
    /// such input anyway; not sending it keeps the intent visible here too.
    Watch,
}

impl Control {
    pub fn sends_input(self) -> bool {
        matches!(self, Control::Owner | Control::Typist)
    }

    pub fn sends_size(self) -> bool {
        self == Control::Owner
    }
}

/// `path` with `name=value` appended to its query (`value` already encoded).
pub fn with_query(path: &str, name: &str, value: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{name}={value}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_owner_sizes_and_watchers_never_type() {
        assert!(Control::Owner.sends_input() && Control::Owner.sends_size());
        assert!(Control::Typist.sends_input() && !Control::Typist.sends_size());
        assert!(!Control::Watch.sends_input() && !Control::Watch.sends_size());
    }

    #[test]
    fn query_parameters_are_appended() {
        assert_eq!(
            with_query("/ws/websh/1", "watch", "true"),
            "/ws/websh/1?watch=true"
        );
        assert_eq!(
            with_query("/ws/websh/1?ticket=a", "resume_from", "7"),
            "/ws/websh/1?ticket=a&resume_from=7"
        );
    }
}
