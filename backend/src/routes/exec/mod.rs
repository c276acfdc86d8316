//! `POST /api/exec`: one command on many servers at once, each behind the gate (scope `command`),
//! with bounded output capture; `GET /api/exec/{id}`; the live stream `WS /ws/exec/{id}` is in
//! `socket` (who attaches in `admit`, what the client sends in `control`).

mod admit;
mod control;
pub mod socket;

use crate::core::audit::{self, typed, SUCCESS};
use crate::core::exec_results::{record_results, JobRecord};
use crate::core::gate::{DenialNote, Gate};
use crate::core::gateway::capture::{ExecRunState, RunEnd};
use crate::core::gateway::exec_job::{JobInfo, LiveJob, LINGER};
use crate::core::gateway::hub::{ExecIo, Program};
use crate::core::state::AppState;
use crate::core::{command_approvals, elevation};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use crate::gatekeeper::{asker, elevate, person, run_as, select, targets, Elevated};
use crate::store::{exec as store, WriteTx};
use crate::time::now;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use gatehouse_shared::acl::words;
use gatehouse_shared::agent_link::{is_dangerous_env, ChannelId, TtySize};
use gatehouse_shared::audit::{AuditAction, ExecStartedDetails};
use gatehouse_shared::exec::{
    ExecJob, ExecRequest, DEFAULT_TIMEOUT_SECS, MAX_ARGS, MAX_COMMAND_LEN, MAX_TIMEOUT_SECS,
};
use gatehouse_shared::gate::{AuthMethod, Detail};
use gatehouse_shared::websh::valid_size;
use gatehouse_shared::{ErrorEnvelope, Scope};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/exec", post(run_exec))
        .route("/api/exec/{id}", get(get_exec))
        .route("/ws/exec/{id}", get(socket::exec_socket))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExecQuery {
    /// Block until every run ended.
    wait: Option<bool>,
}

/// At most this many servers in one request.
const MAX_SERVERS: usize = 1000;

/// Run a command on servers; every server passes the gate first, or nothing runs.
#[utoipa::path(post, path = "/api/exec", tag = "exec", request_body = ExecRequest, params(ExecQuery),
    responses((status = 201, body = ExecJob),
              (status = 202, body = gatehouse_shared::approval::PendingApproval,
               description = "a root command outside the session's declared commands, asked with request_approval"),
              (status = 401, body = ErrorEnvelope, description = "mfa_step_up_required (root)"),
              (status = 403, body = ErrorEnvelope)))]
pub async fn run_exec(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ExecQuery>,
    ApiJson(req): ApiJson<ExecRequest>,
) -> ApiResult<Response> {
    let mut program = program_of(&req, auth.method)?;
    let mut names = req.servers.clone();
    names.sort();
    names.dedup();
    if names.is_empty() || names.len() > MAX_SERVERS {
        return Err(ApiError::validation(
            "servers",
            format!("1 to {MAX_SERVERS} servers"),
        ));
    }
    let env: Vec<(String, String)> = req.env.clone().unwrap_or_default().into_iter().collect();
    if auth.method.is_token() && !env.is_empty() {
        return Err(ApiError::validation(
            "env",
            "an API token cannot pass environment variables",
        ));
    }
    if let Some((key, _)) = env.iter().find(|(k, _)| is_dangerous_env(k)) {
        return Err(ApiError::validation("env", format!("{key} may not be set")));
    }
    let io = io_of(&req, names.len())?;
    let timeout = req.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS);
    if !(1..=MAX_TIMEOUT_SECS).contains(&timeout) {
        return Err(ApiError::validation(
            "timeout_secs",
            format!("1 to {MAX_TIMEOUT_SECS}"),
        ));
    }

    // The gate for every server before anything starts.
    let mut gated = Vec::with_capacity(names.len());
    let session = select(&state, &auth, &headers).await?;
    let person = person(&state, &auth).await?;
    let gate = Gate::new(&state, asker(&auth)).await;
    let mut root_op = None;
    for (name, (row, link)) in names.iter().zip(targets(&state, &names).await?) {
        let decided = run_as(&person, name, req.user.as_deref(), link.as_ref());
        let op = decided
            .operation(Scope::Command, name)
            .with_detail(program.detail());
        let note = DenialNote::default();
        let pass = gate
            .check(session.clone(), &op, decided, row.as_ref(), note)
            .await?;
        if op.as_root && root_op.is_none() {
            root_op = Some((op, gated.len()));
        }
        gated.push((name.clone(), link, pass));
    }
    // Elevation (core::elevation): root needs the session's declared commands and step-up MFA,
    // decided once per request; outside the declared commands, `request_approval` queues it.
    if let Some((op, at)) = root_op {
        let words = elevation::argv_of(req.argv.as_deref(), &req.command);
        let ask = elevation::Ask::Command(words.as_deref());
        let (_, _, pass) = &gated[at];
        let shown = program.display();
        let decided = elevate(
            &state,
            &auth,
            pass,
            &op,
            ask,
            Some(&shown),
            req.request_approval,
        );
        if let Elevated::NeedsApproval(_) = decided.await? {
            // An approved command runs when it is approved, with nobody attached to give it
            // input or a terminal.
            if io != ExecIo::default() {
                return Err(ApiError::validation(
                    "request_approval",
                    "a command with stdin or tty cannot wait for an approval",
                ));
            }
            let session = session.as_ref().ok_or_else(ApiError::internal)?;
            let ask = command_approvals::Ask {
                servers: &names,
                command: &shown,
                argv: req.argv.as_deref(),
                run_as: req.user.as_deref(),
                env: req.env.as_ref(),
                timeout_secs: timeout,
            };
            let pending =
                command_approvals::request(&state, &auth.user_ref(), session, ask).await?;
            return Ok((StatusCode::ACCEPTED, Json(pending)).into_response());
        }
        // What matched a declared pattern is the argv, so that is what runs: a shell would
        // expand globs and variables in the line into something no pattern was checked against.
        let declared = session
            .as_ref()
            .is_some_and(|s| !s.sudo_commands.is_empty());
        if let (true, Asked::Shell(_), Some(words)) = (declared, &program, words) {
            program = Asked::Argv(words);
        }
    }

    let job_id = Uuid::new_v4();
    let runs: Vec<(Uuid, String)> = gated
        .iter()
        .map(|(name, _, _)| (Uuid::new_v4(), name.clone()))
        .collect();
    // The job, its runs and the event saying it started land together, before any agent runs
    // it: a command that ran is always one the log knows.
    let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
    store::insert(
        &mut tx,
        &store::NewJob {
            id: job_id,
            work_session: session.as_ref().map(|s| s.id),
            user: auth.id,
            command: &program.display(),
            argv: program.argv(),
            run_as: req.user.as_deref(),
            timeout_secs: timeout,
        },
        &runs,
    )
    .await?;
    let mut started_event = audit::event(AuditAction::ExecStarted, SUCCESS)
        .actor(&auth.username)
        .target(job_id.to_string())
        .details(typed(&ExecStartedDetails {
            job: job_id,
            command: program.display(),
            run_as: req.user.clone(),
            servers: runs.iter().map(|(_, name)| name.clone()).collect(),
            timeout_secs: timeout,
            stdin: io.stdin,
            tty: io.tty.is_some(),
        }));
    if let Some(s) = &session {
        started_event = started_event.work_session(s.id);
    }
    tx.commit(started_event).await?;

    // The job's stream: every run in the order the job lists them (by server name), sharing
    // one wake-up for the job's viewers.
    let changed = Arc::new(tokio::sync::Notify::new());
    let mut started = Vec::with_capacity(runs.len());
    let mut opens = Vec::with_capacity(runs.len());
    for ((run_id, name), (_, link, pass)) in runs.into_iter().zip(gated) {
        let channel = ChannelId(run_id);
        let run = Arc::new(ExecRunState::in_job(
            channel,
            name.clone(),
            session.as_ref().map(|s| s.id),
            req.paced(),
            changed.clone(),
        ));
        opens.push((name, link, pass, run.clone()));
        started.push((run_id, run));
    }
    let job = LiveJob::new(
        JobInfo {
            id: job_id,
            owner: auth.id,
            token: auth.token,
            work_session: session.as_ref().map(|s| s.id),
            run_as: req.user.clone(),
            command: program.display(),
            argv: program.argv().map(<[String]>::to_vec),
            stdin: io.stdin,
            tty: io.tty.is_some(),
        },
        started.iter().map(|(_, run)| run.clone()).collect(),
        changed,
    );
    // Attachable before anything runs, so no output can come before a viewer may.
    state.hub.add_job(job.clone());
    for (name, link, pass, run) in opens {
        let channel = run.channel;
        match link {
            None => run.finish(RunEnd::Failed(format!("server {name} is not connected"))),
            // An agent from before standard input and terminals would run it without them.
            Some(link) if io != ExecIo::default() && !link.supports("exec_io") => {
                run.finish(RunEnd::Failed(format!(
                    "the agent on {name} is too old for stdin or tty; upgrade it"
                )))
            }
            Some(link) => {
                link.add_exec(channel, run.clone());
                let command = program.to_agent();
                let env = env.clone();
                // Opening waits for the agent's answer; do it off the request path so a
                // thousand servers start in parallel.
                tokio::spawn(async move {
                    let opened = link
                        .open_exec(channel, pass, command, env, timeout, io)
                        .await;
                    match opened {
                        Ok(()) => run.mark_opened(),
                        Err(refused) => {
                            link.remove(channel);
                            run.finish(RunEnd::Failed(refused.to_string()));
                        }
                    }
                });
            }
        }
    }
    tokio::spawn(forget_when_done(state.clone(), job));
    let record = JobRecord {
        id: job_id,
        username: auth.username.clone(),
        work_session: session.as_ref().map(|s| s.id),
        command: req.command.clone(),
    };
    let collector = tokio::spawn(record_results(state.clone(), record, started));
    if q.wait.unwrap_or(false) {
        let deadline = Duration::from_secs(timeout + 30);
        let _ = tokio::time::timeout(deadline, collector).await;
    }
    let (job, _) = store::get(&state.db, state.workspace, job_id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(job)).into_response())
}

/// Keeps an ended job attachable for a while (a client that lost its socket near the end gets
/// the tail and the exits), then lets its buffers go.
async fn forget_when_done(state: AppState, job: Arc<LiveJob>) {
    for run in &job.runs {
        run.wait().await;
    }
    tokio::time::sleep(LINGER).await;
    state.hub.remove_job(job.id);
}

/// Standard input (one server only) and the terminal, checked.
fn io_of(req: &ExecRequest, servers: usize) -> ApiResult<ExecIo> {
    if req.stdin && servers != 1 {
        return Err(ApiError::validation(
            "stdin",
            "standard input goes to exactly one server",
        ));
    }
    if !req.tty && (req.cols.is_some() || req.rows.is_some()) {
        let field = if req.cols.is_some() { "cols" } else { "rows" };
        return Err(ApiError::validation(field, "only with tty"));
    }
    let (cols, rows) = (req.cols.unwrap_or(80), req.rows.unwrap_or(24));
    if !valid_size(cols, rows) {
        let field = if valid_size(cols, 1) { "rows" } else { "cols" };
        return Err(ApiError::validation(field, "1 to 1000"));
    }
    Ok(ExecIo {
        stdin: req.stdin,
        tty: req.tty.then_some(TtySize { cols, rows }),
    })
}

/// A command job with each server's run as far as it got.
#[utoipa::path(get, path = "/api/exec/{id}", tag = "exec",
    params(("id" = String, Path, description = "job id")),
    responses((status = 200, body = ExecJob), (status = 404, body = ErrorEnvelope)))]
pub async fn get_exec(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ExecJob>> {
    let (job, owner) = store::get(&state.db, state.workspace, id)
        .await?
        .ok_or_else(|| ApiError::not_found("exec job"))?;
    if owner != auth.id.to_string() && !auth.role.is_staff_or_above() {
        return Err(ApiError::not_found("exec job"));
    }
    Ok(Json(job))
}

/// What an exec request runs, checked: a shell line (people only), or an argv. A token's
/// command line becomes an argv by POSIX word rules, or stays unsplittable, which the gate
/// refuses as a token ACL denial (audited like any other).
enum Asked {
    Shell(String),
    Argv(Vec<String>),
    Unsplittable(String),
}

impl Asked {
    fn detail(&self) -> Detail<'_> {
        match self {
            Asked::Shell(_) => Detail::None,
            Asked::Argv(argv) => Detail::Argv(argv),
            Asked::Unsplittable(reason) => Detail::Unsplittable(reason),
        }
    }

    fn argv(&self) -> Option<&[String]> {
        match self {
            Asked::Argv(argv) => Some(argv),
            _ => None,
        }
    }

    /// How the job names its command: the shell line, or the argv shell-quoted.
    fn display(&self) -> String {
        match self {
            Asked::Shell(line) | Asked::Unsplittable(line) => line.clone(),
            Asked::Argv(argv) => words::quote_all(argv),
        }
    }

    fn to_agent(&self) -> Program {
        match self {
            Asked::Argv(argv) => Program::Argv(argv.clone()),
            Asked::Shell(line) | Asked::Unsplittable(line) => Program::Shell(line.clone()),
        }
    }
}

/// Exactly one of `command` and `argv`, within bounds; a token's command line is split.
fn program_of(req: &ExecRequest, method: AuthMethod) -> ApiResult<Asked> {
    match (&req.argv, req.command.as_str()) {
        (Some(_), command) if !command.is_empty() => Err(ApiError::validation(
            "argv",
            "give either command or argv, not both",
        )),
        (Some(argv), _) => {
            let total: usize = argv.iter().map(String::len).sum();
            if argv.is_empty() || argv[0].is_empty() {
                return Err(ApiError::validation(
                    "argv",
                    "the program (argv[0]) is missing",
                ));
            }
            if argv.len() > MAX_ARGS || total > MAX_COMMAND_LEN {
                return Err(ApiError::validation(
                    "argv",
                    format!("at most {MAX_ARGS} arguments and {MAX_COMMAND_LEN} bytes"),
                ));
            }
            if argv.iter().any(|a| a.contains('\0')) {
                return Err(ApiError::validation("argv", "an argument holds a NUL byte"));
            }
            Ok(Asked::Argv(argv.clone()))
        }
        (None, command) => {
            if command.trim().is_empty() || command.len() > MAX_COMMAND_LEN {
                return Err(ApiError::validation(
                    "command",
                    format!("1 to {MAX_COMMAND_LEN} bytes (or give argv)"),
                ));
            }
            if method.is_interactive() {
                return Ok(Asked::Shell(command.to_owned()));
            }
            Ok(match words::split(command) {
                Ok(argv) if !argv.is_empty() => Asked::Argv(argv),
                Ok(_) => Asked::Unsplittable("the command holds no words".into()),
                Err(e) => Asked::Unsplittable(format!(
                    "a token's command runs without a shell, and this one cannot: {e}"
                )),
            })
        }
    }
}
