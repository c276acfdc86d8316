//! The audit log table: append-only, hash-chained per workspace.

use super::StoreError;
use super::{like_literal, Db};
use crate::time::{from_micros, to_micros};
use chrono::{DateTime, Utc};
use gatehouse_shared::audit::{
    chain_hash, first_broken, AuditAction, AuditEvent, AuditVerification, GENESIS_HASH,
};
use gatehouse_shared::WorkspaceId;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

/// What a caller records; sequence number and hashes are filled in by [`append`].
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub actor: Option<String>,
    pub action: AuditAction,
    pub target: Option<String>,
    pub outcome: &'static str,
    pub work_session: Option<String>,
    pub server: Option<String>,
    pub details: serde_json::Value,
}

#[derive(Debug, sqlx::FromRow)]
struct EventRow {
    seq: i64,
    at: i64,
    actor: Option<String>,
    action: String,
    target: Option<String>,
    outcome: String,
    work_session: Option<String>,
    server: Option<String>,
    details: String,
    hash: String,
    prev_hash: String,
}

impl EventRow {
    fn into_event(self) -> AuditEvent {
        AuditEvent {
            seq: self.seq,
            at: from_micros(self.at),
            actor: self.actor,
            action: self.action,
            target: self.target,
            outcome: self.outcome,
            work_session: self.work_session,
            server: self.server,
            // A row whose details are not JSON was tampered with; verify reports it by hash.
            details: serde_json::from_str(&self.details).unwrap_or(serde_json::Value::Null),
            hash: self.hash,
            prev_hash: self.prev_hash,
        }
    }
}

const COLUMNS: &str =
    "seq, at, actor, action, target, outcome, work_session, server, details, hash, prev_hash";

/// The chain's head as a write sees it: the last event's sequence number and hash.
pub(super) type Head = (i64, String);

/// Reads the recorded head inside a write transaction (begun `IMMEDIATE`, so it cannot move
/// until that write ends). Chaining onto the recorded head, not onto whatever row is last, means
/// that rows cut from the end show up as a gap instead of being hidden.
pub(super) async fn read_head(
    conn: &mut SqliteConnection,
    ws: WorkspaceId,
) -> Result<Head, StoreError> {
    let head: Head =
        sqlx::query_as("SELECT audit_head_seq, audit_head_hash FROM workspaces WHERE id = ?")
            .bind(ws.to_string())
            .fetch_one(&mut *conn)
            .await?;
    Ok(head)
}

/// Records the head a write moved the chain to (once, when the write commits).
pub(super) async fn write_head(
    conn: &mut SqliteConnection,
    ws: WorkspaceId,
    head: &Head,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE workspaces SET audit_head_seq = ?, audit_head_hash = ? WHERE id = ?")
        .bind(head.0)
        .bind(&head.1)
        .bind(ws.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Appends events after `head`, in order, inside a write transaction and moves `head` onto the
/// last; one statement however many there are (a fan-out's runs end by the hundred). Only
/// [`super::WriteTx`] calls it: nothing outside the store appends to the chain by any other path.
pub(super) async fn append(
    conn: &mut SqliteConnection,
    ws: WorkspaceId,
    head: &mut Head,
    events: Vec<NewEvent>,
    now: DateTime<Utc>,
) -> Result<Vec<AuditEvent>, StoreError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut chained = Vec::with_capacity(events.len());
    let (mut seq, mut prev) = head.clone();
    for event in events {
        let mut stored = AuditEvent {
            seq: seq + 1,
            at: now,
            actor: event.actor,
            action: event.action.as_str().to_owned(),
            target: event.target,
            outcome: event.outcome.to_owned(),
            work_session: event.work_session,
            server: event.server,
            details: event.details,
            hash: String::new(),
            prev_hash: prev,
        };
        stored.hash = chain_hash(&stored);
        (seq, prev) = (stored.seq, stored.hash.clone());
        chained.push(stored);
    }
    let mut insert =
        QueryBuilder::<Sqlite>::new(format!("INSERT INTO audit_log (workspace_id, {COLUMNS}) "));
    insert.push_values(&chained, |mut row, e| {
        row.push_bind(ws.to_string())
            .push_bind(e.seq)
            .push_bind(to_micros(e.at))
            .push_bind(e.actor.clone())
            .push_bind(e.action.clone())
            .push_bind(e.target.clone())
            .push_bind(e.outcome.clone())
            .push_bind(e.work_session.clone())
            .push_bind(e.server.clone())
            .push_bind(e.details.to_string())
            .push_bind(e.hash.clone())
            .push_bind(e.prev_hash.clone());
    });
    insert.build().execute(&mut *conn).await?;
    *head = (seq, prev);
    Ok(chained)
}

/// Filters of `GET /api/audit`.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// Exact action, or a prefix when it ends with `.` or `*` (`work_session.*`).
    pub action: Option<String>,
    pub server: Option<String>,
    pub work_session: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Text in the actor, action, target or details (case-insensitive substring).
    pub q: Option<String>,
    /// The start of an id (the 8 hex characters the console shows, or more): the target, the
    /// work session, or an id inside the details begins with it.
    pub id_prefix: Option<String>,
    /// Only events with `seq` greater than this (the cursor, oldest first).
    pub after_seq: Option<i64>,
    /// Only events with `seq` less than this (the cursor, newest first).
    pub before_seq: Option<i64>,
    /// Newest first instead of in chain order.
    pub newest_first: bool,
    pub limit: i64,
}

fn push_filters(q: &mut QueryBuilder<'_, Sqlite>, ws: WorkspaceId, f: &AuditFilter) {
    q.push(" WHERE workspace_id = ").push_bind(ws.to_string());
    if let Some(actor) = &f.actor {
        q.push(" AND actor = ").push_bind(actor.clone());
    }
    if let Some(action) = &f.action {
        if let Some(prefix) = action.strip_suffix('*') {
            q.push(" AND substr(action, 1, ")
                .push_bind(prefix.len() as i64)
                .push(") = ")
                .push_bind(prefix.to_owned());
        } else {
            q.push(" AND action = ").push_bind(action.clone());
        }
    }
    if let Some(server) = &f.server {
        q.push(" AND server = ").push_bind(server.clone());
    }
    if let Some(ws_id) = &f.work_session {
        q.push(" AND work_session = ").push_bind(ws_id.clone());
    }
    if let Some(from) = f.from {
        q.push(" AND at >= ").push_bind(to_micros(from));
    }
    if let Some(to) = f.to {
        q.push(" AND at < ").push_bind(to_micros(to));
    }
    if let Some(text) = &f.q {
        // `lower` folds ASCII only on SQLite (all of Unicode on PostgreSQL): actions, ids and
        // usernames are ASCII, which is what this search is mostly for.
        q.push(
            " AND lower(COALESCE(actor, '') || ' ' || action || ' ' || COALESCE(target, '') \
             || ' ' || details) LIKE ",
        )
        .push_bind(like_literal(&text.to_lowercase()))
        .push(" ESCAPE '\\'");
    }
    if let Some(prefix) = &f.id_prefix {
        // Ids are lowercase UUIDs; in the details they are JSON strings, so one starts just
        // after a quote.
        let prefix = prefix.to_lowercase();
        let starts = format!("{}%", like_literal(&prefix).trim_matches('%'));
        q.push(" AND (target LIKE ")
            .push_bind(starts.clone())
            .push(" ESCAPE '\\' OR work_session LIKE ")
            .push_bind(starts)
            .push(" ESCAPE '\\' OR details LIKE ")
            .push_bind(format!("%\"{}%", like_literal(&prefix).trim_matches('%')))
            .push(" ESCAPE '\\')");
    }
}

/// Events in `seq` order matching the filter, and how many match in all.
pub async fn list(
    db: &Db,
    ws: WorkspaceId,
    f: &AuditFilter,
) -> Result<(Vec<AuditEvent>, i64), StoreError> {
    let mut count = QueryBuilder::new("SELECT COUNT(*) FROM audit_log");
    push_filters(&mut count, ws, f);
    let (total,): (i64,) = count.build_query_as().fetch_one(&db.pool).await?;

    let mut q = QueryBuilder::new(format!("SELECT {COLUMNS} FROM audit_log"));
    push_filters(&mut q, ws, f);
    if let Some(after) = f.after_seq {
        q.push(" AND seq > ").push_bind(after);
    }
    if let Some(before) = f.before_seq {
        q.push(" AND seq < ").push_bind(before);
    }
    q.push(if f.newest_first {
        " ORDER BY seq DESC LIMIT "
    } else {
        " ORDER BY seq LIMIT "
    })
    .push_bind(f.limit);
    let rows: Vec<EventRow> = q.build_query_as().fetch_all(&db.pool).await?;
    Ok((rows.into_iter().map(EventRow::into_event).collect(), total))
}

/// Walks the whole chain of the workspace in batches and reports the first broken row.
pub async fn verify(db: &Db, ws: WorkspaceId) -> Result<AuditVerification, StoreError> {
    const BATCH: i64 = 2000;
    let mut prev_hash = GENESIS_HASH.to_owned();
    let mut prev_seq = 0;
    let mut checked = 0;
    // Page by rowid order of seq; a removed row shows as a gap, a reordered one as a bad link.
    let mut after = i64::MIN;
    loop {
        let rows: Vec<EventRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM audit_log WHERE workspace_id = ? AND seq > ? ORDER BY seq LIMIT ?"
        ))
        .bind(ws.to_string())
        .bind(after)
        .bind(BATCH)
        .fetch_all(&db.pool)
        .await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        let events: Vec<AuditEvent> = rows.into_iter().map(EventRow::into_event).collect();
        let (n, bad) = first_broken(&events, prev_hash.clone(), prev_seq);
        checked += n;
        if let Some(seq) = bad {
            return Ok(AuditVerification {
                ok: false,
                events_checked: checked,
                first_bad_seq: Some(seq),
            });
        }
        if let Some(last) = events.last() {
            prev_hash = last.hash.clone();
            prev_seq = last.seq;
        }
    }
    // The chain is intact; it must also end where the last append said it ends.
    let (head_seq, head_hash): (i64, String) =
        sqlx::query_as("SELECT audit_head_seq, audit_head_hash FROM workspaces WHERE id = ?")
            .bind(ws.to_string())
            .fetch_one(&db.pool)
            .await?;
    let first_bad_seq = if head_seq > prev_seq {
        Some(prev_seq + 1)
    } else if head_seq < prev_seq || head_hash != prev_hash {
        Some(head_seq.max(1))
    } else {
        None
    };
    Ok(AuditVerification {
        ok: first_bad_seq.is_none(),
        events_checked: checked,
        first_bad_seq,
    })
}
