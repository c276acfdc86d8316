//! Command jobs and their per-server runs.

use super::Db;
use super::{StoreError, WriteTx};
use crate::time::to_micros;
use gatehouse_shared::exec::{ExecJob, ExecRun, RunStatus};
use gatehouse_shared::{UserId, WorkSessionId, WorkspaceId};
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

pub struct NewJob<'a> {
    pub id: Uuid,
    pub work_session: Option<WorkSessionId>,
    pub user: UserId,
    pub command: &'a str,
    pub argv: Option<&'a [String]>,
    pub run_as: Option<&'a str>,
    pub timeout_secs: u64,
}

/// Inserts the job and one `running` row per (run id, server), inside the caller's write.
pub async fn insert(
    write: &mut WriteTx,
    job: &NewJob<'_>,
    runs: &[(Uuid, String)],
) -> Result<(), StoreError> {
    let (ws, now) = (write.workspace(), write.at());
    let tx = write.conn();
    sqlx::query(
        "INSERT INTO exec_jobs (id, workspace_id, work_session_id, user_id, command, argv, run_as, \
         timeout_secs, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(job.id.to_string())
    .bind(ws.to_string())
    .bind(job.work_session.map(|s| s.to_string()))
    .bind(job.user.to_string())
    .bind(job.command)
    .bind(job.argv.map(|a| serde_json::to_string(a).unwrap_or_default()))
    .bind(job.run_as)
    .bind(job.timeout_secs as i64)
    .bind(to_micros(now))
    .execute(&mut *tx)
    .await?;
    // Every run in one statement: a thousand servers are one round trip, not a thousand.
    let mut insert = QueryBuilder::<Sqlite>::new(
        "INSERT INTO exec_runs (id, workspace_id, job_id, server_name, status) ",
    );
    insert.push_values(runs, |mut row, (id, server)| {
        row.push_bind(id.to_string())
            .push_bind(ws.to_string())
            .push_bind(job.id.to_string())
            .push_bind(server.clone())
            .push("'running'");
    });
    insert.build().execute(&mut *tx).await?;
    Ok(())
}

/// Stores runs' results inside the caller's write, all in one statement.
pub async fn finish_runs(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    results: &[(Uuid, ExecRun)],
) -> Result<(), StoreError> {
    if results.is_empty() {
        return Ok(());
    }
    // `VALUES` names its columns column1, column2, … in order.
    let mut update = QueryBuilder::<Sqlite>::new(
        "UPDATE exec_runs SET status = r.column2, exit_code = r.column3, stdout = r.column4, \
         stderr = r.column5, duration_ms = r.column6, error = r.column7 FROM (",
    );
    update.push_values(results, |mut row, (id, run)| {
        row.push_bind(id.to_string())
            .push_bind(run.status.as_str())
            .push_bind(run.exit_code)
            .push_bind(run.stdout.clone())
            .push_bind(run.stderr.clone())
            .push_bind(run.duration_ms.map(|d| d as i64))
            .push_bind(run.error.clone());
    });
    update
        .push(") AS r WHERE exec_runs.workspace_id = ")
        .push_bind(ws.to_string())
        .push(" AND exec_runs.id = r.column1");
    update.build().execute(tx.conn()).await?;
    Ok(())
}

/// The job and who owns it.
pub async fn get(
    db: &Db,
    ws: WorkspaceId,
    id: Uuid,
) -> Result<Option<(ExecJob, String)>, StoreError> {
    let job: Option<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT command, argv, user_id FROM exec_jobs WHERE workspace_id = ? AND id = ?",
    )
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(&db.pool)
    .await?;
    let Some((command, argv, owner)) = job else {
        return Ok(None);
    };
    let argv: Option<Vec<String>> = argv
        .map(|a| serde_json::from_str(&a))
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("exec argv: {e}")))?;
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        String,
        String,
        Option<i32>,
        String,
        String,
        Option<i64>,
        Option<String>,
    )> = sqlx::query_as(
        "SELECT server_name, status, exit_code, stdout, stderr, duration_ms, error FROM exec_runs \
         WHERE workspace_id = ? AND job_id = ? ORDER BY server_name",
    )
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_all(&db.pool)
    .await?;
    let runs = rows
        .into_iter()
        .map(
            |(server, status, exit_code, stdout, stderr, duration_ms, error)| ExecRun {
                server,
                status: match status.as_str() {
                    "succeeded" => RunStatus::Succeeded,
                    "failed" => RunStatus::Failed,
                    "timed_out" => RunStatus::TimedOut,
                    "error" => RunStatus::Error,
                    _ => RunStatus::Running,
                },
                exit_code,
                stdout,
                stderr,
                duration_ms: duration_ms.map(|d| d as u64),
                error,
            },
        )
        .collect();
    Ok(Some((
        ExecJob {
            id,
            command,
            argv,
            runs,
            stream_path: gatehouse_shared::exec::stream_path(id),
        },
        owner,
    )))
}
