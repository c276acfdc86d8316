//! `/api/files/{server}/...`: WebFTP and the editor. Every operation passes the gate (scope
//! `webftp`, or `editor` for the editor's load and save; `sudo` too when it runs as root) and is
//! run by the agent as the run-as user; every one is audited on the session's timeline.

mod digest;
pub mod download;
mod outcome;
mod path;
pub mod upload;

use crate::core::gate::GatePass;
use crate::core::gateway::files::{self as channel, FileHandle, CAPABILITY};
use crate::core::gateway::hub::AgentLink;
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use crate::gatekeeper;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use gatehouse_shared::acl::FileAction;
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::files::AbsolutePath;
use gatehouse_shared::files::{FileEntry, FileListing, FileOp, FileReply, PathBody, RenameBody};
use gatehouse_shared::gate::Detail;
use gatehouse_shared::{ErrorEnvelope, Scope};
use outcome::FileAudit;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

use download::download;
use upload::upload;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/files/{server}/list", get(list))
        .route("/api/files/{server}/stat", get(stat))
        // Uploads stream through at any size: the 64 KiB limit is for JSON bodies.
        .route(
            "/api/files/{server}/content",
            get(download)
                .head(head_content)
                .put(upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/api/files/{server}/mkdir", post(mkdir))
        .route("/api/files/{server}/rename", post(rename))
        .route("/api/files/{server}/delete", post(delete))
}

/// axum would answer `HEAD` with the download handler, opening a read on the agent that is then
/// cut and audited as an interrupted download; `stat` is the way to ask for size and time.
async fn head_content() -> ApiError {
    ApiError::bad_request("HEAD is not supported on file content; GET /api/files/{server}/stat gives its size and time")
}

/// `?path=&user=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PathQuery {
    /// Absolute path on the server.
    #[param(value_type = AbsolutePath, required = true)]
    path: Option<String>,
    /// Run-as user (default: the agent's own, which is root on a root agent and needs `sudo`).
    user: Option<String>,
    /// `stat` for the editor (its conflict and size checks): gated by `editor` instead of `webftp`.
    editor: Option<bool>,
}

/// `?user=` for the operations whose paths are in the body.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Run-as user (default: the agent's own, which is root on a root agent and needs `sudo`).
    user: Option<String>,
}

/// The answer of mkdir, rename and delete.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FileOpDone {
    pub ok: bool,
}

/// What a file operation asks the gate for: its scope (`webftp`, or `editor`), the run-as
/// account, and what it does to which paths (which an API token's file rules weigh).
pub(crate) struct Asked<'a> {
    scope: Scope,
    user: Option<String>,
    action: FileAction,
    paths: &'a [&'a str],
}

impl<'a> Asked<'a> {
    /// Listing, stat or download.
    pub(crate) fn reading(scope: Scope, user: Option<String>, paths: &'a [&'a str]) -> Self {
        let action = FileAction::Download;
        Self {
            scope,
            user,
            action,
            paths,
        }
    }

    /// Upload, mkdir, rename or delete.
    pub(crate) fn writing(scope: Scope, user: Option<String>, paths: &'a [&'a str]) -> Self {
        let action = FileAction::Upload;
        Self {
            scope,
            user,
            action,
            paths,
        }
    }
}

/// Where a gated file operation runs, with the gate's pass for it (spent by its one channel).
pub(crate) struct Target {
    link: Arc<AgentLink>,
    pass: GatePass,
    audit: FileAudit,
}

impl Target {
    /// Runs the gate for what is `asked` on `server`, then finds the agent, which must be
    /// connected and serve file operations.
    async fn resolve(
        state: &AppState,
        auth: &AuthUser,
        headers: &HeaderMap,
        server: &str,
        asked: Asked<'_>,
    ) -> ApiResult<Self> {
        let Asked {
            scope,
            user,
            action,
            paths,
        } = asked;
        let (row, link) = gatekeeper::target(state, server).await?;
        let decided = gatekeeper::run_as(
            &gatekeeper::person(state, auth).await?,
            server,
            user.as_deref(),
            link.as_ref(),
        );
        let op = decided
            .operation(scope, server)
            .with_detail(Detail::Files { action, paths });
        let run_as = decided.user.clone();
        let pass = gatekeeper::pass(state, auth, headers, &op, decided).await?;
        // Elevation: root file operations need step-up MFA and, in a session that declared
        // root commands, a declared lone `*`.
        let files = crate::core::elevation::Ask::Files;
        gatekeeper::elevate(state, auth, &pass, &op, files, None, false).await?;
        let (Some(row), Some(link)) = (row, link) else {
            return Err(ApiError::conflict(format!(
                "server {server} is not connected; its agent is offline"
            )));
        };
        if !link.supports(CAPABILITY) {
            return Err(ApiError::conflict(
                "this agent does not support file operations; upgrade it",
            ));
        }
        Ok(Target {
            audit: FileAudit {
                state: state.clone(),
                actor: auth.username.clone(),
                server: row.name,
                work_session: pass.session().map(|s| s.id),
                run_as,
            },
            link,
            pass,
        })
    }

    /// Opens a channel for a streamed operation.
    async fn open(self, op: FileOp) -> Result<FileHandle, channel::ChannelEnd> {
        FileHandle::open(&self.audit.state, &self.link, self.pass, op).await
    }

    /// Runs a one-shot operation; a refusal is audited as `action` and returned as the error.
    /// The reply comes back with the audit, which records how it ended.
    async fn run(
        self,
        action: AuditAction,
        path: &str,
        field: &str,
        op: FileOp,
    ) -> ApiResult<(FileReply, FileAudit)> {
        let Target { link, pass, audit } = self;
        let result = channel::request(&audit.state, &link, pass, op).await;
        let error = match result {
            Ok(FileReply::Error { kind, message }) => outcome::agent_error(kind, &message, field),
            Ok(reply) => return Ok((reply, audit)),
            Err(end) => outcome::ended(end),
        };
        Err(audit.failure(action, path, error).await)
    }

    /// Runs an operation that answers `ok`, auditing it either way.
    async fn run_ok(
        self,
        action: AuditAction,
        path: &str,
        field: &str,
        op: FileOp,
        details: serde_json::Value,
    ) -> ApiResult<Json<FileOpDone>> {
        match self.run(action, path, field, op).await? {
            (FileReply::Ok, audit) => {
                audit.success(action, path, details).await;
                Ok(Json(FileOpDone { ok: true }))
            }
            (other, audit) => Err(audit
                .failure(action, path, outcome::unexpected(&other))
                .await),
        }
    }
}

/// A directory's entries (symlinks are listed as such, never followed).
#[utoipa::path(get, path = "/api/files/{server}/list", tag = "files",
    params(("server" = String, Path, description = "server name"), PathQuery),
    responses((status = 200, body = FileListing), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    ApiPath(server): ApiPath<String>,
    ApiQuery(q): ApiQuery<PathQuery>,
) -> ApiResult<Json<FileListing>> {
    let path = path::checked("path", q.path)?;
    let target = Target::resolve(
        &state,
        &auth,
        &headers,
        &server,
        Asked::reading(Scope::Webftp, q.user, &[&path]),
    )
    .await?;
    let op = FileOp::List { path: path.clone() };
    match target.run(AuditAction::FileList, &path, "path", op).await? {
        (
            FileReply::Listing {
                path: listed,
                entries,
            },
            audit,
        ) => {
            // Audit what was asked for; the agent's normalised form goes alongside.
            let details = json!({"entries": entries.len(), "listed": listed});
            audit.success(AuditAction::FileList, &path, details).await;
            Ok(Json(FileListing {
                path: listed,
                entries,
            }))
        }
        (other, audit) => Err(audit
            .failure(AuditAction::FileList, &path, outcome::unexpected(&other))
            .await),
    }
}

/// One entry without following a final symlink (the editor's conflict check before saving).
#[utoipa::path(get, path = "/api/files/{server}/stat", tag = "files",
    params(("server" = String, Path, description = "server name"), PathQuery),
    responses((status = 200, body = FileEntry), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn stat(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    ApiPath(server): ApiPath<String>,
    ApiQuery(q): ApiQuery<PathQuery>,
) -> ApiResult<Json<FileEntry>> {
    let path = path::checked("path", q.path)?;
    let scope = if q.editor.unwrap_or(false) {
        Scope::Editor
    } else {
        Scope::Webftp
    };
    let target = Target::resolve(
        &state,
        &auth,
        &headers,
        &server,
        Asked::reading(scope, q.user, &[&path]),
    )
    .await?;
    let op = FileOp::Stat { path: path.clone() };
    match target.run(AuditAction::FileStat, &path, "path", op).await? {
        (FileReply::Entry { entry }, audit) => {
            let details = json!({"kind": entry.kind, "size": entry.size, "mtime": entry.mtime});
            audit.success(AuditAction::FileStat, &path, details).await;
            Ok(Json(entry))
        }
        (other, audit) => Err(audit
            .failure(AuditAction::FileStat, &path, outcome::unexpected(&other))
            .await),
    }
}

/// Creates one directory (its parent must exist).
#[utoipa::path(post, path = "/api/files/{server}/mkdir", tag = "files", request_body = PathBody,
    params(("server" = String, Path, description = "server name"), UserQuery),
    responses((status = 200, body = FileOpDone), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn mkdir(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    ApiPath(server): ApiPath<String>,
    ApiQuery(q): ApiQuery<UserQuery>,
    ApiJson(body): ApiJson<PathBody>,
) -> ApiResult<Json<FileOpDone>> {
    let path = path::checked("path", Some(body.path))?;
    let target = Target::resolve(
        &state,
        &auth,
        &headers,
        &server,
        Asked::writing(Scope::Webftp, q.user, &[&path]),
    )
    .await?;
    let op = FileOp::Mkdir { path: path.clone() };
    target
        .run_ok(AuditAction::FileMkdir, &path, "path", op, json!({}))
        .await
}

/// Renames (moves) a file or directory; `overwrite` replaces an existing destination.
#[utoipa::path(post, path = "/api/files/{server}/rename", tag = "files", request_body = RenameBody,
    params(("server" = String, Path, description = "server name"), UserQuery),
    responses((status = 200, body = FileOpDone), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope)))]
pub async fn rename(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    ApiPath(server): ApiPath<String>,
    ApiQuery(q): ApiQuery<UserQuery>,
    ApiJson(body): ApiJson<RenameBody>,
) -> ApiResult<Json<FileOpDone>> {
    let from = path::checked("from", Some(body.from))?;
    let to = path::checked("to", Some(body.to))?;
    let target = Target::resolve(
        &state,
        &auth,
        &headers,
        &server,
        Asked::writing(Scope::Webftp, q.user, &[&from, &to]),
    )
    .await?;
    let details = json!({"from": from, "to": to, "overwrite": body.overwrite});
    let op = FileOp::Rename {
        from: from.clone(),
        to,
        overwrite: body.overwrite,
    };
    // The agent names the offending side in its message; `from` is the usual culprit.
    target
        .run_ok(AuditAction::FileRename, &from, "from", op, details)
        .await
}

/// Removes a file, a symlink (not its target) or an empty directory.
#[utoipa::path(post, path = "/api/files/{server}/delete", tag = "files", request_body = PathBody,
    params(("server" = String, Path, description = "server name"), UserQuery),
    responses((status = 200, body = FileOpDone), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn delete(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    ApiPath(server): ApiPath<String>,
    ApiQuery(q): ApiQuery<UserQuery>,
    ApiJson(body): ApiJson<PathBody>,
) -> ApiResult<Json<FileOpDone>> {
    let path = path::checked("path", Some(body.path))?;
    let target = Target::resolve(
        &state,
        &auth,
        &headers,
        &server,
        Asked::writing(Scope::Webftp, q.user, &[&path]),
    )
    .await?;
    let op = FileOp::Delete { path: path.clone() };
    target
        .run_ok(AuditAction::FileDelete, &path, "path", op, json!({}))
        .await
}
