//! Work sessions (list, one, timeline, request, every lifecycle step) and the approvals queue,
//! through the typed client the CLI uses too.

use super::{client, parse_id, ApiResult};
use gatehouse_client::api::sessions::{
    ApprovalFilter, SessionDecision, SessionFilter, SessionStep,
};
use gatehouse_client::Accepted;
use gatehouse_shared::api::Page;
use gatehouse_shared::approval::Approval;
use gatehouse_shared::work_session::{
    ApproveWorkSession, CreateWorkSession, ExtendWorkSession, TimelineEvent,
};
use gatehouse_shared::{WorkSession, WorkSessionId};

/// A value of a filter, `""` leaving it out.
fn given(value: &str) -> Option<String> {
    Some(value.to_owned()).filter(|v| !v.is_empty())
}

/// The sessions filter the pages mostly need: a `status` list (or `all`), whose (`me`, `all` or
/// a username), at most `limit`.
pub fn sessions_where(status: &str, user: &str, limit: u32) -> SessionFilter {
    SessionFilter {
        status: given(status),
        user: given(user),
        limit: Some(limit),
        ..SessionFilter::default()
    }
}

/// The approvals filter the pages mostly need: a `kind` (`""`: any), a `status` list (`""`:
/// pending ones), at most `limit`.
pub fn approvals_where(kind: &str, status: &str, limit: u32) -> ApprovalFilter {
    ApprovalFilter {
        kind: given(kind),
        status: given(status),
        limit: Some(limit),
        ..ApprovalFilter::default()
    }
}

pub async fn work_sessions(filter: &SessionFilter) -> ApiResult<Page<WorkSession>> {
    Ok(client()?.work_sessions(filter).await?)
}

/// One session, by the id the page's address holds.
pub async fn work_session(id: &str) -> ApiResult<WorkSession> {
    Ok(client()?
        .work_session(parse_id(id, "work session")?)
        .await?)
}

pub async fn timeline(id: &str) -> ApiResult<Vec<TimelineEvent>> {
    let page = client()?.timeline(parse_id(id, "work session")?).await?;
    Ok(page.items)
}

pub async fn create_work_session(body: &CreateWorkSession) -> ApiResult<WorkSession> {
    Ok(client()?.create_work_session(body).await?)
}

/// A requester's or assignee's step (`cancel`, `activate`, `complete`, `use`).
pub async fn step(id: WorkSessionId, step: SessionStep) -> ApiResult<WorkSession> {
    Ok(client()?.transition_work_session(id, step).await?)
}

pub async fn approve(id: WorkSessionId, body: &ApproveWorkSession) -> ApiResult<WorkSession> {
    Ok(client()?.approve_work_session(id, body).await?)
}

/// A superuser's `reject` or `revoke`, with an optional reason.
pub async fn decide_with_reason(
    id: WorkSessionId,
    decision: SessionDecision,
    reason: Option<String>,
) -> ApiResult<WorkSession> {
    Ok(client()?.decide_work_session(id, decision, reason).await?)
}

/// What an extension did: applied now, or waiting for an approver (202).
pub enum Extended {
    Now(Box<WorkSession>),
    /// Waiting for an approver; `GET /api/approvals?work_session=` shows the request.
    Pending,
}

pub async fn extend(id: WorkSessionId, body: &ExtendWorkSession) -> ApiResult<Extended> {
    Ok(match client()?.extend_work_session(id, body).await? {
        Accepted::Done(session) => Extended::Now(Box::new(session)),
        Accepted::Pending(_) => Extended::Pending,
    })
}

/// The approvals the filter picks, as one list.
pub async fn approvals(filter: &ApprovalFilter) -> ApiResult<Vec<Approval>> {
    Ok(client()?.approvals(filter).await?.items)
}

/// Approves (`true`) or rejects an approval.
pub async fn decide_approval(
    id: uuid::Uuid,
    approve: bool,
    reason: Option<String>,
) -> ApiResult<Approval> {
    Ok(client()?.decide_approval(id, approve, reason).await?)
}
