//! A download's local file: written under a temporary name beside its destination (0600, so
//! nobody else reads it meanwhile) and renamed into place only once complete and checked. A
//! failed or interrupted transfer removes it: no partial file is ever left behind.

use crate::exit::CliError;
use std::fs::{File, OpenOptions, Permissions};
use std::io::ErrorKind;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

/// A file being written; removed on drop unless committed.
#[derive(Debug)]
pub struct Staged {
    temp: PathBuf,
    dest: PathBuf,
    file: File,
    committed: bool,
}

/// What the commit did.
#[derive(Debug, PartialEq, Eq)]
pub enum Placed {
    Written,
    /// `-n`: the destination appeared meanwhile and was kept.
    Kept,
}

impl Staged {
    /// A new private temporary file in `dest`'s folder.
    pub fn create(dest: &Path) -> Result<Staged, CliError> {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "download".into());
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let temp = dir.join(format!(".{name}.gate-{}.part", &tag[..12]));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .map_err(|e| io_failure(&temp, "cannot create", e))?;
        Ok(Staged {
            temp,
            dest: dest.to_path_buf(),
            file,
            committed: false,
        })
    }

    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// Gives the file `mode` and `mtime` and moves it into place (never over an existing file
    /// with `no_clobber`).
    pub fn commit(
        mut self,
        mode: Option<u32>,
        mtime: Option<i64>,
        no_clobber: bool,
    ) -> Result<Placed, CliError> {
        let fail = |what: &str, e: std::io::Error| io_failure(&self.temp, what, e);
        if let Some(mode) = mode {
            self.file
                .set_permissions(Permissions::from_mode(mode & 0o777))
                .map_err(|e| fail("cannot set the mode of", e))?;
        }
        if let Some(mtime) = mtime {
            let at = UNIX_EPOCH + Duration::from_secs(mtime.max(0).unsigned_abs());
            self.file
                .set_times(std::fs::FileTimes::new().set_modified(at))
                .map_err(|e| fail("cannot set the time of", e))?;
        }
        // Not synced to disk first, as cp, scp and rsync do not: the rename is what keeps a
        // partial file from ever carrying the name. Syncing a 1 GiB download cost a fifth of its
        // time (BENCHMARKS.md, session 12); ext4 also writes a file's data before a rename that
        // replaces another one commits.
        if no_clobber {
            // A hard link never replaces: the one atomic "create if absent" for a finished file.
            match std::fs::hard_link(&self.temp, &self.dest) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(Placed::Kept),
                Err(e) => return Err(io_failure(&self.dest, "cannot create", e)),
            }
            self.committed = true;
            let _ = std::fs::remove_file(&self.temp);
        } else {
            std::fs::rename(&self.temp, &self.dest)
                .map_err(|e| io_failure(&self.dest, "cannot move the download to", e))?;
            self.committed = true;
        }
        Ok(Placed::Written)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// A local file error naming the file.
pub fn io_failure(path: &Path, what: &str, e: std::io::Error) -> CliError {
    CliError::failed("io_error", format!("{what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_dropped_download_leaves_nothing_and_a_committed_one_is_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        let mut staged = Staged::create(&dest).unwrap();
        staged.file().write_all(b"half").unwrap();
        let mode = std::fs::metadata(&staged.temp)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        drop(staged);
        assert!(names(dir.path()).is_empty());

        let mut staged = Staged::create(&dest).unwrap();
        staged.file().write_all(b"whole").unwrap();
        assert_eq!(
            staged.commit(Some(0o640), Some(1_000_000), false).unwrap(),
            Placed::Written
        );
        assert_eq!(names(dir.path()), ["f"]);
        let meta = std::fs::metadata(&dest).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o640);
        let mtime = meta.modified().unwrap().duration_since(UNIX_EPOCH).unwrap();
        assert_eq!(mtime.as_secs(), 1_000_000);
    }

    #[test]
    fn no_clobber_keeps_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        std::fs::write(&dest, b"mine").unwrap();
        let mut staged = Staged::create(&dest).unwrap();
        staged.file().write_all(b"theirs").unwrap();
        assert_eq!(staged.commit(None, None, true).unwrap(), Placed::Kept);
        assert_eq!(std::fs::read(&dest).unwrap(), b"mine");
        assert_eq!(names(dir.path()), ["f"]);
    }
}
