//! Downloads: files and trees (`-r`) from a server to local paths or standard output.

use super::location::{Location, Remote};
use super::staged::{io_failure, Placed, Staged};
use super::stream::{receive, target};
use super::{Copied, Copier};
use crate::exit::CliError;
use crate::progress::Progress;
use gatehouse_shared::files::{FileEntry, FileKind};
use std::fs::{File, Permissions};
use std::io::{BufWriter, ErrorKind};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

/// Bytes buffered between the network and the disk.
const WRITE_BUFFER: usize = 256 * 1024;

impl Copier<'_> {
    /// Copies `sources` from the server to `to` (a local path or `-`).
    pub(super) async fn download(
        &mut self,
        sources: Vec<Remote>,
        to: Location,
    ) -> Result<(), CliError> {
        let to = match to {
            Location::Local(path) => path,
            Location::Stdio => return self.download_to_stdout(sources).await,
            Location::Remote(_) => return Err(CliError::usage("one side must be local")),
        };
        let is_dir = to.is_dir();
        if sources.len() > 1 && !is_dir {
            return Err(CliError::usage(format!(
                "{} is not a directory: several sources need an existing one",
                to.display()
            )));
        }
        for src in sources {
            let what = src.display();
            let dest = match (is_dir, src.name()) {
                (false, _) => to.clone(),
                (true, Some(name)) => to.join(name),
                (true, None) => to.clone(),
            };
            let entry = match self.client.file_stat(target(&src, false), &src.path).await {
                Ok(entry) => entry,
                Err(e) => {
                    self.file_failed(&what, e.into())?;
                    continue;
                }
            };
            match entry.kind {
                FileKind::Dir if !self.recursive => {
                    let e = CliError::failed(
                        "is_a_directory",
                        format!("{what} is a directory: use -r"),
                    );
                    self.file_failed(&what, e)?;
                }
                FileKind::Dir => self.download_tree(src, dest, entry).await?,
                _ => self.download_file(&src, dest, &entry).await?,
            }
        }
        Ok(())
    }

    /// One file to standard output, byte for byte.
    async fn download_to_stdout(&mut self, sources: Vec<Remote>) -> Result<(), CliError> {
        let [src] = <[Remote; 1]>::try_from(sources)
            .map_err(|_| CliError::usage("only one file can be copied to standard output"))?;
        if self.recursive {
            return Err(CliError::usage("-r cannot write to standard output"));
        }
        let progress = Progress::new(&self.ctx.out, &src.display(), None);
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, std::io::stdout().lock());
        let got = receive(&self.client, &src, false, &mut out, &progress).await?;
        self.done.push(Copied {
            source: src.display(),
            destination: "-".into(),
            size: got.size,
            sha256: Some(got.sha256),
            skipped: false,
        });
        Ok(())
    }

    /// One file to `dest`, through a temporary file beside it.
    async fn download_file(
        &mut self,
        src: &Remote,
        dest: PathBuf,
        entry: &FileEntry,
    ) -> Result<(), CliError> {
        let what = src.display();
        if self.no_clobber && dest.symlink_metadata().is_ok() {
            self.skipped(what, dest.display().to_string());
            return Ok(());
        }
        let result = self.fetch(src, &dest, entry).await;
        match result {
            Ok(Some(copied)) => self.done.push(copied),
            Ok(None) => self.skipped(what, dest.display().to_string()),
            Err(e) => self.file_failed(&what, e)?,
        }
        Ok(())
    }

    /// Downloads and places the file; `None` when `-n` found it there meanwhile.
    async fn fetch(
        &self,
        src: &Remote,
        dest: &std::path::Path,
        entry: &FileEntry,
    ) -> Result<Option<Copied>, CliError> {
        let mut staged = Staged::create(dest)?;
        let progress = Progress::new(&self.ctx.out, &src.display(), Some(entry.size));
        let got = {
            let mut sink = BufWriter::with_capacity(WRITE_BUFFER, staged.file());
            receive(&self.client, src, false, &mut sink, &progress).await?
        };
        // A symlink's own bits say nothing about its target's.
        let mode = (self.keep_mode && entry.kind == FileKind::File).then_some(entry.mode);
        let mtime = self.keep_time.then(|| got.mtime.unwrap_or(entry.mtime));
        Ok(match staged.commit(mode, mtime, self.no_clobber)? {
            Placed::Kept => None,
            Placed::Written => Some(Copied {
                source: src.display(),
                destination: dest.display().to_string(),
                size: got.size,
                sha256: Some(got.sha256),
                skipped: false,
            }),
        })
    }

    /// A directory and everything below it. Folders are made 0700 while they fill and get
    /// the server's mode (and, with `-p`, time) at the end, deepest first.
    async fn download_tree(
        &mut self,
        src: Remote,
        dest: PathBuf,
        entry: FileEntry,
    ) -> Result<(), CliError> {
        let mut made: Vec<(PathBuf, FileEntry)> = Vec::new();
        let mut stack = vec![(src, dest, entry)];
        while let Some((remote, local, entry)) = stack.pop() {
            let what = remote.display();
            match std::fs::create_dir(&local) {
                Ok(()) => {
                    let _ = std::fs::set_permissions(&local, Permissions::from_mode(0o700));
                    made.push((local.clone(), entry));
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists && local.is_dir() => {}
                Err(e) => {
                    self.file_failed(&what, io_failure(&local, "cannot create", e))?;
                    continue;
                }
            }
            let mut listing = match self
                .client
                .file_list(target(&remote, false), &remote.path)
                .await
            {
                Ok(listing) => listing,
                Err(e) => {
                    self.file_failed(&what, e.into())?;
                    continue;
                }
            };
            listing.entries.sort_by(|a, b| a.name.cmp(&b.name));
            for child in listing.entries {
                // The name becomes a local path: one plain component, whatever the server says.
                if child.name.is_empty()
                    || child.name == "."
                    || child.name == ".."
                    || child.name.contains(['/', '\0'])
                {
                    self.ctx.out.warn(&format!(
                        "{what}: an entry named {:?} was skipped",
                        child.name
                    ));
                    continue;
                }
                let (r, l) = (remote.join(&child.name), local.join(&child.name));
                match child.kind {
                    FileKind::Dir => stack.push((r, l, child)),
                    FileKind::File => self.download_file(&r, l, &child).await?,
                    FileKind::Symlink | FileKind::Other => self
                        .ctx
                        .out
                        .info(&format!("{}: not a regular file, skipped", r.display())),
                }
            }
        }
        for (dir, entry) in made.iter().rev() {
            if self.keep_time {
                let at = UNIX_EPOCH + Duration::from_secs(entry.mtime.max(0).unsigned_abs());
                let _ = File::open(dir)
                    .and_then(|d| d.set_times(std::fs::FileTimes::new().set_modified(at)));
            }
            if let Err(e) =
                std::fs::set_permissions(dir, Permissions::from_mode(entry.mode & 0o777))
            {
                self.file_failed(
                    &dir.display().to_string(),
                    io_failure(dir, "cannot set the mode of", e),
                )?;
            }
        }
        Ok(())
    }
}
