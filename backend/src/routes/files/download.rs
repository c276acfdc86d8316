//! `GET /api/files/{server}/content`: a file streamed from the agent to the client.
//!
//! The response body is fed from the channel's `FileData` frames by a task of its own, through
//! a one-chunk hand-off. The agent is credited only for bytes hyper has taken (credit is granted
//! when the hand-off is free again), so the gateway holds at most `FILE_WINDOW` per download
//! however slow the client is; a client that takes nothing for the stall limit is cut, which
//! frees the agent's worker. The gateway hashes what it streamed and compares it with the
//! agent's SHA-256 before the body ends.

use super::digest::StreamDigest;
use super::outcome::{self, TransferLog};
use super::{path, Asked, Target};
use crate::core::gateway::files::{FileEvent, FileHandle, AGENT_IDLE};
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery, AuthUser};
use crate::gatekeeper::WORK_SESSION_HEADER;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::files::AbsolutePath;
use gatehouse_shared::files::{FileOp, FileReply};
use gatehouse_shared::{ErrorEnvelope, Scope};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;
use tokio::sync::mpsc;

/// The header carrying the file's modification time (seconds since the epoch).
pub const MTIME_HEADER: &str = "x-file-mtime";
/// The header carrying the file's version (`gatehouse_shared::files::file_version`) as opened:
/// what the editor hands back as `if_version` when it saves.
pub const VERSION_HEADER: &str = "x-file-version";

/// `?path=&user=&editor=&work_session=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContentQuery {
    /// Absolute path of a regular file.
    #[param(value_type = AbsolutePath, required = true)]
    path: Option<String>,
    /// Run-as user (default: the agent's own, which is root on a root agent and needs `sudo`).
    user: Option<String>,
    /// The editor loads the file: gated by the `editor` scope instead of `webftp`.
    editor: Option<bool>,
    /// The work session, for a download the browser opens itself (a link cannot send the
    /// `X-Work-Session` header; the SameSite=Strict cookie keeps other sites from using it).
    #[param(format = Uuid)]
    work_session: Option<String>,
}

/// Download a file, streamed (Content-Length is the size; `X-File-Mtime` its modification time,
/// `X-File-Version` its version for a later `if_version`).
#[utoipa::path(get, path = "/api/files/{server}/content", tag = "files",
    params(("server" = String, Path, description = "server name"), ContentQuery),
    responses((status = 200, content_type = "application/octet-stream",
               headers(("x-file-mtime" = i64, description = "modification time, seconds since the epoch"),
                       ("x-file-version" = String, description = "the file's version, for `if_version`"))),
              (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn download(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    ApiPath(server): ApiPath<String>,
    ApiQuery(q): ApiQuery<ContentQuery>,
) -> ApiResult<Response> {
    let stall = state.config.file_stall;
    let headers = with_work_session(headers, q.work_session)?;
    let path = path::checked("path", q.path)?;
    let editor = q.editor.unwrap_or(false);
    let scope = if editor { Scope::Editor } else { Scope::Webftp };
    let target = Target::resolve(
        &state,
        &auth,
        &headers,
        &server,
        Asked::reading(scope, q.user, &[&path]),
    )
    .await?;
    let mut log = TransferLog::new(
        target.audit.clone(),
        AuditAction::FileDownload,
        path.clone(),
        json!({"editor": editor}),
    );
    let op = FileOp::Read { path: path.clone() };
    let started = match target.open(op).await {
        Ok(mut handle) => match handle.reply().await {
            Ok(FileReply::ReadStarted {
                size,
                mtime,
                version,
            }) => Ok((handle, size, mtime, version)),
            Ok(FileReply::Error { kind, message }) => {
                handle.settle();
                Err(outcome::agent_error(kind, &message, "path"))
            }
            Ok(other) => Err(outcome::unexpected(&other)),
            Err(end) => Err(outcome::ended(end)),
        },
        Err(end) => Err(outcome::ended(end)),
    };
    let (handle, size, mtime, version) = match started {
        Ok(started) => started,
        Err(error) => {
            log.failure(0, &error, false).await;
            return Err(error);
        }
    };
    let mut download = Download {
        handle,
        log,
        size,
        next: 0,
        digest: StreamDigest::new(),
    };
    let body = if size == 0 {
        // Hyper never asks an empty body for its end: settle it before answering.
        if let Err(error) = download.finish().await {
            download.log.failure(0, &error, false).await;
            return Err(error);
        }
        Body::empty()
    } else {
        download.into_body(stall)
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, size)
        .header(
            header::CONTENT_DISPOSITION,
            path::content_disposition(path::file_name(&path)),
        )
        .header(header::CACHE_CONTROL, "no-store")
        .header(MTIME_HEADER, HeaderValue::from(mtime))
        .header(
            VERSION_HEADER,
            HeaderValue::from_str(&version).map_err(|_| ApiError::internal())?,
        )
        .body(body)
        .map_err(|_| ApiError::internal())
}

/// `headers` with `?work_session=` as `X-Work-Session`; both at once must agree.
fn with_work_session(mut headers: HeaderMap, query: Option<String>) -> ApiResult<HeaderMap> {
    let Some(id) = query else {
        return Ok(headers);
    };
    let value = HeaderValue::from_str(id.trim())
        .map_err(|_| ApiError::validation("work_session", "not a work session id"))?;
    match headers.get(WORK_SESSION_HEADER) {
        Some(header) if *header != value => Err(ApiError::bad_request(
            "work_session and X-Work-Session name different work sessions",
        )),
        _ => {
            headers.insert(WORK_SESSION_HEADER, value);
            Ok(headers)
        }
    }
}

/// One download in flight: the body stream's state. Dropped before its end means the client
/// went away: the agent is told to stop and the audit log records the interruption.
struct Download {
    handle: FileHandle,
    log: TransferLog,
    /// The size announced (and promised to the client in Content-Length).
    size: u64,
    /// The offset of the next byte expected (= bytes streamed so far).
    next: u64,
    digest: StreamDigest,
}

impl Download {
    /// The response body, fed by a task that owns the transfer. The hand-off holds one chunk, so
    /// a free slot means hyper took everything produced so far.
    fn into_body(self, stall: Duration) -> Body {
        let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(1);
        tokio::spawn(self.feed(tx, stall));
        Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
            let item = rx.recv().await?;
            Some((item, rx))
        }))
    }

    /// Produces chunks while hyper takes them. Ends (dropping the transfer, which tells the agent
    /// to stop) when the client goes away, when hyper takes nothing for `stall` (the client
    /// stopped reading: without a limit it would hold an agent worker for as long as it likes),
    /// when the gateway ends the channel, or after the last chunk.
    async fn feed(mut self, tx: mpsc::Sender<std::io::Result<Bytes>>, stall: Duration) {
        // Once the transfer is settled (the last chunk is handed over, or it failed) there is
        // nothing more to wait for: the receiver still gets what is in the hand-off.
        while !self.log.is_done() {
            let waited = tokio::select! {
                slot = tx.reserve() => Ok(slot),
                // A revoke or a lost link while the client is not reading is recorded now,
                // with its own reason, not later as a stall.
                why = self.handle.ended() => Err(outcome::ended(why)),
                _ = tokio::time::sleep(stall) => Err(ApiError::bad_request(format!(
                    "the download stalled: the client took no data for {} s",
                    stall.as_secs()
                ))),
            };
            let slot = match waited {
                Ok(Ok(slot)) => slot,
                // The body was dropped: `Drop` records the abandoned transfer.
                Ok(Err(_)) => return,
                Err(error) => {
                    self.log.failure(self.next, &error, true).await;
                    tracing::info!(path = self.log.path(), error = %error.0.message, "download cut");
                    // Dropping the sender ends the body short of its Content-Length, which
                    // hyper answers by closing the connection.
                    return;
                }
            };
            match self.step().await {
                Some(item) => slot.send(item),
                None => return,
            }
        }
    }

    /// The next chunk for hyper; `None` after the last one (or after a failure).
    async fn step(&mut self) -> Option<std::io::Result<Bytes>> {
        if self.log.is_done() {
            return None;
        }
        // The hand-off is free, so hyper took everything so far: credit the agent for all of it.
        self.handle.grant(self.next);
        let result = self.next_chunk().await;
        match result {
            Ok(bytes) => Some(Ok(bytes)),
            Err(error) => {
                // Headers are gone already: all that is left is to cut the body short, which
                // the client sees as an incomplete transfer (Content-Length was promised).
                self.log.failure(self.next, &error, true).await;
                tracing::warn!(path = self.log.path(), error = %error.0.message, "download failed");
                Some(Err(std::io::Error::other(error.0.message.clone())))
            }
        }
    }

    /// The next run of bytes. The last one is held back until the agent's `done` is in and
    /// its SHA-256 matches the gateway's: hyper stops polling once Content-Length bytes went
    /// out, and a corrupted transfer must reach the client as an incomplete one.
    async fn next_chunk(&mut self) -> ApiResult<Bytes> {
        loop {
            match self.handle.next(AGENT_IDLE).await {
                FileEvent::Data { offset, bytes } => {
                    let len = bytes.len() as u64;
                    if offset != self.next {
                        return Err(outcome::protocol(format!(
                            "file data at offset {offset} where {} was expected",
                            self.next
                        )));
                    }
                    if self.next + len > self.size {
                        return Err(outcome::protocol("the file grew while it was read".into()));
                    }
                    if len == 0 {
                        continue;
                    }
                    self.digest.update(bytes.clone()).await;
                    self.next += len;
                    if self.next == self.size {
                        self.handle.grant(self.next);
                        self.finish().await?;
                    }
                    return Ok(bytes);
                }
                FileEvent::Credit(_) => continue,
                other => return Err(self.unexpected_end(other)),
            }
        }
    }

    /// Waits for the agent's `done` after the last byte, checks it, records the success.
    async fn finish(&mut self) -> ApiResult<()> {
        loop {
            match self.handle.next(AGENT_IDLE).await {
                FileEvent::Reply(FileReply::Done {
                    size,
                    sha256,
                    mtime,
                    ..
                }) => {
                    self.handle.settle();
                    let ours = self.digest.finish().await.unwrap_or_default();
                    if size != self.size {
                        return Err(self.size_changed());
                    }
                    if !sha256.eq_ignore_ascii_case(&ours) {
                        return Err(outcome::protocol(
                            "the SHA-256 of the bytes streamed does not match the agent's".into(),
                        ));
                    }
                    self.log.success(size, &ours, mtime).await;
                    return Ok(());
                }
                FileEvent::Credit(_) => continue,
                FileEvent::Data { .. } => {
                    return Err(outcome::protocol("the file grew while it was read".into()))
                }
                other => return Err(self.unexpected_end(other)),
            }
        }
    }

    /// What an event other than the next bytes means before the end.
    fn unexpected_end(&mut self, event: FileEvent) -> ApiError {
        match event {
            FileEvent::Reply(FileReply::Done { .. }) => {
                self.handle.settle();
                self.size_changed()
            }
            FileEvent::Reply(FileReply::Error { kind, message }) => {
                self.handle.settle();
                outcome::agent_error(kind, &message, "path")
            }
            FileEvent::Reply(other) => outcome::unexpected(&other),
            FileEvent::Ended(end) => outcome::ended(end),
            FileEvent::Data { .. } | FileEvent::Credit(_) => {
                outcome::protocol("file data out of order".into())
            }
        }
    }

    fn size_changed(&self) -> ApiError {
        outcome::protocol(format!(
            "the file changed size while it was read ({} bytes announced, {} sent)",
            self.size, self.next
        ))
    }
}

impl Drop for Download {
    fn drop(&mut self) {
        // The handle, dropped right after, tells the agent to stop reading.
        self.log.abandoned(
            self.next,
            "the client disconnected before the end of the download",
        );
    }
}
