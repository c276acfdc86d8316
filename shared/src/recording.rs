//! Recordings as `GET /api/recordings` lists them: a terminal's recording with its context (who,
//! where, as whom, in which work session, when and how it ended), and where the search matched.

use crate::{UserRef, WorkSessionId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The work session a recording was made in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkSessionBrief {
    pub id: WorkSessionId,
    pub purpose: String,
}

/// One terminal's recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recording {
    /// The terminal's id (also the recording's).
    pub id: Uuid,
    pub owner: UserRef,
    pub server: String,
    /// The account the shell ran as; `null` when it ran as the agent's own user.
    pub run_as: Option<String>,
    /// The work session it was made in; `null` for a terminal opened with an API token.
    pub work_session: Option<WorkSessionBrief>,
    pub started_at: DateTime<Utc>,
    /// `null` while the terminal is live.
    pub ended_at: Option<DateTime<Utc>>,
    /// Seconds from start to end; `null` while live.
    pub duration_secs: Option<f64>,
    pub exit_code: Option<i32>,
    /// `revoked`, `expired`, `completed` or `terminated` when the gateway ended it.
    pub end_reason: Option<String>,
    /// Size of the asciicast file in bytes; `null` when it is missing.
    pub size_bytes: Option<u64>,
    pub cols: u16,
    pub rows: u16,
    /// Where the asciicast v2 file is served (`GET`, with `?download=true` as an attachment).
    pub recording: String,
    /// With `q`: the text around the first match (typed input first, then output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
}

impl Recording {
    /// Whether the terminal is still open.
    pub fn is_live(&self) -> bool {
        self.ended_at.is_none()
    }
}
