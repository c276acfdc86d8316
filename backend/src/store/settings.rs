//! Workspace settings, one row per workspace (columns of `workspaces`).

use super::{Db, StoreError, WriteTx};
use gatehouse_shared::settings::Settings;
use gatehouse_shared::WorkspaceId;

const SELECT: &str = "SELECT max_session_secs, mfa_timeout_secs, require_mfa_enrolment, \
     require_mfa_for_root, sudo_mfa_waiver, cli_signin_ttl_secs, self_extend_secs \
     FROM workspaces WHERE id = ?";

type Row = (i64, i64, bool, bool, bool, i64, i64);

fn from_row(row: Row) -> Settings {
    let (max_session_secs, mfa_timeout_secs, require_mfa_enrolment, require_mfa_for_root) =
        (row.0, row.1, row.2, row.3);
    Settings {
        max_session_secs,
        mfa_timeout_secs,
        require_mfa_enrolment,
        require_mfa_for_root,
        sudo_mfa_waiver: row.4,
        cli_signin_ttl_secs: row.5,
        self_extend_secs: row.6,
    }
}

pub async fn get(db: &Db, ws: WorkspaceId) -> Result<Settings, StoreError> {
    let row: Row = sqlx::query_as(SELECT)
        .bind(ws.to_string())
        .fetch_one(&db.pool)
        .await?;
    Ok(from_row(row))
}

/// Reads the settings inside a write, so a change is computed from exactly what it replaces.
pub async fn get_on(tx: &mut WriteTx, ws: WorkspaceId) -> Result<Settings, StoreError> {
    let row: Row = sqlx::query_as(SELECT)
        .bind(ws.to_string())
        .fetch_one(tx.conn())
        .await?;
    Ok(from_row(row))
}

pub async fn update(tx: &mut WriteTx, ws: WorkspaceId, s: &Settings) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE workspaces SET max_session_secs = ?, mfa_timeout_secs = ?, \
         require_mfa_enrolment = ?, require_mfa_for_root = ?, sudo_mfa_waiver = ?, \
         cli_signin_ttl_secs = ?, self_extend_secs = ? WHERE id = ?",
    )
    .bind(s.max_session_secs)
    .bind(s.mfa_timeout_secs)
    .bind(s.require_mfa_enrolment)
    .bind(s.require_mfa_for_root)
    .bind(s.sudo_mfa_waiver)
    .bind(s.cli_signin_ttl_secs)
    .bind(s.self_extend_secs)
    .bind(ws.to_string())
    .execute(tx.conn())
    .await?;
    Ok(())
}
