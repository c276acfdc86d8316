//! `PUT /api/files/{server}/content`: the request body streamed to the agent.
//!
//! The agent first accepts the write (so `overwrite=false` or a stale `if_mtime` is a 409 before
//! a byte is read), then the body is re-chunked into `FILE_CHUNK_BYTES` frames with contiguous
//! offsets. The gateway never sends more than `FILE_WINDOW` past the agent's last credit and
//! stops reading the body while it waits, so TCP pushes back on the client and the server's
//! memory stays flat. At the end the agent's SHA-256 must equal the gateway's own.

use super::digest::StreamDigest;
use super::outcome::{self, TransferLog};
use super::{path, Asked, Target};
use crate::core::gateway::files::{ChannelEnd, FileEvent, FileHandle, AGENT_IDLE, KEEP_CAPABILITY};
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery, AuthUser};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use futures_util::StreamExt;
use gatehouse_shared::agent_link::{
    encode_output, GatewayMessage, OutputStream, FILE_CHUNK_BYTES, FILE_WINDOW,
};
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::files::AbsolutePath;
use gatehouse_shared::files::{FileOp, FileReply, TransferResult};
use gatehouse_shared::{ErrorCode, ErrorEnvelope, Scope};
use serde::Deserialize;
use serde_json::json;

/// `?path=&overwrite=&if_mtime=&if_version=&user=&editor=&mode=&mtime=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// Absolute path to write.
    #[param(value_type = AbsolutePath, required = true)]
    path: Option<String>,
    /// Replace an existing file (default false: an existing file is a 409).
    overwrite: Option<bool>,
    /// Only write if the current file still has this modification time, in seconds.
    if_mtime: Option<i64>,
    /// Only write if the current file is still at this version (the `X-File-Version` of its
    /// download, or the `version` of the last upload): the editor's check, which also sees a
    /// change within the same second.
    #[param(pattern = r"^[!-~]{1,64}$")]
    if_version: Option<String>,
    /// Run-as user (default: the agent's own, which is root on a root agent and needs `sudo`).
    user: Option<String>,
    /// The editor saves the file: gated by the `editor` scope instead of `webftp`.
    editor: Option<bool>,
    /// Permission bits for the file (a number, as `mode` in listings; at most `0o777`: no
    /// setuid, setgid or sticky bit). Default: a new file `0o666` less the agent's umask, a
    /// replaced one keeps its mode.
    #[param(maximum = 511)]
    mode: Option<u32>,
    /// Modification time to give the file, seconds since the epoch (`gate cp -p`).
    mtime: Option<i64>,
}

/// The last second of the year 9999: later modification times are refused.
const MAX_MTIME: i64 = 253_402_300_799;

/// Upload a file, streamed: the body is the file's bytes, of any size.
#[utoipa::path(put, path = "/api/files/{server}/content", tag = "files",
    params(("server" = String, Path, description = "server name"), UploadQuery),
    request_body(content = String, content_type = "application/octet-stream",
                 description = "the file's bytes"),
    responses((status = 200, body = TransferResult), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope)))]
pub async fn upload(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    ApiPath(server): ApiPath<String>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    body: Body,
) -> ApiResult<Json<TransferResult>> {
    let path = path::checked("path", q.path)?;
    if let Some(version) = &q.if_version {
        // Opaque, but ours: short and printable, so nothing odd reaches the agent or the log.
        if version.is_empty()
            || version.len() > 64
            || !version.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(ApiError::validation("if_version", "not a file version"));
        }
    }
    if q.mode.is_some_and(|mode| mode > 0o777) {
        return Err(ApiError::validation(
            "mode",
            "permission bits only (at most 0o777 = 511): no setuid, setgid or sticky bit",
        ));
    }
    if q.mtime
        .is_some_and(|mtime| !(0..=MAX_MTIME).contains(&mtime))
    {
        return Err(ApiError::validation(
            "mtime",
            "seconds since the epoch, from 0 to the year 9999",
        ));
    }
    let editor = q.editor.unwrap_or(false);
    let overwrite = q.overwrite.unwrap_or(false);
    let scope = if editor { Scope::Editor } else { Scope::Webftp };
    let target = Target::resolve(
        &state,
        &auth,
        &headers,
        &server,
        Asked::writing(scope, q.user, &[&path]),
    )
    .await?;
    if (q.mode.is_some() || q.mtime.is_some()) && !target.link.supports(KEEP_CAPABILITY) {
        return Err(ApiError::conflict(
            "this agent cannot set a file's mode or modification time; upgrade it",
        ));
    }
    let mut log = TransferLog::new(
        target.audit.clone(),
        AuditAction::FileUpload,
        path.clone(),
        json!({"overwrite": overwrite, "if_mtime": q.if_mtime, "if_version": q.if_version,
               "editor": editor, "mode": q.mode, "mtime": q.mtime}),
    );
    let op = FileOp::Write {
        path,
        overwrite,
        if_mtime: q.if_mtime,
        if_version: q.if_version,
        mode: q.mode,
        mtime: q.mtime,
    };
    let accepted = match target.open(op).await {
        Ok(mut handle) => match handle.reply().await {
            Ok(FileReply::Ok) => Ok(handle),
            Ok(FileReply::Error { kind, message }) => {
                handle.settle();
                Err(outcome::agent_error(kind, &message, "path"))
            }
            Ok(other) => Err(outcome::unexpected(&other)),
            Err(end) => Err(outcome::ended(end)),
        },
        Err(end) => Err(outcome::ended(end)),
    };
    let handle = match accepted {
        Ok(handle) => handle,
        Err(error) => {
            log.failure(0, &error, false).await;
            return Err(error);
        }
    };
    let mut upload = Upload {
        handle,
        log,
        sent: 0,
        credit: 0,
        digest: StreamDigest::new(),
    };
    match upload.pump(body, state.config.file_stall).await {
        // Once the agent was told to commit, it finishes whatever happens to this request: wait
        // for its answer in a task of its own, so a client leaving now cannot turn a completed
        // write into an "abandoned" audit row (or cancel the hash check).
        Ok(()) => tokio::spawn(upload.finish())
            .await
            .unwrap_or_else(|_| Err(ApiError::internal())),
        Err(failure) => {
            upload
                .log
                .failure(upload.sent, &failure.error, failure.interrupted)
                .await;
            Err(failure.error)
        }
    }
}

/// Why an upload stopped before its end.
struct Failure {
    error: ApiError,
    /// Cut (client or agent gone, session ended) rather than refused.
    interrupted: bool,
}

impl From<ChannelEnd> for Failure {
    fn from(end: ChannelEnd) -> Self {
        Failure {
            error: outcome::ended(end),
            interrupted: true,
        }
    }
}

/// One upload in flight. Dropped before its end (hyper drops the handler when the client
/// goes away) means the agent is told to discard its temporary file and the audit log records
/// the interruption.
struct Upload {
    handle: FileHandle,
    log: TransferLog,
    /// Bytes sent to the agent (the offset of the next frame).
    sent: u64,
    /// The agent's last credit: it consumed everything before this offset.
    credit: u64,
    digest: StreamDigest,
}

impl Upload {
    /// A new frame for the bytes from `self.sent`, header first, so the body's bytes are copied
    /// exactly once, straight into the frame that carries them.
    fn new_frame(&self) -> Vec<u8> {
        let mut frame = encode_output(self.handle.id(), OutputStream::File, self.sent, &[]);
        frame.reserve_exact(FILE_CHUNK_BYTES);
        frame
    }

    /// Streams the whole body to the agent, then tells it the upload is complete. A client that
    /// sends nothing for `stall` is cut, so it cannot hold an agent worker forever.
    async fn pump(&mut self, body: Body, stall: std::time::Duration) -> Result<(), Failure> {
        let mut body = body.into_data_stream();
        let mut frame = self.new_frame();
        let header = frame.len();
        // The unconsumed rest of the last body chunk, and whether the body has ended.
        let mut carry = Bytes::new();
        let mut body_done = false;
        loop {
            let room = FILE_CHUNK_BYTES - (frame.len() - header);
            if room > 0 && !carry.is_empty() {
                let n = room.min(carry.len());
                frame.extend_from_slice(&carry[..n]);
                carry = carry.slice(n..);
            }
            let payload = (frame.len() - header) as u64;
            let full = payload == FILE_CHUNK_BYTES as u64;
            let last = body_done && carry.is_empty();
            let ready = payload > 0 && (full || last);
            if ready && self.sent + payload <= self.credit + FILE_WINDOW {
                let full_frame = Bytes::from(std::mem::take(&mut frame));
                self.digest.update(full_frame.slice(header..)).await;
                if !self.handle.link().send_file_data(full_frame).await {
                    return Err(ChannelEnd::LinkLost.into());
                }
                self.sent += payload;
                frame = self.new_frame();
                continue;
            }
            if last && payload == 0 {
                break;
            }
            // Read more of the body only while there is room; otherwise wait for credit (with a
            // limit: the agent owes it) while still hearing an error or the session's end.
            let want_body = carry.is_empty() && !body_done && !full;
            let idle = if want_body {
                std::time::Duration::MAX
            } else {
                AGENT_IDLE
            };
            tokio::select! {
                biased;
                event = self.handle.next(idle) => self.on_event(event)?,
                chunk = tokio::time::timeout(stall, body.next()), if want_body => match chunk {
                    Err(_) => {
                        return Err(Failure {
                            error: ApiError::bad_request(format!(
                                "the upload stalled: no data for {} s",
                                stall.as_secs()
                            )),
                            interrupted: true,
                        });
                    }
                    Ok(Some(Ok(bytes))) => carry = bytes,
                    Ok(None) => body_done = true,
                    Ok(Some(Err(e))) => {
                        tracing::info!(error = %e, "upload body cut short");
                        return Err(Failure {
                            error: ApiError::bad_request(
                                "the upload was interrupted before the end of its body",
                            ),
                            interrupted: true,
                        });
                    }
                },
            }
        }
        // Straight to the socket like the data, so it cannot overtake the last frame.
        let end = GatewayMessage::FileEnd {
            channel: self.handle.id(),
        };
        if !self.handle.link().send_now(&end).await {
            return Err(ChannelEnd::LinkLost.into());
        }
        Ok(())
    }

    /// What an event from the agent means while the body streams.
    fn on_event(&mut self, event: FileEvent) -> Result<(), Failure> {
        match event {
            FileEvent::Credit(offset) => {
                self.credit = self.credit.max(offset.min(self.sent));
                Ok(())
            }
            // A refusal mid-way (disk full, quota): the agent has already discarded the file.
            FileEvent::Reply(FileReply::Error { kind, message }) => {
                self.handle.settle();
                Err(Failure {
                    error: outcome::agent_error(kind, &message, "path"),
                    interrupted: false,
                })
            }
            FileEvent::Reply(other) => Err(Failure {
                error: outcome::unexpected(&other),
                interrupted: true,
            }),
            FileEvent::Data { .. } => Ok(()),
            FileEvent::Ended(end) => Err(end.into()),
        }
    }

    /// Waits for the agent to sync and move the file into place, checks its hash, records it.
    async fn finish(mut self) -> ApiResult<Json<TransferResult>> {
        let error = loop {
            match self.handle.next(AGENT_IDLE).await {
                FileEvent::Credit(_) | FileEvent::Data { .. } => continue,
                FileEvent::Reply(FileReply::Done {
                    size,
                    sha256,
                    mtime,
                    version,
                }) => {
                    self.handle.settle();
                    let ours = self.digest.finish().await.unwrap_or_default();
                    if size != self.sent || !sha256.eq_ignore_ascii_case(&ours) {
                        tracing::error!(
                            path = self.log.path(),
                            size,
                            sent = self.sent,
                            "the agent stored different bytes than were uploaded"
                        );
                        break ApiError::new(
                            ErrorCode::Internal,
                            "the agent stored different bytes than were uploaded (size or SHA-256 differ)",
                        );
                    }
                    self.log.success(size, &ours, mtime).await;
                    return Ok(Json(TransferResult {
                        size,
                        sha256: ours,
                        mtime: Some(mtime),
                        version: Some(version),
                    }));
                }
                FileEvent::Reply(FileReply::Error { kind, message }) => {
                    self.handle.settle();
                    break outcome::agent_error(kind, &message, "path");
                }
                FileEvent::Reply(other) => break outcome::unexpected(&other),
                FileEvent::Ended(end) => break outcome::ended(end),
            }
        };
        self.log.failure(self.sent, &error, false).await;
        Err(error)
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        // The handle, dropped right after, tells the agent to discard its temporary file.
        self.log.abandoned(
            self.sent,
            "the client disconnected before the end of the upload",
        );
    }
}
