//! Audit events and the hash chain that makes the log tamper-evident.

mod action;
mod details;
mod sentence;

pub use action::AuditAction;
pub use details::{
    ExecRunDetails, ExecSignalDetails, ExecStartedDetails, ExtensionDetails, TransitionDetails,
    WebshDetails,
};
pub use sentence::{sentence, short_id, EventParts};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit event as stored and exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// Username of who acted (`system` for the scheduler, absent for anonymous attempts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Dotted name such as `auth.login`, `work_session.approved`, `gate.denied`; see
    /// [`AuditAction`] (kept as text so a newer server's actions still list in an older console).
    pub action: String,
    /// What was acted on (a session id, a username, a server name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_session: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    pub details: serde_json::Value,
    pub hash: String,
    pub prev_hash: String,
}

/// `GET /api/audit/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditVerification {
    pub ok: bool,
    pub events_checked: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_bad_seq: Option<i64>,
}

/// Timestamps are hashed (and stored) at microsecond precision so they survive a round trip.
pub fn canonical_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The hash of an event: SHA-256 over the previous hash and every field but `hash` itself,
/// serialised as one JSON array (object keys inside `details` are sorted by serde_json).
pub fn chain_hash(event: &AuditEvent) -> String {
    let material = serde_json::json!([
        event.prev_hash,
        event.seq,
        canonical_time(event.at),
        event.actor,
        event.action,
        event.target,
        event.outcome,
        event.work_session,
        event.server,
        event.details,
    ]);
    hex::encode(Sha256::digest(material.to_string().as_bytes()))
}

/// Walks events in `seq` order and returns the first one that breaks the chain: a wrong hash
/// (edited), a `prev_hash` that is not the previous row's hash (removed or reordered), or a gap.
pub fn first_broken<'a>(
    events: impl IntoIterator<Item = &'a AuditEvent>,
    mut prev_hash: String,
    mut prev_seq: i64,
) -> (i64, Option<i64>) {
    let mut checked = 0;
    for event in events {
        checked += 1;
        if event.seq != prev_seq + 1
            || event.prev_hash != prev_hash
            || chain_hash(event) != event.hash
        {
            return (checked, Some(event.seq));
        }
        prev_hash = event.hash.clone();
        prev_seq = event.seq;
    }
    (checked, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64, prev_hash: &str) -> AuditEvent {
        let mut e = AuditEvent {
            seq,
            at: DateTime::from_timestamp(1_700_000_000 + seq, 0).unwrap(),
            actor: Some("alice".into()),
            action: "auth.login".into(),
            target: None,
            outcome: "success".into(),
            work_session: None,
            server: None,
            details: serde_json::json!({"b": 1, "a": 2}),
            hash: String::new(),
            prev_hash: prev_hash.into(),
        };
        e.hash = chain_hash(&e);
        e
    }

    fn chain(n: i64) -> Vec<AuditEvent> {
        let mut out: Vec<AuditEvent> = Vec::new();
        for seq in 1..=n {
            let prev = out
                .last()
                .map_or(GENESIS_HASH.to_owned(), |e| e.hash.clone());
            out.push(event(seq, &prev));
        }
        out
    }

    #[test]
    fn intact_chain_verifies() {
        let events = chain(5);
        assert_eq!(first_broken(&events, GENESIS_HASH.into(), 0), (5, None));
    }

    #[test]
    fn edit_removal_and_reorder_are_detected() {
        let mut edited = chain(5);
        edited[2].outcome = "failure".into();
        assert_eq!(first_broken(&edited, GENESIS_HASH.into(), 0).1, Some(3));

        let mut removed = chain(5);
        removed.remove(1);
        assert_eq!(first_broken(&removed, GENESIS_HASH.into(), 0).1, Some(3));

        let mut reordered = chain(5);
        reordered.swap(1, 2);
        assert_eq!(first_broken(&reordered, GENESIS_HASH.into(), 0).1, Some(3));
    }
}
