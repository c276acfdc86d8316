//! Workspace settings: read by whoever needs a knob, changed only by a superuser, every change
//! audited with what it was and what it became.

use crate::core::audit;
use crate::core::state::AppState;
use crate::core::CoreError;
use crate::store::{settings, WriteTx};
use crate::time::now;
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::settings::{Settings, SettingsPatch};

/// Applies `patch` as `actor` (a superuser; the route checks the role) and returns the result.
/// A patch that changes nothing writes nothing and records nothing.
pub async fn update(
    state: &AppState,
    actor: &str,
    patch: &SettingsPatch,
) -> Result<Settings, CoreError> {
    let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
    let current = settings::get_on(&mut tx, state.workspace).await?;
    let (next, changes) = current
        .patched(patch)
        .map_err(|refusal| CoreError::invalid(refusal.field, refusal.message))?;
    if changes.is_empty() {
        return Ok(current);
    }
    settings::update(&mut tx, state.workspace, &next).await?;
    tx.commit(
        audit::event(AuditAction::SettingsUpdated, audit::SUCCESS)
            .actor(actor)
            .target("settings")
            .details(serde_json::json!({ "changes": changes })),
    )
    .await?;
    Ok(next)
}
