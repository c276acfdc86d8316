//! Who watches a terminal: each viewer connection carries the identity it was admitted with
//! (owner, guest by link, watching staff), which decides whether its input reaches the shell and
//! how the recording attributes what it typed.

use chrono::{DateTime, Utc};
use gatehouse_shared::share::{Participant, ParticipantRole};
use gatehouse_shared::{ParticipantId, ShareId};
use std::collections::BTreeMap;

/// The identity one viewer connection was admitted with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewerIdentity {
    /// The owner's and a watcher's user id; a guest's participant id.
    pub participant: ParticipantId,
    pub name: String,
    pub role: ParticipantRole,
    /// Input, resizes and any other frame from it are dropped.
    pub read_only: bool,
    /// The link a guest came in by.
    pub share: Option<ShareId>,
}

impl ViewerIdentity {
    /// How the recording names whoever typed (unique even when two guests pick the same name).
    pub fn attribution(&self) -> serde_json::Value {
        serde_json::json!({
            "participant": self.participant,
            "name": self.name,
            "role": self.role,
        })
    }
}

/// Why a viewer was told to leave while the terminal lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kick {
    /// Its link was revoked or expired.
    ShareEnded,
    /// The owner or staff removed it.
    Removed,
    /// The person's account was disabled.
    AccountDisabled,
}

/// One connected viewer.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// Everything before this offset is rendered.
    pub acked: u64,
    pub who: ViewerIdentity,
    pub since: DateTime<Utc>,
    pub kicked: Option<Kick>,
}

impl Viewer {
    /// Whether this viewer's reading paces the shell: those who may type do; read-only guests
    /// and watchers only look, so they never hold it back.
    pub fn paces(&self) -> bool {
        !self.who.read_only
    }
}

/// The participants list: connections of one person counted once, owner first, then by arrival.
pub fn participants<'a>(viewers: impl Iterator<Item = &'a Viewer>) -> Vec<Participant> {
    let mut by_id: BTreeMap<ParticipantId, Participant> = BTreeMap::new();
    for v in viewers.filter(|v| v.kicked.is_none()) {
        by_id
            .entry(v.who.participant)
            .and_modify(|p| {
                p.connections += 1;
                p.since = p.since.min(v.since);
            })
            .or_insert_with(|| Participant {
                id: v.who.participant,
                name: v.who.name.clone(),
                role: v.who.role,
                read_only: v.who.read_only,
                since: v.since,
                connections: 1,
            });
    }
    let mut items: Vec<Participant> = by_id.into_values().collect();
    items.sort_by_key(|p| (p.role != ParticipantRole::Owner, p.since, p.id));
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(id: ParticipantId, role: ParticipantRole, at: i64) -> Viewer {
        Viewer {
            acked: 0,
            who: ViewerIdentity {
                participant: id,
                name: format!("{role:?}"),
                role,
                read_only: role != ParticipantRole::Owner,
                share: None,
            },
            since: DateTime::from_timestamp(at, 0).unwrap_or_default(),
            kicked: None,
        }
    }

    #[test]
    fn connections_of_one_person_count_once_and_the_owner_comes_first() {
        let (owner, guest) = (ParticipantId::new(), ParticipantId::new());
        let mut kicked = viewer(ParticipantId::new(), ParticipantRole::Guest, 1);
        kicked.kicked = Some(Kick::Removed);
        let all = [
            viewer(guest, ParticipantRole::Guest, 5),
            viewer(owner, ParticipantRole::Owner, 10),
            viewer(guest, ParticipantRole::Guest, 3),
            kicked,
        ];
        let list = participants(all.iter());
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].id, owner);
        assert_eq!((list[1].id, list[1].connections), (guest, 2));
        assert_eq!(list[1].since.timestamp(), 3);
    }
}
