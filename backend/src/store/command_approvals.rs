//! Single root commands waiting for an approver (`command_approvals`, migration 0011): the
//! command exactly as asked, and its one decision, made by a conditional update.

use super::{parse_id, Db, StoreError, WriteTx};
use crate::time::{from_micros, opt_from_micros, to_micros};
use chrono::{DateTime, Utc};
use gatehouse_shared::approval::ApprovalStatus;
use gatehouse_shared::{UserId, UserRef, WorkSessionId, WorkspaceId};
use std::collections::BTreeMap;
use uuid::Uuid;

/// One request as stored.
#[derive(Debug, Clone)]
pub struct CommandApproval {
    pub id: Uuid,
    pub work_session: WorkSessionId,
    pub requested_by: UserRef,
    pub servers: Vec<String>,
    pub command: String,
    pub argv: Option<Vec<String>>,
    pub run_as: Option<String>,
    pub env: Option<BTreeMap<String, String>>,
    pub timeout_secs: u64,
    pub status: ApprovalStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_by: Option<UserRef>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub exec_job: Option<Uuid>,
}

/// What a new request stores.
#[derive(Debug)]
pub struct NewCommandApproval<'a> {
    pub work_session: WorkSessionId,
    pub requested_by: UserId,
    pub servers: &'a [String],
    pub command: &'a str,
    pub argv: Option<&'a [String]>,
    pub run_as: Option<&'a str>,
    pub env: Option<&'a BTreeMap<String, String>>,
    pub timeout_secs: u64,
    pub expires_at: DateTime<Utc>,
}

const SELECT: &str =
    "SELECT c.id, c.work_session_id, c.requested_by, r.username AS requester, c.servers, \
     c.command, c.argv, c.run_as, c.env, c.timeout_secs, c.status, c.created_at, c.expires_at, \
     c.decided_by, d.username AS decider, c.decided_at, c.reason, c.exec_job \
     FROM command_approvals c JOIN users r ON r.id = c.requested_by \
     LEFT JOIN users d ON d.id = c.decided_by";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    work_session_id: String,
    requested_by: String,
    requester: String,
    servers: String,
    command: String,
    argv: Option<String>,
    run_as: Option<String>,
    env: Option<String>,
    timeout_secs: i64,
    status: String,
    created_at: i64,
    expires_at: i64,
    decided_by: Option<String>,
    decider: Option<String>,
    decided_at: Option<i64>,
    reason: Option<String>,
    exec_job: Option<String>,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("malformed {what} in command_approvals"))
}

fn from_row(r: Row) -> Result<CommandApproval, StoreError> {
    let decided_by = match (r.decided_by, r.decider) {
        (Some(id), Some(username)) => Some(UserRef {
            id: parse_id(&id)?,
            username,
        }),
        _ => None,
    };
    Ok(CommandApproval {
        id: parse_id(&r.id)?,
        work_session: parse_id(&r.work_session_id)?,
        requested_by: UserRef {
            id: parse_id(&r.requested_by)?,
            username: r.requester,
        },
        servers: serde_json::from_str(&r.servers).map_err(|_| corrupt("servers"))?,
        command: r.command,
        argv: r
            .argv
            .map(|a| serde_json::from_str(&a).map_err(|_| corrupt("argv")))
            .transpose()?,
        run_as: r.run_as,
        env: r
            .env
            .map(|e| serde_json::from_str(&e).map_err(|_| corrupt("env")))
            .transpose()?,
        timeout_secs: u64::try_from(r.timeout_secs).map_err(|_| corrupt("timeout_secs"))?,
        status: r
            .status
            .parse()
            .map_err(|e: String| StoreError::Corrupt(e))?,
        created_at: from_micros(r.created_at),
        expires_at: from_micros(r.expires_at),
        decided_by,
        decided_at: opt_from_micros(r.decided_at),
        reason: r.reason,
        exec_job: r.exec_job.map(|j| parse_id(&j)).transpose()?,
    })
}

/// Stores a new pending request; its id.
pub async fn insert(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    new: &NewCommandApproval<'_>,
) -> Result<Uuid, StoreError> {
    let id = Uuid::new_v4();
    let at = to_micros(tx.at());
    sqlx::query(
        "INSERT INTO command_approvals (id, workspace_id, work_session_id, requested_by, servers, \
         command, argv, run_as, env, timeout_secs, status, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
    )
    .bind(id.to_string())
    .bind(ws.to_string())
    .bind(new.work_session.to_string())
    .bind(new.requested_by.to_string())
    .bind(serde_json::json!(new.servers).to_string())
    .bind(new.command)
    .bind(new.argv.map(|a| serde_json::json!(a).to_string()))
    .bind(new.run_as)
    .bind(new.env.map(|e| serde_json::json!(e).to_string()))
    .bind(i64::try_from(new.timeout_secs).unwrap_or(i64::MAX))
    .bind(at)
    .bind(to_micros(new.expires_at))
    .execute(tx.conn())
    .await?;
    Ok(id)
}

pub async fn get(
    db: &Db,
    ws: WorkspaceId,
    id: Uuid,
) -> Result<Option<CommandApproval>, StoreError> {
    let row: Option<Row> =
        sqlx::query_as(&format!("{SELECT} WHERE c.workspace_id = ? AND c.id = ?"))
            .bind(ws.to_string())
            .bind(id.to_string())
            .fetch_optional(&db.pool)
            .await?;
    row.map(from_row).transpose()
}

/// Reads a request inside a write, so a decision is made on exactly what is stored.
pub async fn get_on(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    id: Uuid,
) -> Result<Option<CommandApproval>, StoreError> {
    let row: Option<Row> =
        sqlx::query_as(&format!("{SELECT} WHERE c.workspace_id = ? AND c.id = ?"))
            .bind(ws.to_string())
            .bind(id.to_string())
            .fetch_optional(tx.conn())
            .await?;
    row.map(from_row).transpose()
}

/// The one decision: only a request still pending and not past its expiry changes, so of two
/// racing approvers exactly one wins. `exec_job` is the job an approval runs as. False when it
/// was no longer pending (or had expired).
pub async fn decide(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    id: Uuid,
    status: ApprovalStatus,
    decided_by: UserId,
    reason: Option<&str>,
    exec_job: Option<Uuid>,
) -> Result<bool, StoreError> {
    let at = to_micros(tx.at());
    let done = sqlx::query(
        "UPDATE command_approvals SET status = ?, decided_by = ?, decided_at = ?, reason = ?, \
         exec_job = ? WHERE workspace_id = ? AND id = ? AND status = 'pending' AND expires_at > ?",
    )
    .bind(status.as_str())
    .bind(decided_by.to_string())
    .bind(at)
    .bind(reason)
    .bind(exec_job.map(|j| j.to_string()))
    .bind(ws.to_string())
    .bind(id.to_string())
    .bind(at)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends one pending request undecided (`expired` past its time, `lapsed` when its session
/// ended); false when it was no longer pending.
pub async fn end_undecided(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    id: Uuid,
    status: ApprovalStatus,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE command_approvals SET status = ?, decided_at = ? \
         WHERE workspace_id = ? AND id = ? AND status = 'pending'",
    )
    .bind(status.as_str())
    .bind(to_micros(tx.at()))
    .bind(ws.to_string())
    .bind(id.to_string())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Pending requests of a session (to lapse with it).
pub async fn pending_for_session(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    session: WorkSessionId,
) -> Result<Vec<CommandApproval>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE c.workspace_id = ? AND c.work_session_id = ? AND c.status = 'pending'"
    ))
    .bind(ws.to_string())
    .bind(session.to_string())
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter().map(from_row).collect()
}

/// Pending requests past their expiry at `now`, oldest first.
pub async fn due(
    db: &Db,
    ws: WorkspaceId,
    now: DateTime<Utc>,
) -> Result<Vec<CommandApproval>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE c.workspace_id = ? AND c.status = 'pending' AND c.expires_at <= ? \
         ORDER BY c.expires_at LIMIT 500"
    ))
    .bind(ws.to_string())
    .bind(to_micros(now))
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter().map(from_row).collect()
}

/// The earliest expiry of a pending request, for the scheduler's sleep.
pub async fn next_expiry(db: &Db, ws: WorkspaceId) -> Result<Option<DateTime<Utc>>, StoreError> {
    let (min,): (Option<i64>,) = sqlx::query_as(
        "SELECT MIN(expires_at) FROM command_approvals WHERE workspace_id = ? AND status = 'pending'",
    )
    .bind(ws.to_string())
    .fetch_one(&db.pool)
    .await?;
    Ok(opt_from_micros(min))
}

/// Which requests a list shows.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub statuses: Vec<ApprovalStatus>,
    pub requested_by: Option<UserId>,
    pub work_session: Option<WorkSessionId>,
    pub limit: i64,
}

/// Requests, newest first.
pub async fn list(
    db: &Db,
    ws: WorkspaceId,
    f: &ListFilter,
) -> Result<Vec<CommandApproval>, StoreError> {
    if f.statuses.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; f.statuses.len()].join(", ");
    let mut sql = format!("{SELECT} WHERE c.workspace_id = ? AND c.status IN ({marks})");
    let mut binds = vec![ws.to_string()];
    binds.extend(f.statuses.iter().map(|s| s.as_str().to_owned()));
    if let Some(user) = f.requested_by {
        sql.push_str(" AND c.requested_by = ?");
        binds.push(user.to_string());
    }
    if let Some(session) = f.work_session {
        sql.push_str(" AND c.work_session_id = ?");
        binds.push(session.to_string());
    }
    sql.push_str(" ORDER BY c.created_at DESC, c.id LIMIT ?");
    let mut query = sqlx::query_as::<_, Row>(&sql);
    for bind in binds {
        query = query.bind(bind);
    }
    let rows = query.bind(f.limit).fetch_all(&db.pool).await?;
    rows.into_iter().map(from_row).collect()
}
