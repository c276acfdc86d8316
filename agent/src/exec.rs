//! Exec channels: one command (a line through `sh -c`, or an argv run directly) as the run-as
//! user, with a timeout, streaming stdout and stderr as two flow-controlled streams; optionally
//! with standard input from the gateway, on a pseudo-terminal, and taking signals.

use crate::argv;
use crate::flow::Outflow;
use crate::runas::{self, RunAs};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, Mutex as AsyncMutex};

pub struct ExecRun {
    pub stdout: Arc<Outflow>,
    pub stderr: Arc<Outflow>,
    pid: Option<u32>,
    /// Standard input, when the channel was opened with `stdin`: written in order by one task,
    /// so a command that does not read never blocks the link.
    input: Option<mpsc::UnboundedSender<InputOp>>,
    /// The pseudo-terminal's writing half, with `tty` (for resizing).
    pty: Option<Arc<AsyncMutex<pty_process::OwnedWritePty>>>,
}

/// How a command's standard streams are connected.
#[derive(Debug, Clone, Copy, Default)]
pub struct Io {
    /// Keep standard input open for the gateway's bytes (else /dev/null).
    pub stdin: bool,
    /// Run on a pseudo-terminal of this size (cols, rows): stdout and stderr become one stream.
    pub tty: Option<(u16, u16)>,
}

/// One step for the standard-input writer.
enum InputOp {
    Bytes(Vec<u8>),
    Eof,
    /// A terminal's new size, in order with the input around it.
    Resize(u16, u16),
}

/// Where standard input goes.
enum InputSink {
    Pipe(Option<tokio::process::ChildStdin>),
    Pty(Arc<AsyncMutex<pty_process::OwnedWritePty>>),
}

/// The end-of-file character of a terminal in its usual (canonical) mode: Ctrl-D.
const VEOF: u8 = 0x04;

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
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub duration_ms: u64,
}

impl ExecRun {
    /// Starts `program`; `on_done` runs after it ended and both streams were fully read.
    /// With `io.stdin`, `credit` receives the count of input bytes written so far after each
    /// write (the gateway's stdin credit).
    ///
    /// A program that cannot be started (an argv whose program is not found, a relative
    /// program path, an exec failure) is an `Err`, which the link answers with `open_failed`:
    /// nothing ran, so there is no exit code to report, and the gateway shows the message.
    pub fn spawn(
        program: Program<'_>,
        run_as: &RunAs,
        env: Environment<'_>,
        timeout: Duration,
        io: Io,
        credit: mpsc::UnboundedSender<u64>,
        on_done: impl FnOnce(ExecOutcome) + Send + 'static,
    ) -> Result<Arc<Self>, String> {
        let (path, args, shown): (std::path::PathBuf, Vec<String>, String) = match program {
            Program::Shell(line) => (
                "/bin/sh".into(),
                vec!["/bin/sh".into(), "-c".into(), line.to_owned()],
                "/bin/sh".to_owned(),
            ),
            Program::Argv(words) => {
                let path = argv::resolve_program(words)?;
                let shown = path.display().to_string();
                // The program sees the name it was asked by, as a shell would pass it.
                (path, words.to_vec(), shown)
            }
        };
        let env = match env {
            Environment::Account(extra) => run_as.environment(extra),
            Environment::Clean => argv::clean_environment(run_as),
        };
        let started = Instant::now();
        let cannot = |e: &dyn std::fmt::Display| format!("cannot start {shown}: {e}");
        let (mut child, out_source, err_source, sink, pty): (
            tokio::process::Child,
            Option<Source>,
            Option<Source>,
            Option<InputSink>,
            _,
        ) = match io.tty {
            Some((cols, rows)) => {
                let (pty, pts) =
                    pty_process::open().map_err(|e| format!("cannot open a pty: {e}"))?;
                pty.resize(pty_process::Size::new(rows, cols))
                    .map_err(|e| format!("cannot size the pty: {e}"))?;
                let (name, rest) = args.split_first().ok_or("an empty argv")?;
                let cmd = pty_process::Command::new(&path)
                    .arg0(name)
                    .args(rest)
                    .env_clear()
                    .envs(env)
                    .current_dir(run_as.cwd())
                    .kill_on_drop(true);
                let child = runas::apply_to_pty_command(cmd, run_as)
                    .spawn(pts)
                    .map_err(|e| cannot(&e))?;
                let (reader, writer) = pty.into_split();
                let writer = Arc::new(AsyncMutex::new(writer));
                let sink = io.stdin.then(|| InputSink::Pty(writer.clone()));
                (
                    child,
                    Some(Box::new(reader) as Source),
                    None,
                    sink,
                    Some(writer),
                )
            }
            None => {
                let mut cmd = tokio::process::Command::new(&path);
                if let Some((name, rest)) = args.split_first() {
                    cmd.arg0(name).args(rest);
                }
                let stdin = if io.stdin {
                    Stdio::piped()
                } else {
                    Stdio::null()
                };
                cmd.env_clear()
                    .envs(env)
                    .current_dir(run_as.cwd())
                    .stdin(stdin)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .process_group(0)
                    .kill_on_drop(true);
                runas::apply_to_command(&mut cmd, run_as);
                let mut child = cmd.spawn().map_err(|e| cannot(&e))?;
                let out = child.stdout.take().map(|s| Box::new(s) as Source);
                let err = child.stderr.take().map(|s| Box::new(s) as Source);
                let sink = io.stdin.then(|| InputSink::Pipe(child.stdin.take()));
                (child, out, err, sink, None)
            }
        };
        let input = sink.map(|sink| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(write_input(sink, rx, credit));
            tx
        });
        let run = Arc::new(ExecRun {
            stdout: Arc::new(Outflow::default()),
            stderr: Arc::new(Outflow::default()),
            pid: child.id(),
            input,
            pty,
        });
        let out = pump(out_source, run.stdout.clone());
        let err = pump(err_source, run.stderr.clone());
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
                signal: status.and_then(|s| s.signal()),
                timed_out,
                duration_ms: started.elapsed().as_millis() as u64,
            });
        });
        Ok(run)
    }

    /// Kills the command's whole process group.
    pub fn kill(&self) {
        self.signal(Signal::SIGKILL);
    }

    /// Sends `signal` to the command's whole process group.
    pub fn signal(&self, signal: Signal) {
        if let Some(pid) = self.pid {
            let _ = killpg(Pid::from_raw(pid as i32), signal);
        }
    }

    /// Queues standard-input bytes (dropped when the channel has no standard input).
    pub fn input(&self, bytes: &[u8]) {
        if let Some(tx) = &self.input {
            let _ = tx.send(InputOp::Bytes(bytes.to_vec()));
        }
    }

    /// Closes standard input after what was queued before.
    pub fn eof(&self) {
        if let Some(tx) = &self.input {
            let _ = tx.send(InputOp::Eof);
        }
    }

    /// Resizes the command's pseudo-terminal, if it has one. With standard input the writer
    /// does it, in order with the input, and the link never waits on a writer that waits for a
    /// command that does not read; without, nothing else holds the terminal.
    pub async fn resize(&self, cols: u16, rows: u16) {
        match (&self.pty, &self.input) {
            (Some(_), Some(tx)) => {
                let _ = tx.send(InputOp::Resize(cols, rows));
            }
            (Some(pty), None) => {
                let _ = pty.lock().await.resize(pty_process::Size::new(rows, cols));
            }
            (None, _) => {}
        }
    }
}

type Source = Box<dyn AsyncRead + Unpin + Send>;

/// Writes standard input in order, reporting the running count after each write. Bytes the
/// command will never read (it closed its input, or it ended) are counted all the same, so the
/// gateway's credit never stalls on them.
async fn write_input(
    mut sink: InputSink,
    mut rx: mpsc::UnboundedReceiver<InputOp>,
    credit: mpsc::UnboundedSender<u64>,
) {
    let mut written = 0u64;
    while let Some(op) = rx.recv().await {
        match (op, &mut sink) {
            (InputOp::Bytes(bytes), InputSink::Pipe(pipe)) => {
                if let Some(p) = pipe {
                    if p.write_all(&bytes).await.is_err() {
                        *pipe = None;
                    }
                }
                written += bytes.len() as u64;
            }
            (InputOp::Bytes(bytes), InputSink::Pty(pty)) => {
                let _ = pty.lock().await.write_all(&bytes).await;
                written += bytes.len() as u64;
            }
            // Dropping the pipe is the end of file the command reads.
            (InputOp::Eof, InputSink::Pipe(pipe)) => {
                *pipe = None;
                continue;
            }
            (InputOp::Eof, InputSink::Pty(pty)) => {
                let _ = pty.lock().await.write_all(&[VEOF]).await;
                continue;
            }
            (InputOp::Resize(cols, rows), InputSink::Pty(pty)) => {
                let _ = pty.lock().await.resize(pty_process::Size::new(rows, cols));
                continue;
            }
            (InputOp::Resize(..), InputSink::Pipe(_)) => continue,
        }
        let _ = credit.send(written);
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
