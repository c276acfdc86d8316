//! Work sessions and the approvals queue.

use super::{filter_query, Accepted, Client};
use crate::error::ClientError;
use gatehouse_shared::api::Page;
use gatehouse_shared::approval::Approval;
use gatehouse_shared::work_session::{
    ApproveWorkSession, CreateWorkSession, DecisionReason, ExtendWorkSession, TimelineEvent,
};
use gatehouse_shared::{WorkSession, WorkSessionId};
use serde::Serialize;
use uuid::Uuid;

/// `GET /api/work-sessions` filters; `None` leaves one out (the server's default).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SessionFilter {
    pub status: Option<String>,
    pub user: Option<String>,
    pub server: Option<String>,
    pub scope: Option<String>,
    pub q: Option<String>,
    /// Sessions created at or after this time (RFC 3339).
    pub from: Option<String>,
    /// Sessions created before this time (RFC 3339).
    pub to: Option<String>,
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// `GET /api/approvals` filters.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ApprovalFilter {
    pub status: Option<String>,
    pub kind: Option<String>,
    pub work_session: Option<String>,
    pub limit: Option<u32>,
}

impl Client {
    /// `POST /api/work-sessions`.
    pub async fn create_work_session(
        &self,
        body: &CreateWorkSession,
    ) -> Result<WorkSession, ClientError> {
        self.post("/api/work-sessions", body).await
    }

    /// `GET /api/work-sessions`.
    pub async fn work_sessions(&self, f: &SessionFilter) -> Result<Page<WorkSession>, ClientError> {
        self.get("/api/work-sessions", filter_query(f)).await
    }

    /// `GET /api/work-sessions/{id}`.
    pub async fn work_session(&self, id: WorkSessionId) -> Result<WorkSession, ClientError> {
        self.get(&format!("/api/work-sessions/{id}"), Vec::new())
            .await
    }

    /// `POST /api/work-sessions/{id}/approve` (superusers; may narrow).
    pub async fn approve_work_session(
        &self,
        id: WorkSessionId,
        body: &ApproveWorkSession,
    ) -> Result<WorkSession, ClientError> {
        self.post(&format!("/api/work-sessions/{id}/approve"), body)
            .await
    }

    /// `POST /api/work-sessions/{id}/{reject|revoke}` with an optional reason.
    pub async fn decide_work_session(
        &self,
        id: WorkSessionId,
        verb: SessionDecision,
        reason: Option<String>,
    ) -> Result<WorkSession, ClientError> {
        let path = format!("/api/work-sessions/{id}/{}", verb.as_str());
        self.post(&path, &DecisionReason { reason }).await
    }

    /// `POST /api/work-sessions/{id}/{cancel|activate|complete|use}`.
    pub async fn transition_work_session(
        &self,
        id: WorkSessionId,
        verb: SessionStep,
    ) -> Result<WorkSession, ClientError> {
        let path = format!("/api/work-sessions/{id}/{}", verb.as_str());
        self.post(&path, &serde_json::json!({})).await
    }

    /// `POST /api/work-sessions/{id}/extend`: applies at once, or waits for a superuser (202).
    pub async fn extend_work_session(
        &self,
        id: WorkSessionId,
        body: &ExtendWorkSession,
    ) -> Result<Accepted<WorkSession>, ClientError> {
        self.post_accepted(&format!("/api/work-sessions/{id}/extend"), Vec::new(), body)
            .await
    }

    /// `GET /api/work-sessions/{id}/timeline`.
    pub async fn timeline(&self, id: WorkSessionId) -> Result<Page<TimelineEvent>, ClientError> {
        self.get(&format!("/api/work-sessions/{id}/timeline"), Vec::new())
            .await
    }

    /// `GET /api/approvals`.
    pub async fn approvals(&self, f: &ApprovalFilter) -> Result<Page<Approval>, ClientError> {
        self.get("/api/approvals", filter_query(f)).await
    }

    /// `GET /api/approvals/{id}`.
    pub async fn approval(&self, id: Uuid) -> Result<Approval, ClientError> {
        self.get(&format!("/api/approvals/{id}"), Vec::new()).await
    }

    /// `POST /api/approvals/{id}/{approve|reject}` (superusers, never their own request).
    pub async fn decide_approval(
        &self,
        id: Uuid,
        approve: bool,
        reason: Option<String>,
    ) -> Result<Approval, ClientError> {
        let verb = if approve { "approve" } else { "reject" };
        self.post(
            &format!("/api/approvals/{id}/{verb}"),
            &DecisionReason { reason },
        )
        .await
    }
}

/// A superuser's decision on a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionDecision {
    Reject,
    Revoke,
}

impl SessionDecision {
    fn as_str(self) -> &'static str {
        match self {
            SessionDecision::Reject => "reject",
            SessionDecision::Revoke => "revoke",
        }
    }
}

/// A requester's or assignee's step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStep {
    Cancel,
    Activate,
    Complete,
    Use,
}

impl SessionStep {
    fn as_str(self) -> &'static str {
        match self {
            SessionStep::Cancel => "cancel",
            SessionStep::Activate => "activate",
            SessionStep::Complete => "complete",
            SessionStep::Use => "use",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_filter_leaves_out_what_is_not_set() {
        let f = SessionFilter {
            status: Some("pending".into()),
            user: Some("all".into()),
            limit: Some(500),
            cursor: Some("c1".into()),
            ..SessionFilter::default()
        };
        let mut pairs = filter_query(&f);
        pairs.sort();
        let want: Vec<(String, String)> = [
            ("cursor", "c1"),
            ("limit", "500"),
            ("status", "pending"),
            ("user", "all"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(pairs, want);
        assert!(filter_query(&SessionFilter::default()).is_empty());
    }
}
