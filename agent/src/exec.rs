//! Exec channels: one command (a line through `sh -c`, or an argv run directly) as the run-as
//! user, with a timeout, streaming stdout and stderr as two flow-controlled streams.

use crate::argv;
use crate::flow::Outflow;
use crate::runas::{self, RunAs};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt};

pub struct ExecRun {
    pub stdout: Arc<Outflow>,
    pub stderr: Arc<Outflow>,
    pid: Option<u32>,
}

/// What an exec channel runs.
#[derive(Debug, Clone, Copy)]
pub enum Program<'a> {
    /// A command line, interpreted by `/bin/sh -c`.
    Shell(&'a str),
    /// A program and its arguments, executed directly: no shell ever sees the arguments, so
    /// `;`, `|`, `$(..)` and the like are plain bytes.
    Argv(&'a [String]),
}

/// The environment a command starts with.
#[derive(Debug, Clone, Copy)]
pub enum Environment<'a> {
    /// The account's login-like set plus the gateway's variables (`RunAs::environment`).
    Account(&'a [(String, String)]),
    /// Only the fixed `PATH` and the account's names (`argv::clean_environment`).
    Clean,
}

/// How a command ended.
#[derive(Debug, Clone, Copy)]
pub struct ExecOutcome {
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    pub duration_ms: u64,
}

impl ExecRun {
    /// Starts `program`; `on_done` runs after it ended and both streams were fully read.
    ///
    /// A program that cannot be started (an argv whose program is not found, a relative
    /// program path, an exec failure) is an `Err`, which the link answers with `open_failed`:
    /// nothing ran, so there is no exit code to report, and the gateway shows the message.
    pub fn spawn(
        program: Program<'_>,
        run_as: &RunAs,
        env: Environment<'_>,
        timeout: Duration,
        on_done: impl FnOnce(ExecOutcome) + Send + 'static,
    ) -> Result<Arc<Self>, String> {
        let (mut cmd, shown) = match program {
            Program::Shell(line) => {
                let mut cmd = tokio::process::Command::new("/bin/sh");
                cmd.arg("-c").arg(line);
                (cmd, "/bin/sh".to_owned())
            }
            Program::Argv(words) => {
                let path = argv::resolve_program(words)?;
                let mut cmd = tokio::process::Command::new(&path);
                if let Some((name, args)) = words.split_first() {
                    // The program sees the name it was asked by, as a shell would pass it.
                    cmd.arg0(name).args(args);
                }
                (cmd, path.display().to_string())
            }
        };
        let env = match env {
            Environment::Account(extra) => run_as.environment(extra),
            Environment::Clean => argv::clean_environment(run_as),
        };
        cmd.env_clear()
            .envs(env)
            .current_dir(run_as.cwd())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        runas::apply_to_command(&mut cmd, run_as);
        let started = Instant::now();
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {shown}: {e}"))?;
        let run = Arc::new(ExecRun {
            stdout: Arc::new(Outflow::default()),
            stderr: Arc::new(Outflow::default()),
            pid: child.id(),
        });
        let out = pump(child.stdout.take(), run.stdout.clone());
        let err = pump(child.stderr.take(), run.stderr.clone());
        let this = run.clone();
        tokio::spawn(async move {
            let (status, timed_out) = match tokio::time::timeout(timeout, child.wait()).await {
                Ok(status) => (status.ok(), false),
                Err(_) => {
                    this.kill();
                    (child.wait().await.ok(), true)
                }
            };
            let _ = tokio::join!(out, err);
            on_done(ExecOutcome {
                exit_code: status.and_then(|s| s.code()),
                timed_out,
                duration_ms: started.elapsed().as_millis() as u64,
            });
        });
        Ok(run)
    }

    /// Kills the command's whole process group.
    pub fn kill(&self) {
        if let Some(pid) = self.pid {
            let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
    }
}

fn pump<R: AsyncRead + Unpin + Send + 'static>(
    source: Option<R>,
    flow: Arc<Outflow>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Some(mut source) = source {
            let mut buf = vec![0u8; 16 * 1024];
            while let Ok(n) = source.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                flow.push(&buf[..n]).await;
            }
        }
        flow.finish();
    })
}
