//! The file-system side of file operations. It runs inside a `file-worker`, already as the
//! run-as user, so the kernel applies that user's permissions to every call here.
//!
//! Resolution: a requested path is normalised and checked against the roots lexically
//! (`paths`), then the directory an operation works in is canonicalised, opened, and the opened
//! descriptor checked again beneath the canonical roots; everything after that is relative to
//! that descriptor (`*at` calls on one final name), so a symlink inside a root cannot lead out of
//! it, and the final component of delete and rename is never followed. Streamed reads and writes
//! are in `transfer`.
//!
//! A confined operation (an API token's, `confine`) is checked at the same places: the path as
//! asked for, then the opened directory's real path joined with the final name (or, for a
//! listing, the opened directory itself), so a symlink cannot lead it outside the token's rules.

use super::confine::Confine;
use super::{paths, Failure};
use gatehouse_shared::files::FileErrorKind::{Conflict, InvalidPath, Unsupported};
use gatehouse_shared::files::{FileEntry, FileKind, FileReply};
use nix::dir::{Dir, Type};
use nix::errno::Errno;
use nix::fcntl::{self, AtFlags, OFlag};
use nix::sys::stat::{self, FileStat, Mode, SFlag};
use nix::unistd::{self, UnlinkatFlags};
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The allowed roots, as configured and as the kernel resolves them for this user.
#[derive(Debug)]
pub struct Roots {
    lexical: Vec<PathBuf>,
    canonical: Vec<PathBuf>,
    /// An API token's file rules, on top of the roots.
    pub(super) confine: Confine,
}

pub(super) fn outside(path: &Path) -> Failure {
    Failure::new(
        InvalidPath,
        format!("{} is outside the allowed roots", path.display()),
    )
}

pub(super) fn pseudo(path: &Path) -> Failure {
    Failure::new(
        Unsupported,
        format!(
            "{} is on a kernel pseudo-file system (/proc, /sys, /dev); \
             such files are not read or written",
            path.display()
        ),
    )
}

impl Roots {
    /// `lexical` must be normalised (`paths::parse_roots`). A root that does not exist or that
    /// this user cannot resolve admits nothing.
    pub fn new(lexical: Vec<PathBuf>) -> Self {
        let canonical = lexical
            .iter()
            .filter_map(|r| std::fs::canonicalize(r).ok())
            .collect();
        Roots {
            lexical,
            canonical,
            confine: Confine::default(),
        }
    }

    /// Confines every operation through these roots to an API token's file rules as well.
    pub fn confined(mut self, confine: Confine) -> Self {
        self.confine = confine;
        self
    }

    /// Normalises a requested path and checks it lexically against the roots (and the token's
    /// rules, which the gateway checked already: the worker does not rely on that).
    pub fn check(&self, raw: &str) -> Result<PathBuf, Failure> {
        let path = paths::normalise(raw).map_err(|m| Failure::new(InvalidPath, m))?;
        if !paths::beneath_any(&path, &self.lexical) {
            return Err(outside(&path));
        }
        self.confine.check(&path, &path)?;
        Ok(path)
    }

    /// Follows every symlink in `path` (which must exist) and checks where it ends up.
    pub(super) fn resolve(&self, path: &Path) -> Result<PathBuf, Failure> {
        let real = std::fs::canonicalize(path).map_err(|e| Failure::io("resolve", path, &e))?;
        if !paths::beneath_any(&real, &self.canonical) {
            return Err(outside(path));
        }
        Ok(real)
    }

    /// Opens directory `path` (following symlinks on the way) and returns it with its canonical
    /// path. The check is repeated on the opened descriptor, so a path swapped between the
    /// check and the open cannot redirect the operation.
    pub(super) fn open_dir(&self, path: &Path) -> Result<(OwnedFd, PathBuf), Failure> {
        let real = self.resolve(path)?;
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let fd = fcntl::open(&real, flags, Mode::empty())
            .map_err(|e| Failure::errno("open", path, e))?;
        self.verify_fd(&fd, path)?;
        Ok((fd, real))
    }

    /// Checks where an open descriptor really is, per the kernel. Without /proc that cannot be
    /// known, so narrower roots than `/` fail closed (a directory swapped for a symlink between
    /// the canonical check and the open would otherwise escape them).
    fn verify_fd(&self, fd: &OwnedFd, shown: &Path) -> Result<(), Failure> {
        match std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())) {
            Ok(real) if paths::beneath_any(&real, &self.canonical) => Ok(()),
            Ok(_) => Err(outside(shown)),
            Err(_) if self.canonical.iter().any(|root| root == Path::new("/")) => Ok(()),
            Err(_) => Err(Failure::new(
                Unsupported,
                "cannot confirm the path stays beneath the file roots without /proc",
            )),
        }
    }

    /// The opened directory holding `path` and the final name, for operations on the entry
    /// itself (its last component is never followed).
    fn parent_of<'p>(&self, path: &'p Path) -> Result<(OwnedFd, PathBuf, &'p OsStr), Failure> {
        let (parent, name) = paths::split(path).ok_or_else(|| {
            Failure::new(InvalidPath, "the file system root cannot be changed itself")
        })?;
        let (dir, real) = self.open_dir(parent)?;
        self.confine.check_entry(&dir, name, path)?;
        Ok((dir, real, name))
    }

    /// Like `parent_of`, for operations that change the entry: never a root itself, never on a
    /// kernel pseudo-file system.
    fn mutable_parent<'p>(&self, path: &'p Path) -> Result<(OwnedFd, &'p OsStr), Failure> {
        if self.lexical.iter().any(|r| r == path) {
            return Err(Failure::new(
                InvalidPath,
                format!(
                    "{} is an allowed root and cannot be changed itself",
                    path.display()
                ),
            ));
        }
        let (dir, real, name) = self.parent_of(path)?;
        if paths::is_pseudo(&real) {
            return Err(pseudo(path));
        }
        Ok((dir, name))
    }

    /// Whether a canonical path is beneath a canonical root.
    pub(super) fn admits(&self, real: &Path) -> bool {
        paths::beneath_any(real, &self.canonical)
    }

    fn is_root(&self, path: &Path) -> bool {
        path == Path::new("/") || self.lexical.iter().any(|r| r == path)
    }
}

pub(super) fn lstat_at(dir: &OwnedFd, name: &OsStr) -> nix::Result<FileStat> {
    stat::fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW)
}

/// `None` when nothing is there.
pub(super) fn lstat_if_any(dir: &OwnedFd, name: &OsStr) -> nix::Result<Option<FileStat>> {
    match lstat_at(dir, name) {
        Ok(st) => Ok(Some(st)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) fn kind_of(st: &FileStat) -> FileKind {
    let format = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits());
    match format {
        SFlag::S_IFREG => FileKind::File,
        SFlag::S_IFDIR => FileKind::Dir,
        SFlag::S_IFLNK => FileKind::Symlink,
        _ => FileKind::Other,
    }
}

fn entry_from(name: &OsStr, st: &FileStat, target: Option<String>) -> FileEntry {
    FileEntry {
        name: name.to_string_lossy().into_owned(),
        kind: kind_of(st),
        size: u64::try_from(st.st_size).unwrap_or(0),
        mode: st.st_mode & 0o7777,
        mtime: st.st_mtime,
        target,
    }
}

/// Describes `name` in `dir` without following it; a symlink comes with its stored target.
fn entry_at(dir: &OwnedFd, name: &OsStr) -> nix::Result<FileEntry> {
    let st = lstat_at(dir, name)?;
    let target = match kind_of(&st) {
        FileKind::Symlink => fcntl::readlinkat(dir, name)
            .ok()
            .map(|t| t.to_string_lossy().into_owned()),
        _ => None,
    };
    Ok(entry_from(name, &st, target))
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Lists a directory: entries sorted by name, symlinks reported as such (not followed).
pub fn list(roots: &Roots, raw: &str) -> Result<FileReply, Failure> {
    let path = roots.check(raw)?;
    let (fd, _) = roots.open_dir(&path)?;
    roots.confine.check_fd(&fd, &path)?;
    let copy = fd.try_clone().map_err(|e| Failure::io("list", &path, &e))?;
    let mut dir = Dir::from_fd(copy).map_err(|e| Failure::errno("list", &path, e))?;
    let mut names: Vec<(OsString, Option<Type>)> = Vec::new();
    for item in dir.iter() {
        let item = item.map_err(|e| Failure::errno("list", &path, e))?;
        let name = OsStr::from_bytes(item.file_name().to_bytes());
        if name != "." && name != ".." {
            names.push((name.to_owned(), item.file_type()));
        }
    }
    let mut entries = Vec::with_capacity(names.len());
    for (name, file_type) in names {
        match entry_at(&fd, &name) {
            Ok(entry) => entries.push(entry),
            // Removed since it was read: it is no longer part of the directory.
            Err(Errno::ENOENT) => {}
            // Readable but not searchable (`r` without `x`): the name is all there is.
            Err(_) => entries.push(FileEntry {
                name: name.to_string_lossy().into_owned(),
                kind: match file_type {
                    Some(Type::File) => FileKind::File,
                    Some(Type::Directory) => FileKind::Dir,
                    Some(Type::Symlink) => FileKind::Symlink,
                    _ => FileKind::Other,
                },
                size: 0,
                mode: 0,
                mtime: 0,
                target: None,
            }),
        }
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(FileReply::Listing {
        path: path_text(&path),
        entries,
    })
}

/// Describes one entry without following it (a symlink is reported as a symlink); `/` and the
/// roots themselves describe the directory.
pub fn stat(roots: &Roots, raw: &str) -> Result<FileReply, Failure> {
    let path = roots.check(raw)?;
    let entry = if roots.is_root(&path) {
        let (fd, _) = roots.open_dir(&path)?;
        roots.confine.check_fd(&fd, &path)?;
        let st = stat::fstat(&fd).map_err(|e| Failure::errno("stat", &path, e))?;
        let name = path.file_name().unwrap_or(OsStr::new("/"));
        entry_from(name, &st, None)
    } else {
        let (dir, _, name) = roots.parent_of(&path)?;
        entry_at(&dir, name).map_err(|e| Failure::errno("stat", &path, e))?
    };
    Ok(FileReply::Entry { entry })
}

pub fn mkdir(roots: &Roots, raw: &str) -> Result<FileReply, Failure> {
    let path = roots.check(raw)?;
    let (dir, name) = roots.mutable_parent(&path)?;
    // 0777 minus the umask, as mkdir(1) does.
    stat::mkdirat(&dir, name, Mode::from_bits_truncate(0o777))
        .map_err(|e| Failure::errno("create", &path, e))?;
    Ok(FileReply::Ok)
}

/// Removes a file, a symlink (never its target) or an empty directory.
pub fn delete(roots: &Roots, raw: &str) -> Result<FileReply, Failure> {
    let path = roots.check(raw)?;
    let (dir, name) = roots.mutable_parent(&path)?;
    let st = lstat_at(&dir, name).map_err(|e| Failure::errno("delete", &path, e))?;
    if kind_of(&st) == FileKind::Dir {
        unistd::unlinkat(&dir, name, UnlinkatFlags::RemoveDir).map_err(|e| match e {
            Errno::ENOTEMPTY | Errno::EEXIST => Failure::new(
                Unsupported,
                format!(
                    "{} is a directory that is not empty; only empty directories are deleted",
                    path.display()
                ),
            ),
            e => Failure::errno("delete", &path, e),
        })?;
    } else {
        unistd::unlinkat(&dir, name, UnlinkatFlags::NoRemoveDir)
            .map_err(|e| Failure::errno("delete", &path, e))?;
    }
    Ok(FileReply::Ok)
}

/// Renames an entry (a symlink is renamed as the link). Both ends are checked; an existing
/// destination is replaced only with `overwrite`, atomically refused otherwise.
pub fn rename(roots: &Roots, from: &str, to: &str, overwrite: bool) -> Result<FileReply, Failure> {
    let from = roots.check(from)?;
    let to = roots.check(to)?;
    let (from_dir, from_name) = roots.mutable_parent(&from)?;
    let (to_dir, to_name) = roots.mutable_parent(&to)?;
    // For a clear "not found" about the source rather than whatever rename says.
    lstat_at(&from_dir, from_name).map_err(|e| Failure::errno("rename", &from, e))?;
    let renamed = if overwrite {
        fcntl::renameat(&from_dir, from_name, &to_dir, to_name)
    } else {
        rename_noreplace(&from_dir, from_name, &to_dir, to_name)
    };
    renamed.map_err(|e| match e {
        Errno::EEXIST if !overwrite => exists(&to),
        Errno::ENOTEMPTY | Errno::EEXIST => Failure::new(
            Unsupported,
            format!("{} is a directory that is not empty", to.display()),
        ),
        e => Failure::errno("rename", &from, e),
    })?;
    Ok(FileReply::Ok)
}

pub(super) fn exists(path: &Path) -> Failure {
    Failure::new(Conflict, format!("{} already exists", path.display()))
}

/// `rename` that never replaces: `RENAME_NOREPLACE` where the kernel and file system have it,
/// else a hard link plus unlink (just as atomic, for anything but directories), and only for a
/// directory on such a file system a check-then-rename.
pub(super) fn rename_noreplace(
    from_dir: &OwnedFd,
    from: &OsStr,
    to_dir: &OwnedFd,
    to: &OsStr,
) -> nix::Result<()> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    match fcntl::renameat2(
        from_dir,
        from,
        to_dir,
        to,
        fcntl::RenameFlags::RENAME_NOREPLACE,
    ) {
        Err(Errno::EINVAL | Errno::ENOSYS | Errno::EOPNOTSUPP) => {}
        other => return other,
    }
    if kind_of(&lstat_at(from_dir, from)?) != FileKind::Dir {
        match unistd::linkat(from_dir, from, to_dir, to, AtFlags::empty()) {
            Ok(()) => return unistd::unlinkat(from_dir, from, UnlinkatFlags::NoRemoveDir),
            Err(Errno::EPERM | Errno::EOPNOTSUPP | Errno::EXDEV | Errno::EMLINK) => {}
            Err(e) => return Err(e),
        }
    }
    if lstat_if_any(to_dir, to)?.is_some() {
        return Err(Errno::EEXIST);
    }
    fcntl::renameat(from_dir, from, to_dir, to)
}

#[cfg(test)]
#[path = "fsops_tests.rs"]
mod tests;
