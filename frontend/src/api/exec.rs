//! Commands on several servers (`/api/exec`) and reading back the one waiting for approval,
//! through the typed client the CLI uses too.

use super::{client, ApiResult};
use gatehouse_client::Accepted;
use gatehouse_shared::approval::Approval;
use gatehouse_shared::exec::{ExecJob, ExecRequest};

/// Starts a job; a root command outside the session's declared ones may instead wait for a
/// superuser (202 `pending_approval`).
pub async fn exec_start(body: &ExecRequest) -> ApiResult<Accepted<ExecJob>> {
    Ok(client()?.exec_start(body).await?)
}

/// A job as it is now.
pub async fn exec_job(id: uuid::Uuid) -> ApiResult<ExecJob> {
    Ok(client()?.exec_job(id).await?)
}

/// One approval as it is now.
pub async fn approval(id: uuid::Uuid) -> ApiResult<Approval> {
    Ok(client()?.approval(id).await?)
}
