//! `gate cp [-r] [-p] [-n] SRC… DST`: files to and from servers through the files API,
//! streamed in flat memory, checked by SHA-256, never leaving a partial file behind.

mod download;
pub mod location;
pub mod staged;
pub mod stream;
mod upload;

use crate::args::CpArgs;
use crate::context::Context;
use crate::exit::CliError;
use gatehouse_client::{exit, Client};
use location::{Location, Remote};
use serde::Serialize;

/// One file's outcome, for `--output json`.
#[derive(Debug, Serialize)]
pub struct Copied {
    pub source: String,
    pub destination: String,
    pub size: u64,
    /// SHA-256 of the bytes moved; absent when skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// `-n` found the destination there and kept it.
    pub skipped: bool,
}

/// What every transfer of one run shares.
pub struct Copier<'a> {
    ctx: &'a Context,
    client: Client,
    /// `-r`.
    recursive: bool,
    /// `-r` or `-p`: permission bits travel with the files.
    keep_mode: bool,
    /// `-p`: modification times travel too.
    keep_time: bool,
    /// `-n`.
    no_clobber: bool,
    done: Vec<Copied>,
    /// The first failure of a file; the others go on, as with scp.
    failed: Option<CliError>,
}

pub async fn run(ctx: &Context, args: CpArgs) -> Result<i32, CliError> {
    let mut locations = args
        .paths
        .iter()
        .map(|p| Location::parse(p))
        .collect::<Result<Vec<_>, _>>()?;
    let dest = locations
        .pop()
        .ok_or_else(|| CliError::usage("give SRC… DST"))?;
    let sources = locations;
    let user = |mut r: Remote| {
        if r.user.is_none() {
            r.user.clone_from(&args.user);
        }
        r
    };
    let mut copier = Copier {
        ctx,
        client: ctx.client()?,
        recursive: args.recursive,
        keep_mode: args.recursive || args.preserve,
        keep_time: args.preserve,
        no_clobber: args.no_clobber,
        done: Vec::new(),
        failed: None,
    };
    let work = async {
        match dest {
            Location::Remote(to) => {
                let from = sources
                    .into_iter()
                    .map(|s| match s {
                        Location::Remote(_) => Err(CliError::usage(
                            "copying between servers is not supported: one side must be local",
                        )),
                        other => Ok(other),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                copier.upload(from, user(to)).await
            }
            local => {
                let from = sources
                    .into_iter()
                    .map(|s| match s {
                        Location::Remote(r) => Ok(user(r)),
                        _ => Err(CliError::usage(
                            "one side must be SERVER:PATH: the sources, when the destination is local",
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                copier.download(from, local).await
            }
        }
    };
    // Ctrl-C drops the transfer: its temporary file goes with it, and the server discards a
    // half-sent upload.
    let stopped = tokio::select! {
        result = work => result.err(),
        _ = tokio::signal::ctrl_c() => Some(CliError::failed(
            "interrupted",
            "interrupted: nothing partial was kept",
        )),
    };
    // What was copied, even when something else failed; a run that copied nothing prints
    // nothing on stdout (its error is on stderr).
    if ctx.out.json && !copier.done.is_empty() {
        ctx.out.json_value(&copier.done)?;
    }
    match stopped.or(copier.failed) {
        Some(e) => Err(e),
        None => Ok(0),
    }
}

impl Copier<'_> {
    /// Records one file's failure and goes on, unless it stops everything: the gate refusing,
    /// a busy server, a decision against the caller (the next file would fare no better).
    fn file_failed(&mut self, what: &str, e: CliError) -> Result<(), CliError> {
        if e.exit_code != exit::ERROR || e.error_code() == "network_error" {
            return Err(e);
        }
        if self.failed.is_none() {
            self.failed = Some(e);
        } else if !self.ctx.out.json {
            self.ctx.out.warn(&format!("{what}: {}", e.message()));
        }
        Ok(())
    }

    /// `-n` found the destination.
    fn skipped(&mut self, source: String, destination: String) {
        self.ctx
            .out
            .info(&format!("{destination} exists: not overwritten (-n)"));
        self.done.push(Copied {
            source,
            destination,
            size: 0,
            sha256: None,
            skipped: true,
        });
    }
}

/// Whether `e` is the server saying there is nothing at that path.
pub fn is_not_found(e: &CliError) -> bool {
    e.error_code() == "not_found"
}
