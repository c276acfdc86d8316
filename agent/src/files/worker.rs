//! The `file-worker` process: one file operation, already running as the run-as user (the
//! agent started it with the privilege drop of `runas`), speaking the `frame` protocol on
//! stdin/stdout. Plain blocking code: the worker has nothing else to do, and the pipe's
//! back-pressure is the flow control.

use super::confine::Confine;
use super::frame::{self, WorkerRequest, MAX_REPLY_BYTES, MAX_REQUEST_BYTES};
use super::fsops::{self, Roots};
use super::transfer;
use super::{Failure, READ_CHUNK_BYTES};
use gatehouse_shared::agent_link::FILE_CHUNK_BYTES;
use gatehouse_shared::files::{FileErrorKind, FileOp, FileReply};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::process::ExitCode;

/// Runs the operation the agent sends on stdin and exits. A worker keeps the agent's CPU
/// priority: niced by 10, it was woken late whenever both cores of a small machine were busy,
/// and every download stalled on it (BENCHMARKS.md, session 12: a third faster without). What
/// keeps keystrokes quick during a transfer is the typing pacer (`pace.rs`).
pub fn main() -> ExitCode {
    // Unbuffered: every frame is written whole and flushed, and Rust's stdout would otherwise
    // flush binary data at each newline.
    let output = io::stdout().as_fd().try_clone_to_owned().map(File::from);
    let Ok(mut output) = output else {
        return ExitCode::FAILURE;
    };
    let mut input = io::stdin().lock();
    match serve(&mut input, &mut output) {
        Ok(()) => ExitCode::SUCCESS,
        // The agent went away; an upload in flight was removed by then.
        Err(_) => ExitCode::FAILURE,
    }
}

/// One request from `input`, its answer on `output`.
pub fn serve(input: &mut impl Read, output: &mut impl Write) -> io::Result<()> {
    let request = match frame::read_chunk(input, MAX_REQUEST_BYTES) {
        Ok(Some(bytes)) => serde_json::from_slice::<WorkerRequest>(&bytes).ok(),
        _ => None,
    };
    let Some(request) = request else {
        let failure = Failure::new(FileErrorKind::Io, "the file worker got a malformed request");
        return reply(output, failure.into_reply());
    };
    let roots = Roots::new(request.roots).confined(Confine::new(request.confine));
    let answer = |r: Result<FileReply, Failure>| r.unwrap_or_else(Failure::into_reply);
    match request.op {
        FileOp::List { path } => reply(output, answer(fsops::list(&roots, &path))),
        FileOp::Stat { path } => reply(output, answer(fsops::stat(&roots, &path))),
        FileOp::Mkdir { path } => reply(output, answer(fsops::mkdir(&roots, &path))),
        FileOp::Delete { path } => reply(output, answer(fsops::delete(&roots, &path))),
        FileOp::Rename {
            from,
            to,
            overwrite,
        } => reply(output, answer(fsops::rename(&roots, &from, &to, overwrite))),
        FileOp::Read { path } => read(&roots, &path, output),
        FileOp::Write {
            path,
            overwrite,
            if_mtime,
            if_version,
            mode,
            mtime,
        } => {
            let expect = transfer::IfUnchanged {
                mtime: if_mtime,
                version: if_version,
            };
            let keep = transfer::Keep { mode, mtime };
            write(&roots, &path, overwrite, (expect, keep), input, output)
        }
    }
}

/// Sends a reply; one too large for a link message (a huge listing) becomes an error saying so.
fn reply(output: &mut impl Write, reply: FileReply) -> io::Result<()> {
    let json = serde_json::to_vec(&reply).map_err(io::Error::other)?;
    if json.len() <= MAX_REPLY_BYTES {
        return frame::write_reply(output, &reply);
    }
    let message = match &reply {
        FileReply::Listing { path, entries } => format!(
            "{path} has {} entries, too many to list at once",
            entries.len()
        ),
        _ => "the answer is too large to send".to_owned(),
    };
    frame::write_reply(
        output,
        &Failure::new(FileErrorKind::Unsupported, message).into_reply(),
    )
}

fn read(roots: &Roots, path: &str, output: &mut impl Write) -> io::Result<()> {
    let mut reader = match transfer::open_read(roots, path) {
        Ok(reader) => reader,
        Err(failure) => return reply(output, failure.into_reply()),
    };
    reply(output, reader.started())?;
    let mut buf = vec![0u8; READ_CHUNK_BYTES];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return reply(output, reader.done()),
            Ok(n) => frame::write_data(output, &buf[..n])?,
            Err(failure) => return reply(output, failure.into_reply()),
        }
    }
}

fn write(
    roots: &Roots,
    path: &str,
    overwrite: bool,
    (expect, keep): (transfer::IfUnchanged, transfer::Keep),
    input: &mut impl Read,
    output: &mut impl Write,
) -> io::Result<()> {
    let opened = transfer::open_write(roots, path, overwrite, expect)
        .and_then(|upload| upload.keeping(keep));
    let mut upload = match opened {
        Ok(upload) => upload,
        Err(failure) => return reply(output, failure.into_reply()),
    };
    // "Ready": the agent now lets the gateway send.
    reply(output, FileReply::Ok)?;
    loop {
        match frame::read_chunk(input, FILE_CHUNK_BYTES) {
            Ok(Some(chunk)) if chunk.is_empty() => {
                let done = upload.commit().unwrap_or_else(Failure::into_reply);
                return reply(output, done);
            }
            Ok(Some(chunk)) => {
                if let Err(failure) = upload.write(&chunk) {
                    drop(upload);
                    return reply(output, failure.into_reply());
                }
            }
            // Input ended without the commit marker (cancelled, link lost, agent gone):
            // dropping the upload removes its temporary file.
            Ok(None) | Err(_) => {
                drop(upload);
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::frame::Out;
    use std::path::PathBuf;

    fn request(root: &std::path::Path, op: FileOp) -> Vec<u8> {
        let req = WorkerRequest {
            roots: vec![root.to_path_buf()],
            op,
            confine: None,
        };
        let mut input = Vec::new();
        frame::write_chunk(&mut input, &serde_json::to_vec(&req).unwrap()).unwrap();
        input
    }

    async fn outputs(bytes: Vec<u8>) -> Vec<Out> {
        let mut r = &bytes[..];
        let mut out = Vec::new();
        while let Some(o) = frame::read_out(&mut r).await.unwrap() {
            out.push(o);
        }
        out
    }

    #[tokio::test]
    async fn a_write_commits_only_on_the_marker() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        let op = FileOp::Write {
            path: root.join("f").display().to_string(),
            overwrite: false,
            if_mtime: None,
            if_version: None,
            mode: None,
            mtime: None,
        };
        // Cut off after some data: nothing at the destination, no temporary file.
        let mut input = request(&root, op.clone());
        frame::write_chunk(&mut input, b"half").unwrap();
        let mut output = Vec::new();
        serve(&mut &input[..], &mut output).unwrap();
        assert_eq!(outputs(output).await, [Out::Reply(FileReply::Ok)]);
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
        // With the marker: in place.
        frame::write_chunk(&mut input, b"").unwrap();
        let mut output = Vec::new();
        serve(&mut &input[..], &mut output).unwrap();
        let out = outputs(output).await;
        assert!(matches!(
            out[1],
            Out::Reply(FileReply::Done { size: 4, .. })
        ));
        assert_eq!(std::fs::read(root.join("f")).unwrap(), b"half");
    }

    #[tokio::test]
    async fn reads_frame_data_between_start_and_done() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        let body = vec![5u8; READ_CHUNK_BYTES + 10];
        std::fs::write(root.join("f"), &body).unwrap();
        let input = request(
            &root,
            FileOp::Read {
                path: root.join("f").display().to_string(),
            },
        );
        let mut output = Vec::new();
        serve(&mut &input[..], &mut output).unwrap();
        let out = outputs(output).await;
        assert!(matches!(out[0], Out::Reply(FileReply::ReadStarted { .. })));
        assert_eq!(out[1], Out::Data(body[..READ_CHUNK_BYTES].to_vec()));
        assert_eq!(out[2], Out::Data(vec![5u8; 10]));
        assert!(matches!(out[3], Out::Reply(FileReply::Done { .. })));
    }

    #[tokio::test]
    async fn garbage_and_outside_paths_get_errors() {
        let mut output = Vec::new();
        serve(&mut &b"\x00\x00\x00\x02{]"[..], &mut output).unwrap();
        let out = outputs(output).await;
        assert!(matches!(
            out[0],
            Out::Reply(FileReply::Error {
                kind: FileErrorKind::Io,
                ..
            })
        ));
        let input = request(
            &PathBuf::from("/nonexistent-root"),
            FileOp::List {
                path: "/etc".into(),
            },
        );
        let mut output = Vec::new();
        serve(&mut &input[..], &mut output).unwrap();
        let out = outputs(output).await;
        assert!(matches!(
            out[0],
            Out::Reply(FileReply::Error {
                kind: FileErrorKind::InvalidPath,
                ..
            })
        ));
    }
}
