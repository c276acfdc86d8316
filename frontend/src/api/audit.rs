//! The audit log and its chain check (staff), through the typed client the CLI uses too.

use super::{client, ApiResult};
use gatehouse_client::api::ops::AuditFilter;
use gatehouse_shared::api::Page;
use gatehouse_shared::audit::{AuditEvent, AuditVerification};

pub async fn audit(filter: &AuditFilter) -> ApiResult<Page<AuditEvent>> {
    Ok(client()?.audit(filter).await?)
}

pub async fn audit_verify() -> ApiResult<AuditVerification> {
    Ok(client()?.audit_verify().await?)
}
