//! File channels (WebFTP and the editor): list, stat, streamed read and write, mkdir, rename and
//! delete, each run by a short-lived `file-worker` process with the run-as user's credentials.
//!
//! The split: `channel` (async, in the agent) speaks the link protocol, credit and cancellation;
//! `worker` (a child process started with the privilege drop of `runas`) resolves paths and
//! makes the system calls in `fsops` and `transfer`, so every permission check is the kernel's,
//! for that user. The two talk over the child's stdin/stdout with the framing of `frame`;
//! `paths` holds the pure rules a path must pass before anything touches the file system, and
//! `confine` an API token's file rules, checked on the paths really opened.

pub mod channel;
pub mod confine;
pub mod frame;
pub mod fsops;
pub mod pace;
pub mod paths;
pub mod transfer;
pub mod worker;

/// The size of a read's data frames: under `FILE_CHUNK_BYTES` so that one file frame ahead of
/// a keystroke echo in the link's writer costs little time on a slow link.
pub const READ_CHUNK_BYTES: usize = 64 * 1024;

use gatehouse_shared::files::{FileErrorKind, FileReply};
use nix::errno::Errno;
use std::fmt;
use std::io;
use std::path::Path;

/// Why an operation failed, as the gateway will see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: FileErrorKind,
    pub message: String,
}

impl Failure {
    pub fn new(kind: FileErrorKind, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
        }
    }

    /// A system call on `path` failed; the message names the path (as the user asked for it)
    /// and the short system reason, never file contents.
    pub fn io(what: &str, path: &Path, e: &io::Error) -> Self {
        let reason = match e.raw_os_error() {
            Some(code) => Errno::from_raw(code).desc().to_owned(),
            None => e.to_string(),
        };
        Failure::new(
            kind_of(e),
            format!("cannot {what} {}: {reason}", path.display()),
        )
    }

    /// Like `io`, for the errors `nix` returns.
    pub fn errno(what: &str, path: &Path, e: Errno) -> Self {
        Failure::io(what, path, &io::Error::from(e))
    }

    pub fn into_reply(self) -> FileReply {
        FileReply::Error {
            kind: self.kind,
            message: self.message,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Maps a system error onto the protocol's error kinds.
pub fn kind_of(e: &io::Error) -> FileErrorKind {
    match e.kind() {
        io::ErrorKind::NotFound => return FileErrorKind::NotFound,
        io::ErrorKind::PermissionDenied => return FileErrorKind::PermissionDenied,
        io::ErrorKind::AlreadyExists => return FileErrorKind::Conflict,
        _ => {}
    }
    match e.raw_os_error().map(Errno::from_raw) {
        Some(Errno::ENOTDIR) => FileErrorKind::NotADirectory,
        Some(Errno::EISDIR) => FileErrorKind::IsADirectory,
        Some(Errno::ENOTEMPTY) => FileErrorKind::Unsupported,
        Some(Errno::EPERM | Errno::EROFS) => FileErrorKind::PermissionDenied,
        // A symlink where none may be (O_NOFOLLOW), or a loop: the path is not acceptable.
        Some(Errno::ELOOP | Errno::ENAMETOOLONG) => FileErrorKind::InvalidPath,
        _ => FileErrorKind::Io,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_errors_map_onto_kinds() {
        let cases = [
            (Errno::ENOENT, FileErrorKind::NotFound),
            (Errno::EACCES, FileErrorKind::PermissionDenied),
            (Errno::EPERM, FileErrorKind::PermissionDenied),
            (Errno::EEXIST, FileErrorKind::Conflict),
            (Errno::ENOTDIR, FileErrorKind::NotADirectory),
            (Errno::EISDIR, FileErrorKind::IsADirectory),
            (Errno::ENOTEMPTY, FileErrorKind::Unsupported),
            (Errno::ELOOP, FileErrorKind::InvalidPath),
            (Errno::EIO, FileErrorKind::Io),
        ];
        for (errno, kind) in cases {
            assert_eq!(kind_of(&io::Error::from(errno)), kind, "{errno}");
        }
        let f = Failure::errno("open", Path::new("/x"), Errno::ENOENT);
        assert_eq!(f.message, "cannot open /x: No such file or directory");
    }
}
