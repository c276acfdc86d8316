//! Files on managed servers (WebFTP and the editor): the HTTP models of docs/api.md and the
//! operations the gateway asks an agent to run (see `agent_link` for the channel framing).

use serde::{Deserialize, Serialize};

/// What a directory entry is; symlinks are reported as such, never followed in listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    File,
    Dir,
    Symlink,
    /// Devices, FIFOs, sockets: listed, but never read or written.
    Other,
}

/// One entry of a listing, or the answer of a stat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileEntry {
    pub name: String,
    pub kind: FileKind,
    pub size: u64,
    /// Permission bits (`0o644`).
    pub mode: u32,
    /// Seconds since the Unix epoch.
    pub mtime: i64,
    /// Where a symlink points (as stored in the link, not resolved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// `GET /api/files/{server}/list?path=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileListing {
    pub path: String,
    pub entries: Vec<FileEntry>,
}

/// The result of an upload (and the record of a download).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferResult {
    pub size: u64,
    pub sha256: String,
    /// Modification time after the write (seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtime: Option<i64>,
    /// The file's version after the write (see [`file_version`]): the editor's next `if_version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// One state of a file, for the editor's conflict check: its modification time to the
/// nanosecond, its size and its inode (a file replaced by a rename, as editors and uploads do,
/// gets a new one), so a change within the same second as the load is still seen. Opaque to
/// clients: they hand it back, they never parse it.
pub fn file_version(mtime: i64, mtime_nsec: i64, size: u64, ino: u64) -> String {
    format!("{mtime}.{mtime_nsec:09}-{size}-{ino}")
}

#[cfg(feature = "openapi")]
string_schema!(
    /// An absolute path as the description states it (the server checks more: no
    /// percent-encoded escapes, at most 4096 bytes): starting with `/`, without `..` segments or
    /// control characters.
    AbsolutePath,
    pattern = r"^/(?!(.*/)?\.\.(/|$))[^\x00-\x1f\x7f-\x9f]*$",
    max_length = 4096
);

/// `{path}` bodies of mkdir and delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PathBody {
    #[cfg_attr(feature = "openapi", schema(value_type = AbsolutePath))]
    pub path: String,
}

/// `{from, to}` body of rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    #[cfg_attr(feature = "openapi", schema(value_type = AbsolutePath))]
    pub from: String,
    #[cfg_attr(feature = "openapi", schema(value_type = AbsolutePath))]
    pub to: String,
    #[serde(default)]
    pub overwrite: bool,
}

/// An operation the gateway asks the agent to run as the run-as user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum FileOp {
    List {
        path: String,
    },
    Stat {
        path: String,
    },
    /// Streams the file's bytes back as `FileData` frames; refuses anything but a regular file.
    Read {
        path: String,
    },
    /// Streams `FileData` frames from the gateway into a temporary file beside `path`; on
    /// `FileEnd` the agent syncs and renames it into place. `if_mtime` (seconds) and
    /// `if_version` ([`file_version`]): refuse with `conflict` unless the current file still
    /// matches (the editor's check), both when the write starts and when it commits.
    /// `mode` (permission bits, at most `0o777`) and `mtime` (seconds) are given to the file
    /// before it is moved into place (`gate cp -r`/`-p`); without them a new file gets
    /// `0o666 & !umask` and a replaced one keeps its mode.
    Write {
        path: String,
        overwrite: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        if_mtime: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        if_version: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mtime: Option<i64>,
    },
    Mkdir {
        path: String,
    },
    Rename {
        from: String,
        to: String,
        overwrite: bool,
    },
    /// Removes a file, a symlink (not its target) or an empty directory.
    Delete {
        path: String,
    },
}

/// Why a file operation failed; maps onto HTTP statuses in the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileErrorKind {
    /// Relative, `..` after normalisation, NUL or control characters, outside the allowed roots.
    InvalidPath,
    NotFound,
    PermissionDenied,
    /// The destination exists and `overwrite` is false, or `if_mtime`/`if_version` no longer
    /// matches.
    Conflict,
    NotADirectory,
    IsADirectory,
    /// Not a regular file (device, FIFO, socket, `/proc`-style), or a directory not empty.
    Unsupported,
    /// The transfer was cut before its end.
    Interrupted,
    Io,
}

/// The agent's answer to a file operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "r", rename_all = "snake_case")]
pub enum FileReply {
    Listing {
        path: String,
        entries: Vec<FileEntry>,
    },
    Entry {
        entry: FileEntry,
    },
    /// A read is starting: `size` bytes follow (as far as the agent knows at open time).
    ReadStarted {
        size: u64,
        mtime: i64,
        /// [`file_version`] of the file as opened.
        #[serde(default)]
        version: String,
    },
    /// A read or write finished: everything was transferred and (for a write) is in place.
    Done {
        size: u64,
        sha256: String,
        mtime: i64,
        /// [`file_version`]: as opened (a read), or of the file now in place (a write).
        #[serde(default)]
        version: String,
    },
    Ok,
    Error {
        kind: FileErrorKind,
        message: String,
    },
}
