//! Uploads: local files, trees (`-r`) and standard input to a server.

use super::location::{Location, Remote};
use super::staged::io_failure;
use super::stream::{self, target};
use super::{is_not_found, Copied, Copier};
use crate::exit::CliError;
use crate::progress::Progress;
use gatehouse_client::api::files::Upload;
use gatehouse_shared::files::{FileKind, TransferResult};
use std::fs::Metadata;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

impl Copier<'_> {
    /// Copies `sources` (local paths or `-`) to `to`.
    pub(super) async fn upload(
        &mut self,
        sources: Vec<Location>,
        to: Remote,
    ) -> Result<(), CliError> {
        let into_dir = to.path.len() > 1 && to.path.ends_with('/');
        let to = to.with_path(trimmed(&to.path).to_owned());
        let is_dir = self.remote_kind(&to).await? == Some(FileKind::Dir);
        if (sources.len() > 1 || into_dir) && !is_dir {
            return Err(CliError::usage(format!(
                "{} is not a directory on the server: several sources (or a path ending in /) need an existing one",
                to.display()
            )));
        }
        for source in sources {
            let path = match source {
                Location::Local(path) => path,
                Location::Stdio if is_dir => {
                    return Err(CliError::usage(
                        "standard input has no name: give the file's full path on the server",
                    ))
                }
                Location::Stdio => {
                    let stdin = std::io::stdin();
                    let put = self.put(stdin, None, &to, Upload::default()).await;
                    self.uploaded("-".into(), &to, put)?;
                    continue;
                }
                Location::Remote(_) => {
                    return Err(CliError::usage("one side must be local"));
                }
            };
            let dest = match (is_dir, path.file_name().and_then(|n| n.to_str())) {
                (false, _) => to.clone(),
                (true, Some(name)) => to.join(name),
                (true, None) => {
                    let e = CliError::usage(format!("{} has no file name", path.display()));
                    self.file_failed(&path.display().to_string(), e)?;
                    continue;
                }
            };
            match std::fs::metadata(&path) {
                Err(e) => {
                    let e = io_failure(&path, "cannot read", e);
                    self.file_failed(&path.display().to_string(), e)?;
                }
                Ok(meta) if meta.is_dir() && !self.recursive => {
                    let e = CliError::failed(
                        "is_a_directory",
                        format!("{} is a directory: use -r", path.display()),
                    );
                    self.file_failed(&path.display().to_string(), e)?;
                }
                Ok(meta) if meta.is_dir() => self.upload_tree(path, dest).await?,
                Ok(meta) => self.upload_file(&path, &meta, dest).await?,
            }
        }
        Ok(())
    }

    /// What is at `remote`, if anything.
    async fn remote_kind(&self, remote: &Remote) -> Result<Option<FileKind>, CliError> {
        match self
            .client
            .file_stat(target(remote, false), &remote.path)
            .await
        {
            Ok(entry) => Ok(Some(entry.kind)),
            Err(e) => {
                let e = CliError::from(e);
                if is_not_found(&e) {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// A directory and everything below it; modes of files travel (directories get the
    /// server's default: the API creates them without one).
    async fn upload_tree(&mut self, root: PathBuf, dest: Remote) -> Result<(), CliError> {
        let mut stack = vec![(root, dest)];
        while let Some((dir, remote)) = stack.pop() {
            let what = dir.display().to_string();
            if let Err(e) = self.ensure_dir(&remote).await {
                self.file_failed(&what, e)?;
                continue;
            }
            let mut entries =
                match std::fs::read_dir(&dir).and_then(|d| d.collect::<Result<Vec<_>, _>>()) {
                    Ok(entries) => entries,
                    Err(e) => {
                        self.file_failed(&what, io_failure(&dir, "cannot list", e))?;
                        continue;
                    }
                };
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let path = entry.path();
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    self.ctx
                        .out
                        .warn(&format!("{}: not UTF-8, skipped", path.display()));
                    continue;
                };
                let linked = entry.file_type().is_ok_and(|t| t.is_symlink());
                match std::fs::metadata(&path) {
                    Err(e) => {
                        let e = io_failure(&path, "cannot read", e);
                        self.file_failed(&path.display().to_string(), e)?;
                    }
                    // A linked directory could loop back on itself: not followed.
                    Ok(meta) if meta.is_dir() && linked => self.ctx.out.info(&format!(
                        "{}: a symlink to a directory, skipped",
                        path.display()
                    )),
                    Ok(meta) if meta.is_dir() => stack.push((path, remote.join(&name))),
                    Ok(meta) if meta.is_file() => {
                        self.upload_file(&path, &meta, remote.join(&name)).await?
                    }
                    Ok(_) => self
                        .ctx
                        .out
                        .info(&format!("{}: not a regular file, skipped", path.display())),
                }
            }
        }
        Ok(())
    }

    /// Creates `remote` as a directory unless it is one already.
    async fn ensure_dir(&self, remote: &Remote) -> Result<(), CliError> {
        let made = self
            .client
            .file_mkdir(target(remote, false), &remote.path)
            .await;
        match made {
            Ok(()) => Ok(()),
            Err(e) => match self.remote_kind(remote).await {
                Ok(Some(FileKind::Dir)) => Ok(()),
                _ => Err(e.into()),
            },
        }
    }

    /// One local file to `dest`.
    async fn upload_file(
        &mut self,
        path: &Path,
        meta: &Metadata,
        dest: Remote,
    ) -> Result<(), CliError> {
        let how = Upload {
            mode: self.keep_mode.then(|| meta.permissions().mode() & 0o777),
            mtime: self.keep_time.then(|| meta.mtime()),
            ..Upload::default()
        };
        let put = match std::fs::File::open(path) {
            Ok(file) => self.put(file, Some(meta.len()), &dest, how).await,
            Err(e) => Err(io_failure(path, "cannot open", e)),
        };
        self.uploaded(path.display().to_string(), &dest, put)
    }

    /// Streams `reader` to `dest`; `None` when `-n` found it there.
    async fn put<R>(
        &self,
        reader: R,
        size: Option<u64>,
        dest: &Remote,
        mut how: Upload,
    ) -> Result<Option<TransferResult>, CliError>
    where
        R: std::io::Read + Send + 'static,
    {
        if self.no_clobber && self.remote_kind(dest).await?.is_some() {
            return Ok(None);
        }
        how.overwrite = !self.no_clobber;
        let progress = Arc::new(Progress::new(&self.ctx.out, &dest.display(), size));
        match stream::send(&self.client, dest, false, &how, reader, progress).await {
            // Created by someone else between the look and the write: still "there".
            Err(e) if self.no_clobber && e.error_code() == "conflict" => Ok(None),
            other => other.map(Some),
        }
    }

    /// Records an upload's outcome.
    fn uploaded(
        &mut self,
        source: String,
        dest: &Remote,
        put: Result<Option<TransferResult>, CliError>,
    ) -> Result<(), CliError> {
        match put {
            Ok(Some(stored)) => {
                self.done.push(Copied {
                    source,
                    destination: dest.display(),
                    size: stored.size,
                    sha256: Some(stored.sha256),
                    skipped: false,
                });
                Ok(())
            }
            Ok(None) => {
                self.skipped(source, dest.display());
                Ok(())
            }
            Err(e) => self.file_failed(&source, e),
        }
    }
}

/// `path` without trailing slashes (`/` stays `/`).
fn trimmed(path: &str) -> &str {
    match path.trim_end_matches('/') {
        "" if path.starts_with('/') => "/",
        p => p,
    }
}
