//! Recordings as a list: terminals joined with their owner and work session, filtered, and their
//! searchable text (`websh_text`), written in the transaction that records the terminal's end.

use super::{like_literal, Db};
use super::{StoreError, WriteTx};
use crate::time::to_micros;
use chrono::{DateTime, Utc};
use gatehouse_shared::{UserId, WorkSessionId, WorkspaceId};
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

/// A recording's searchable text, as `core::gateway::text` extracts it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordingText {
    pub typed: String,
    pub shown: String,
    pub truncated: bool,
    pub size_bytes: u64,
}

/// Stores (or replaces) a terminal's text, inside the write that records its end.
pub async fn save_text(tx: &mut WriteTx, id: Uuid, text: &RecordingText) -> Result<(), StoreError> {
    let (ws, now) = (tx.workspace(), tx.at());
    let folded = format!(
        "{}\n{}",
        text.typed.to_lowercase(),
        text.shown.to_lowercase()
    );
    sqlx::query(
        "INSERT INTO websh_text (websh_id, workspace_id, typed, shown, folded, truncated, \
         size_bytes, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (websh_id) DO UPDATE SET typed = excluded.typed, shown = excluded.shown, \
         folded = excluded.folded, truncated = excluded.truncated, \
         size_bytes = excluded.size_bytes, indexed_at = excluded.indexed_at",
    )
    .bind(id.to_string())
    .bind(ws.to_string())
    .bind(&text.typed)
    .bind(&text.shown)
    .bind(folded)
    .bind(i64::from(text.truncated))
    .bind(i64::try_from(text.size_bytes).unwrap_or(i64::MAX))
    .bind(to_micros(now))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Filters of `GET /api/recordings`.
#[derive(Debug, Default, Clone)]
pub struct RecordingFilter {
    /// Members see only their own terminals.
    pub visible_to: Option<UserId>,
    /// One terminal.
    pub id: Option<Uuid>,
    pub owner: Option<UserId>,
    pub server: Option<String>,
    pub work_session: Option<WorkSessionId>,
    /// Started at or after.
    pub from: Option<DateTime<Utc>>,
    /// Started before.
    pub to: Option<DateTime<Utc>>,
    /// Text typed or shown (case-insensitive substring).
    pub q: Option<String>,
    /// Terminals that match `q` by a reading of their file (live ones, which have no stored
    /// text yet).
    pub also_ids: Vec<String>,
    /// `(created_at, id)` of the last row of the previous page.
    pub cursor: Option<(i64, String)>,
    pub limit: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecordingRow {
    pub id: String,
    pub work_session_id: Option<String>,
    pub purpose: Option<String>,
    pub server_name: String,
    pub user_id: String,
    pub username: String,
    pub run_as: Option<String>,
    pub cols: i64,
    pub rows: i64,
    pub recording: String,
    pub created_at: i64,
    pub ended_at: Option<i64>,
    pub exit_code: Option<i32>,
    pub end_reason: Option<String>,
    /// The text, fetched only when a search needs a snippet.
    pub typed: Option<String>,
    pub shown: Option<String>,
}

const FROM: &str = " FROM websh_sessions w JOIN users u ON u.id = w.user_id \
    LEFT JOIN work_sessions s ON s.id = w.work_session_id \
    LEFT JOIN websh_text t ON t.websh_id = w.id";

fn push_filters(q: &mut QueryBuilder<'_, Sqlite>, ws: WorkspaceId, f: &RecordingFilter) {
    q.push(" WHERE w.workspace_id = ").push_bind(ws.to_string());
    if let Some(me) = f.visible_to {
        q.push(" AND w.user_id = ").push_bind(me.to_string());
    }
    if let Some(id) = f.id {
        q.push(" AND w.id = ").push_bind(id.to_string());
    }
    if let Some(owner) = f.owner {
        q.push(" AND w.user_id = ").push_bind(owner.to_string());
    }
    if let Some(server) = &f.server {
        q.push(" AND w.server_name = ").push_bind(server.clone());
    }
    if let Some(session) = f.work_session {
        q.push(" AND w.work_session_id = ")
            .push_bind(session.to_string());
    }
    if let Some(from) = f.from {
        q.push(" AND w.created_at >= ").push_bind(to_micros(from));
    }
    if let Some(to) = f.to {
        q.push(" AND w.created_at < ").push_bind(to_micros(to));
    }
    if let Some(text) = &f.q {
        q.push(" AND (t.folded LIKE ")
            .push_bind(like_literal(&text.to_lowercase()))
            .push(" ESCAPE '\\'");
        for id in &f.also_ids {
            q.push(" OR w.id = ").push_bind(id.clone());
        }
        q.push(")");
    }
}

/// Live terminals (no stored text yet) matching every filter but the text: `(id, file)`.
/// Terminal caps keep these few.
pub async fn live_without_text(
    db: &Db,
    ws: WorkspaceId,
    f: &RecordingFilter,
) -> Result<Vec<(String, String)>, StoreError> {
    let unsearched = RecordingFilter {
        q: None,
        ..f.clone()
    };
    let mut q = QueryBuilder::new(format!("SELECT w.id, w.recording{FROM}"));
    push_filters(&mut q, ws, &unsearched);
    q.push(" AND w.ended_at IS NULL AND t.websh_id IS NULL");
    let rows: Vec<(String, String)> = q.build_query_as().fetch_all(&db.pool).await?;
    Ok(rows)
}

/// Recordings matching the filter, newest first; how many match in all; the next cursor.
pub async fn list(
    db: &Db,
    ws: WorkspaceId,
    f: &RecordingFilter,
) -> Result<(Vec<RecordingRow>, i64, Option<(i64, String)>), StoreError> {
    let mut count = QueryBuilder::new(format!("SELECT COUNT(*){FROM}"));
    push_filters(&mut count, ws, f);
    let (total,): (i64,) = count.build_query_as().fetch_one(&db.pool).await?;

    // The text is large: only a search, which shows a snippet, reads it.
    let text = if f.q.is_some() {
        "t.typed, t.shown"
    } else {
        "NULL AS typed, NULL AS shown"
    };
    let mut q = QueryBuilder::new(format!(
        "SELECT w.id, w.work_session_id, s.purpose, w.server_name, w.user_id, u.username, \
         w.run_as, w.cols, w.rows, w.recording, w.created_at, w.ended_at, w.exit_code, \
         w.end_reason, {text}{FROM}"
    ));
    push_filters(&mut q, ws, f);
    if let Some((created, id)) = &f.cursor {
        q.push(" AND (w.created_at < ")
            .push_bind(*created)
            .push(" OR (w.created_at = ")
            .push_bind(*created)
            .push(" AND w.id < ")
            .push_bind(id.clone())
            .push("))");
    }
    q.push(" ORDER BY w.created_at DESC, w.id DESC LIMIT ")
        .push_bind(f.limit + 1);
    let mut rows: Vec<RecordingRow> = q.build_query_as().fetch_all(&db.pool).await?;
    let next = if rows.len() as i64 > f.limit {
        rows.truncate(f.limit as usize);
        rows.last().map(|r| (r.created_at, r.id.clone()))
    } else {
        None
    };
    Ok((rows, total, next))
}
