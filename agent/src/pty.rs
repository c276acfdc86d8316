//! PTY channels: a login shell on a pseudo-terminal, outliving link drops for a grace period.

use crate::flow::Outflow;
use crate::runas::{self, RunAs};
use gatehouse_shared::agent_link::ChannelId;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex as AsyncMutex;

pub struct PtySession {
    pub id: ChannelId,
    pub output: Arc<Outflow>,
    writer: AsyncMutex<pty_process::OwnedWritePty>,
    pid: Option<u32>,
    /// Exit code once the shell ended (`-1` when killed by a signal).
    pub exit: Mutex<Option<i32>>,
    /// Since when no link has had this PTY attached.
    pub detached_since: Mutex<Option<Instant>>,
}

impl PtySession {
    /// Starts `run_as`'s login shell on a new PTY of `cols`×`rows`. `on_exit` runs once the
    /// shell has ended and all its output has been read.
    pub fn spawn(
        id: ChannelId,
        cols: u16,
        rows: u16,
        run_as: &RunAs,
        env: &[(String, String)],
        on_exit: impl FnOnce(Option<i32>) + Send + 'static,
    ) -> Result<Arc<Self>, String> {
        let (pty, pts) = pty_process::open().map_err(|e| format!("cannot open a pty: {e}"))?;
        pty.resize(pty_process::Size::new(rows, cols))
            .map_err(|e| format!("cannot size the pty: {e}"))?;
        let shell_name = run_as
            .shell
            .file_name()
            .map(|n| format!("-{}", n.to_string_lossy()))
            .unwrap_or_else(|| "-sh".to_owned());
        let cmd = pty_process::Command::new(&run_as.shell)
            .arg0(shell_name)
            .env_clear()
            .envs(run_as.environment(env))
            .current_dir(run_as.cwd())
            .kill_on_drop(true);
        let cmd = runas::apply_to_pty_command(cmd, run_as);
        let mut child = cmd
            .spawn(pts)
            .map_err(|e| format!("cannot start {}: {e}", run_as.shell.display()))?;
        let (mut reader, writer) = pty.into_split();
        let session = Arc::new(PtySession {
            id,
            output: Arc::new(Outflow::default()),
            writer: AsyncMutex::new(writer),
            pid: child.id(),
            exit: Mutex::new(None),
            detached_since: Mutex::new(None),
        });
        let this = session.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match reader.read(&mut buf).await {
                    Ok(0) | Err(_) => break, // EIO once the shell and its children closed the pts
                    Ok(n) => this.output.push(&buf[..n]).await,
                }
            }
            let status = child.wait().await.ok();
            let code = status.map(|s| s.code().unwrap_or(-1));
            *this.exit.lock().unwrap_or_else(|e| e.into_inner()) = code;
            this.output.finish();
            on_exit(code);
        });
        Ok(session)
    }

    pub async fn write(&self, data: &[u8]) {
        let mut writer = self.writer.lock().await;
        // A write after the shell died fails; the exit is reported by the reader task.
        let _ = writer.write_all(data).await;
    }

    pub async fn resize(&self, cols: u16, rows: u16) {
        let writer = self.writer.lock().await;
        let _ = writer.resize(pty_process::Size::new(rows, cols));
    }

    /// Hangs up the shell's whole process group, then kills it if it lingers.
    pub fn kill(&self) {
        if let Some(pid) = self.pid {
            let group = Pid::from_raw(pid as i32);
            let _ = killpg(group, Signal::SIGHUP);
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                let _ = killpg(group, Signal::SIGKILL);
            });
        }
    }

    pub fn exit_code(&self) -> Option<i32> {
        *self.exit.lock().unwrap_or_else(|e| e.into_inner())
    }
}
