//! A guest's way back in: every connection attempt after the first joins again (same secret,
//! password and participant) for a new single-use ticket. The secret and password live in this
//! page's memory only; nothing is written to storage.

use crate::api::{self, ApiError};
use crate::terminal::flow::Phase;
use crate::terminal::source::{with_query, PathFuture, Refusal, Source};
use gatehouse_shared::share::{JoinShare, Joined};
use gatehouse_shared::{ErrorCode, ParticipantId};
use std::cell::RefCell;
use std::rc::Rc;

/// What a guest typed and was given, kept for re-joining.
pub struct Guest {
    secret: String,
    password: String,
    name: String,
    participant: ParticipantId,
    /// The first join's ticket, used by the first connection attempt (it is already paid for).
    first: RefCell<Option<String>>,
}

impl Guest {
    pub fn new(secret: String, password: String, joined: &Joined) -> Self {
        Self {
            secret,
            password,
            name: joined.name.clone(),
            participant: joined.participant,
            first: RefCell::new(Some(ticket_path(joined))),
        }
    }

    fn request(&self) -> JoinShare {
        JoinShare {
            secret: self.secret.clone(),
            password: self.password.clone(),
            name: Some(self.name.clone()),
            participant: Some(self.participant),
        }
    }
}

/// `{ws_path}?ticket=<ticket>`.
pub fn ticket_path(joined: &Joined) -> String {
    with_query(&joined.ws_path, "ticket", &api::encode(&joined.ticket))
}

/// The stream source of a guest: the first ticket, then a fresh join per attempt.
pub fn source(guest: Rc<Guest>) -> Source {
    Source::Fresh(Box::new(move || -> PathFuture {
        let guest = guest.clone();
        Box::pin(async move {
            if let Some(path) = guest.first.borrow_mut().take() {
                return Ok(path);
            }
            match api::join_share(&guest.request()).await {
                Ok(joined) => Ok(ticket_path(&joined)),
                Err(e) => Err(refusal(&e)),
            }
        })
    }))
}

fn refusal(e: &ApiError) -> Refusal {
    rejoin_outcome(e.status, e.code(), &e.to_string())
}

/// What a failed re-join means: a network failure, a busy gateway or the rate limit is worth
/// another try; anything the server said no to is final, in its own words.
pub fn rejoin_outcome(status: u16, code: ErrorCode, message: &str) -> Refusal {
    match (status, code) {
        (0, _) | (429, _) | (500.., _) => Refusal::Retry,
        (_, ErrorCode::RateLimited) => Refusal::Retry,
        (404, _) | (_, ErrorCode::NotFound) => Refusal::Final(Phase::link_ended(message)),
        _ => Refusal::Final(Phase::refused(message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_are_retried_and_refusals_are_final() {
        assert_eq!(rejoin_outcome(0, ErrorCode::Internal, "x"), Refusal::Retry);
        assert_eq!(
            rejoin_outcome(429, ErrorCode::RateLimited, "x"),
            Refusal::Retry
        );
        assert_eq!(
            rejoin_outcome(503, ErrorCode::Internal, "x"),
            Refusal::Retry
        );
        let gone = rejoin_outcome(404, ErrorCode::NotFound, "this link was revoked");
        let Refusal::Final(gone) = gone else {
            panic!("404 is final");
        };
        assert_eq!(gone.reason(), Some("link-ended"));
        assert!(gone.banner().unwrap().contains("this link was revoked"));
        let locked = rejoin_outcome(403, ErrorCode::Forbidden, "locked");
        assert!(matches!(locked, Refusal::Final(p) if p.reason() == Some("refused")));
    }
}
