//! Newtype identifiers, so a server id can never be passed where a user id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random (v4) identifier.
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )*};
}

id_type!(
    /// A tenant: every row belongs to exactly one workspace.
    WorkspaceId,
    /// A person (or service account) who signs in.
    UserId,
    /// A work session: the unit of approved, scoped, time-bound access.
    WorkSessionId,
    /// A managed server entry.
    ServerId,
    /// An agent credential bound to a server.
    AgentId,
    /// An API token.
    TokenId,
    /// A group of users granted servers by name pattern.
    GroupId,
    /// A shared link to a live terminal.
    ShareId,
    /// Someone in a live terminal: its owner, a guest who joined by link, or a watching staff member.
    ParticipantId,
);
