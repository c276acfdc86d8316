//! Terminal recordings: the list (filtered) and one recording's details. Its asciicast text is
//! [`Client::websh_recording`].

use super::{filter_query, Client};
use crate::error::ClientError;
use gatehouse_shared::api::Page;
use gatehouse_shared::recording::Recording;
use serde::Serialize;
use uuid::Uuid;

/// `GET /api/recordings` filters; `None` leaves one out.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RecordingFilter {
    /// Text typed or shown in the terminal.
    pub q: Option<String>,
    /// The owner's username, or `me`.
    pub user: Option<String>,
    pub server: Option<String>,
    pub work_session: Option<String>,
    /// Started at or after (RFC 3339).
    pub from: Option<String>,
    /// Started before (RFC 3339).
    pub to: Option<String>,
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

impl Client {
    /// `GET /api/recordings`: the caller's own (staff: everyone's), newest first.
    pub async fn recordings(&self, f: &RecordingFilter) -> Result<Page<Recording>, ClientError> {
        self.get("/api/recordings", filter_query(f)).await
    }

    /// `GET /api/recordings/{id}`: one recording's details (the terminal's id).
    pub async fn recording_info(&self, id: Uuid) -> Result<Recording, ClientError> {
        self.get(&format!("/api/recordings/{id}"), Vec::new()).await
    }
}
