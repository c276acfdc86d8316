//! Terminal (websh session) records: who opened what where, and how it ended.

use super::{parse_id, Db};
use super::{StoreError, WriteTx};
use crate::time::to_micros;
use chrono::{DateTime, Utc};
use gatehouse_shared::{ServerId, TokenId, UserId, WorkSessionId, WorkspaceId};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebshRow {
    pub id: String,
    pub work_session_id: Option<String>,
    pub token_id: Option<String>,
    pub server_id: String,
    pub server_name: String,
    pub user_id: String,
    pub username: String,
    pub run_as: Option<String>,
    pub cols: i64,
    pub rows: i64,
    pub recording: String,
    pub created_at: i64,
    pub ended_at: Option<i64>,
}

pub struct NewWebsh<'a> {
    pub id: Uuid,
    /// What allowed it: a work session, or an API token (exactly one).
    pub authority: Authority,
    pub server_id: ServerId,
    pub server_name: &'a str,
    pub user: UserId,
    pub run_as: Option<&'a str>,
    pub cols: u16,
    pub rows: u16,
    pub recording: &'a str,
}

pub async fn insert(tx: &mut WriteTx, w: &NewWebsh<'_>) -> Result<(), StoreError> {
    let (ws, now) = (tx.workspace(), tx.at());
    sqlx::query(
        "INSERT INTO websh_sessions (id, workspace_id, work_session_id, token_id, server_id, \
         server_name, user_id, run_as, cols, rows, recording, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(w.id.to_string())
    .bind(ws.to_string())
    .bind(w.authority.work_session().map(|s| s.to_string()))
    .bind(w.authority.token().map(|t| t.to_string()))
    .bind(w.server_id.to_string())
    .bind(w.server_name)
    .bind(w.user.to_string())
    .bind(w.run_as)
    .bind(i64::from(w.cols))
    .bind(i64::from(w.rows))
    .bind(w.recording)
    .bind(to_micros(now))
    .execute(tx.conn())
    .await?;
    Ok(())
}

const SELECT: &str =
    "SELECT w.id, w.work_session_id, w.token_id, w.server_id, w.server_name, w.user_id, \
    u.username, w.run_as, w.cols, w.rows, w.recording, w.created_at, w.ended_at \
    FROM websh_sessions w JOIN users u ON u.id = w.user_id";

pub async fn get(db: &Db, ws: WorkspaceId, id: Uuid) -> Result<Option<WebshRow>, StoreError> {
    sqlx::query_as(&format!("{SELECT} WHERE w.workspace_id = ? AND w.id = ?"))
        .bind(ws.to_string())
        .bind(id.to_string())
        .fetch_optional(&db.pool)
        .await
        .map_err(StoreError::from)
}

/// Terminals on `server` that have not ended (candidates for re-attach after a restart).
pub async fn open_on_server(
    db: &Db,
    ws: WorkspaceId,
    server: ServerId,
) -> Result<Vec<WebshRow>, StoreError> {
    sqlx::query_as(&format!(
        "{SELECT} WHERE w.workspace_id = ? AND w.server_id = ? AND w.ended_at IS NULL"
    ))
    .bind(ws.to_string())
    .bind(server.to_string())
    .fetch_all(&db.pool)
    .await
    .map_err(StoreError::from)
}

pub async fn finish(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    id: Uuid,
    exit_code: Option<i32>,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE websh_sessions SET ended_at = ?, exit_code = ?, end_reason = ? \
         WHERE workspace_id = ? AND id = ? AND ended_at IS NULL",
    )
    .bind(to_micros(now))
    .bind(exit_code)
    .bind(reason)
    .bind(ws.to_string())
    .bind(id.to_string())
    .execute(tx.conn())
    .await?;
    Ok(())
}

impl WebshRow {
    pub fn ids(&self) -> Result<(Uuid, Authority, ServerId, UserId), StoreError> {
        let authority = match (&self.work_session_id, &self.token_id) {
            (Some(session), None) => Authority::WorkSession(parse_id(session)?),
            (None, Some(token)) => Authority::Token(parse_id(token)?),
            _ => {
                return Err(StoreError::Corrupt(
                    "a terminal needs exactly one of a work session and a token".into(),
                ))
            }
        };
        Ok((
            parse_id(&self.id)?,
            authority,
            parse_id(&self.server_id)?,
            parse_id(&self.user_id)?,
        ))
    }
}

/// What allowed a terminal: a work session (people), or an API token (automation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    WorkSession(WorkSessionId),
    Token(TokenId),
}

impl Authority {
    pub fn work_session(self) -> Option<WorkSessionId> {
        match self {
            Authority::WorkSession(id) => Some(id),
            Authority::Token(_) => None,
        }
    }

    pub fn token(self) -> Option<TokenId> {
        match self {
            Authority::Token(id) => Some(id),
            Authority::WorkSession(_) => None,
        }
    }
}
