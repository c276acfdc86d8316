//! Streamed reads and writes, inside a `file-worker` as the run-as user: a read is bounded by
//! the size the file had when opened and refuses anything that is not a regular file; a write
//! goes to a temporary file beside the destination that is synced and renamed into place on
//! commit, and removed on anything else, so nothing partial is ever seen at the destination.

use super::fsops::{
    exists, kind_of, lstat_at, lstat_if_any, outside, pseudo, rename_noreplace, Roots,
};
use super::{paths, Failure};
use gatehouse_shared::files::FileErrorKind::{Conflict, IsADirectory, Unsupported};
use gatehouse_shared::files::{file_version, FileErrorKind, FileKind, FileReply};
use nix::errno::Errno;
use nix::fcntl::{self, FcntlArg, OFlag};
use nix::sys::stat::{self, FileStat, Mode};
use nix::unistd::{self, UnlinkatFlags};
use sha2::{Digest, Sha256};
use std::ffi::{OsStr, OsString};
use std::fs::{File, Permissions};
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// File systems whose regular-looking files are kernel interfaces: reads may block, never end or
/// have side effects, and sizes are made up.
#[cfg(target_os = "linux")]
fn on_pseudo_fs(fd: &OwnedFd) -> bool {
    use nix::sys::statfs::{self as fs, FsType};
    const PSEUDO: [FsType; 12] = [
        fs::PROC_SUPER_MAGIC,
        fs::SYSFS_MAGIC,
        fs::DEBUGFS_MAGIC,
        fs::TRACEFS_MAGIC,
        fs::SECURITYFS_MAGIC,
        fs::CGROUP_SUPER_MAGIC,
        fs::CGROUP2_SUPER_MAGIC,
        fs::BPF_FS_MAGIC,
        fs::DEVPTS_SUPER_MAGIC,
        fs::NSFS_MAGIC,
        fs::SELINUX_MAGIC,
        fs::SMACK_MAGIC,
    ];
    fs::fstatfs(fd).is_ok_and(|s| PSEUDO.contains(&s.filesystem_type()))
}

#[cfg(not(target_os = "linux"))]
fn on_pseudo_fs(_: &OwnedFd) -> bool {
    false
}

/// Refuses a directory early with the right error: the directory holding it (which the
/// later checks open) may be outside the roots when it is a root itself.
fn not_a_dir(shown: &Path, real: &Path) -> Result<(), Failure> {
    match std::fs::symlink_metadata(real) {
        Ok(m) if m.is_dir() => Err(Failure::new(
            IsADirectory,
            format!("{} is a directory", shown.display()),
        )),
        _ => Ok(()),
    }
}

/// Refuses anything but a regular file before it is opened for reading.
fn readable(path: &Path, st: &FileStat) -> Result<(), Failure> {
    match kind_of(st) {
        FileKind::File => Ok(()),
        FileKind::Dir => Err(Failure::new(
            IsADirectory,
            format!("{} is a directory", path.display()),
        )),
        _ => Err(Failure::new(
            Unsupported,
            format!(
                "{} is not a regular file (a FIFO, device or socket); it is not read",
                path.display()
            ),
        )),
    }
}

/// A file open for a streamed read.
#[derive(Debug)]
pub struct Reader {
    path: PathBuf,
    file: File,
    size: u64,
    mtime: i64,
    version: String,
    /// Bytes still to send: the size seen at open, so a growing file cannot make a read endless.
    remaining: u64,
    sent: u64,
    hasher: Sha256,
}

/// Opens a regular file for reading (symlinks followed, within the roots). FIFOs, devices and
/// sockets are refused before they are opened, files on kernel pseudo-file systems after.
pub fn open_read(roots: &Roots, raw: &str) -> Result<Reader, Failure> {
    let path = roots.check(raw)?;
    let real = roots.resolve(&path)?;
    // Nothing outside a token's rules is even opened; the descriptor is checked again below.
    roots.confine.check(&real, &path)?;
    if paths::is_pseudo(&real) {
        return Err(pseudo(&path));
    }
    not_a_dir(&path, &real)?;
    let Some((parent, name)) = paths::split(&real) else {
        return Err(Failure::new(IsADirectory, "/ is a directory"));
    };
    let (dir, _) = roots.open_dir(parent)?;
    roots.confine.check_entry(&dir, name, &path)?;
    let before = lstat_at(&dir, name).map_err(|e| Failure::errno("read", &path, e))?;
    readable(&path, &before)?;
    // O_NONBLOCK: if a FIFO is swapped in after the check, opening it must not wait for a
    // writer; the fstat below then refuses it.
    let flags = OFlag::O_RDONLY
        | OFlag::O_NOFOLLOW
        | OFlag::O_NONBLOCK
        | OFlag::O_NOCTTY
        | OFlag::O_CLOEXEC;
    let fd = fcntl::openat(&dir, name, flags, Mode::empty())
        .map_err(|e| Failure::errno("read", &path, e))?;
    // Where the kernel says the opened file is: no swap since the checks above can fool this.
    roots.confine.check_fd(&fd, &path)?;
    let st = stat::fstat(&fd).map_err(|e| Failure::errno("read", &path, e))?;
    readable(&path, &st)?;
    if (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino) {
        return Err(Failure::new(
            FileErrorKind::Io,
            format!("{} changed while it was being opened", path.display()),
        ));
    }
    if on_pseudo_fs(&fd) {
        return Err(pseudo(&path));
    }
    fcntl::fcntl(&fd, FcntlArg::F_SETFL(OFlag::empty()))
        .map_err(|e| Failure::errno("read", &path, e))?;
    let size = u64::try_from(st.st_size).unwrap_or(0);
    Ok(Reader {
        path,
        file: File::from(fd),
        size,
        mtime: st.st_mtime,
        version: version_of(&st),
        remaining: size,
        sent: 0,
        hasher: Sha256::new(),
    })
}

impl Reader {
    pub fn started(&self) -> FileReply {
        FileReply::ReadStarted {
            size: self.size,
            mtime: self.mtime,
            version: self.version.clone(),
        }
    }

    /// Reads the next bytes; 0 at the end of the file or of the size it had when opened.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Failure> {
        let want = usize::try_from(self.remaining)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        if want == 0 {
            return Ok(0);
        }
        loop {
            match self.file.read(&mut buf[..want]) {
                Ok(n) => {
                    self.remaining -= n as u64;
                    self.sent += n as u64;
                    self.hasher.update(&buf[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Failure::io("read", &self.path, &e)),
            }
        }
    }

    /// The final reply: what was read, its SHA-256, and the modification time and version seen
    /// at open (what the editor hands back as `if_version`).
    pub fn done(self) -> FileReply {
        FileReply::Done {
            size: self.sent,
            sha256: hex::encode(self.hasher.finalize()),
            mtime: self.mtime,
            version: self.version,
        }
    }
}

/// An upload in progress: a temporary file beside the destination, removed unless committed.
#[derive(Debug)]
pub struct Upload {
    path: PathBuf,
    dir: OwnedFd,
    name: OsString,
    /// The temporary file's name while it exists under it.
    temp: Option<OsString>,
    file: File,
    overwrite: bool,
    expect: IfUnchanged,
    mode: u32,
    /// The modification time to give the file before it is moved into place.
    mtime: Option<i64>,
    owner: Option<(u32, u32)>,
    size: u64,
    /// Bytes before this offset were handed to the kernel's writeback already.
    flushed: u64,
    hasher: Sha256,
}

/// How much an upload writes before it asks the kernel to start writing it to disk.
const WRITEBACK_BYTES: u64 = 8 * 1024 * 1024;

/// Starts writeback of `len` bytes of `file` from `offset`, without waiting for it. Spreading the
/// disk writes over the transfer leaves the commit's `fsync` almost nothing to do, where it
/// would otherwise flush the whole file at the end while the client waits.
#[allow(unsafe_code)]
fn start_writeback(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: sync_file_range takes a file descriptor we own and plain integers; it touches no
    // memory of ours. A failure (a file system that does not support it) only means the final
    // fsync does all the work, as it would without this call.
    let _ = unsafe {
        nix::libc::sync_file_range(
            file.as_raw_fd(),
            offset,
            len,
            nix::libc::SYNC_FILE_RANGE_WRITE,
        )
    };
}

impl Drop for Upload {
    fn drop(&mut self) {
        // Aborted, failed or cut off: nothing partial stays behind.
        if let Some(temp) = self.temp.take() {
            let _ = unistd::unlinkat(&self.dir, temp.as_os_str(), UnlinkatFlags::NoRemoveDir);
        }
    }
}

/// The state of the file the editor loaded; a write refuses if the file is no longer in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IfUnchanged {
    /// Modification time in seconds (coarse: a change within the same second is not seen).
    pub mtime: Option<i64>,
    /// [`file_version`]: modification time to the nanosecond, size and inode.
    pub version: Option<String>,
}

impl IfUnchanged {
    fn check(&self, path: &Path, current: Option<&FileStat>) -> Result<(), Failure> {
        let mtime_ok = match (self.mtime, current) {
            (None, _) => true,
            (Some(want), Some(st)) => st.st_mtime == want,
            (Some(_), None) => false,
        };
        let version_ok = match (&self.version, current) {
            (None, _) => true,
            (Some(want), Some(st)) => *want == version_of(st),
            (Some(_), None) => false,
        };
        if mtime_ok && version_ok {
            return Ok(());
        }
        Err(Failure::new(
            Conflict,
            format!(
                "{} changed on the server since it was loaded",
                path.display()
            ),
        ))
    }
}

/// What an upload asks to keep of the original file (`gate cp -r`/`-p`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Keep {
    /// Permission bits; setuid, setgid and sticky are never set through an upload.
    pub mode: Option<u32>,
    /// Modification time, seconds since the epoch.
    pub mtime: Option<i64>,
}

/// The [`file_version`] of a file as `fstat`/`lstat` saw it.
pub fn version_of(st: &FileStat) -> String {
    file_version(
        st.st_mtime,
        st.st_mtime_nsec,
        u64::try_from(st.st_size).unwrap_or(0),
        st.st_ino,
    )
}

fn current_umask() -> u32 {
    // Reading the umask means setting it; the worker is single-threaded, so briefly is harmless.
    let old = stat::umask(Mode::from_bits_truncate(0o022));
    stat::umask(old);
    old.bits()
}

/// Starts a write of `raw`: checks the destination (a symlink to a file within the roots is
/// written through, to its target), refuses per `overwrite` and `expect`, and creates the
/// temporary file (mode 0600 until commit) in the destination's directory.
pub fn open_write(
    roots: &Roots,
    raw: &str,
    overwrite: bool,
    expect: IfUnchanged,
) -> Result<Upload, Failure> {
    let path = roots.check(raw)?;
    let target = match std::fs::canonicalize(&path) {
        Ok(real) if roots.admits(&real) => real,
        Ok(_) => return Err(outside(&path)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let (parent, name) = paths::split(&path)
                .ok_or_else(|| Failure::new(IsADirectory, "/ is a directory"))?;
            roots.resolve(parent)?.join(name)
        }
        Err(e) => return Err(Failure::io("resolve", &path, &e)),
    };
    // A write through a symlink lands on its target: that is what a token's rules must cover.
    roots.confine.check(&target, &path)?;
    if paths::is_pseudo(&target) {
        return Err(pseudo(&path));
    }
    not_a_dir(&path, &target)?;
    let Some((parent, name)) = paths::split(&target) else {
        return Err(Failure::new(IsADirectory, "/ is a directory"));
    };
    let (dir, _) = roots.open_dir(parent)?;
    // The temporary file and the rename into place both happen in this directory, by name.
    roots.confine.check_entry(&dir, name, &path)?;
    let existing = lstat_if_any(&dir, name).map_err(|e| Failure::errno("write", &path, e))?;
    if let Some(st) = &existing {
        match kind_of(st) {
            FileKind::File => {}
            FileKind::Dir => {
                return Err(Failure::new(
                    IsADirectory,
                    format!("{} is a directory", path.display()),
                ))
            }
            FileKind::Symlink => {
                return Err(Failure::new(
                    Unsupported,
                    format!(
                        "{} is a symlink to nothing; it is not replaced",
                        path.display()
                    ),
                ))
            }
            FileKind::Other => {
                return Err(Failure::new(
                    Unsupported,
                    format!("{} is not a regular file", path.display()),
                ))
            }
        }
        if !overwrite {
            return Err(exists(&path));
        }
    }
    expect.check(&path, existing.as_ref())?;
    let (file, temp) = create_temp(&dir, name, &path)?;
    Ok(Upload {
        mode: existing
            .as_ref()
            .map_or_else(|| 0o666 & !current_umask(), |st| st.st_mode & 0o777),
        mtime: None,
        owner: existing.as_ref().map(|st| (st.st_uid, st.st_gid)),
        path,
        dir,
        name: name.to_owned(),
        temp: Some(temp),
        file,
        overwrite,
        expect,
        size: 0,
        flushed: 0,
        hasher: Sha256::new(),
    })
}

fn create_temp(dir: &OwnedFd, name: &OsStr, path: &Path) -> Result<(File, OsString), Failure> {
    let flags =
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    for _ in 0..8 {
        let temp = paths::temp_name(name, rand::random());
        match fcntl::openat(
            dir,
            temp.as_os_str(),
            flags,
            Mode::from_bits_truncate(0o600),
        ) {
            Ok(fd) => return Ok((File::from(fd), temp)),
            Err(Errno::EEXIST) => continue,
            Err(e) => return Err(Failure::errno("write", path, e)),
        }
    }
    Err(Failure::new(
        FileErrorKind::Io,
        format!("cannot create a temporary file beside {}", path.display()),
    ))
}

impl Upload {
    /// Gives the file `keep`'s mode and modification time when it is committed.
    pub fn keeping(mut self, keep: Keep) -> Result<Self, Failure> {
        if let Some(mode) = keep.mode {
            if mode & !0o777 != 0 {
                return Err(Failure::new(
                    FileErrorKind::InvalidPath,
                    format!("mode {mode:o} has bits beyond 0777"),
                ));
            }
            self.mode = mode;
        }
        self.mtime = keep.mtime;
        Ok(self)
    }

    pub fn write(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.file
            .write_all(bytes)
            .map_err(|e| Failure::io("write", &self.path, &e))?;
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
        if self.size - self.flushed >= WRITEBACK_BYTES {
            start_writeback(&self.file, self.flushed, self.size - self.flushed);
            self.flushed = self.size;
        }
        Ok(())
    }

    /// Syncs the temporary file, checks the editor's expectation again, moves it into place (never over a
    /// file that appeared meanwhile unless `overwrite`) and syncs the directory.
    pub fn commit(mut self) -> Result<FileReply, Failure> {
        let path = self.path.clone();
        let io_err = |e: io::Error| Failure::io("write", &path, &e);
        if let Some((uid, gid)) = self.owner {
            // Keeps the owner where the user may (root may); otherwise the new file is theirs.
            let _ = std::os::unix::fs::fchown(&self.file, Some(uid), Some(gid));
        }
        self.file
            .set_permissions(Permissions::from_mode(self.mode))
            .map_err(io_err)?;
        if let Some(mtime) = self.mtime {
            let at = if mtime >= 0 {
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime.unsigned_abs())
            } else {
                std::time::UNIX_EPOCH - std::time::Duration::from_secs(mtime.unsigned_abs())
            };
            let times = std::fs::FileTimes::new().set_modified(at);
            self.file.set_times(times).map_err(io_err)?;
        }
        self.file.sync_all().map_err(io_err)?;
        let current =
            lstat_if_any(&self.dir, &self.name).map_err(|e| Failure::errno("write", &path, e))?;
        self.expect.check(&path, current.as_ref())?;
        let Some(temp) = self.temp.clone() else {
            return Err(Failure::new(
                FileErrorKind::Io,
                "the upload was already committed",
            ));
        };
        let renamed = if self.overwrite {
            fcntl::renameat(
                &self.dir,
                temp.as_os_str(),
                &self.dir,
                self.name.as_os_str(),
            )
        } else {
            rename_noreplace(&self.dir, &temp, &self.dir, &self.name)
        };
        renamed.map_err(|e| match e {
            Errno::EEXIST => exists(&path),
            e => Failure::errno("write", &path, e),
        })?;
        // The temporary name is now the destination: nothing to remove any more.
        self.temp = None;
        // Makes the rename durable; some file systems refuse to sync directories, and the file
        // is in place either way.
        let _ = unistd::fsync(&self.dir);
        let st = stat::fstat(&self.file).map_err(|e| Failure::errno("write", &path, e))?;
        Ok(FileReply::Done {
            size: self.size,
            sha256: hex::encode(self.hasher.clone().finalize()),
            mtime: st.st_mtime,
            version: version_of(&st),
        })
    }
}
