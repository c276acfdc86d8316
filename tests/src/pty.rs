//! Running the built `gate` inside a real pseudo-terminal, as a person at a terminal would: what
//! it draws is collected as it comes, keys are typed into the terminal, and the terminal can be
//! resized (the kernel then sends `gate` SIGWINCH).

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `gate` running in a pseudo-terminal.
pub struct PtyGate {
    writer: pty_process::OwnedWritePty,
    screen: Arc<Mutex<Vec<u8>>>,
    child: tokio::process::Child,
}

impl PtyGate {
    /// Starts `gate ARGS…` in a `cols`×`rows` terminal with `home` as its home and `env`.
    pub fn spawn(
        home: &std::path::Path,
        args: &[&str],
        env: &[(&str, &str)],
        cols: u16,
        rows: u16,
    ) -> Self {
        let (pty, pts) = pty_process::open().expect("open a pty");
        pty.resize(pty_process::Size::new(rows, cols))
            .expect("size the pty");
        let mut cmd = pty_process::Command::new(crate::binary("gate"))
            .args(args)
            .env_clear()
            .env("HOME", home)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TERM", "xterm")
            .current_dir(home)
            .kill_on_drop(true);
        for (k, v) in env {
            cmd = cmd.env(k, v);
        }
        let child = cmd.spawn(pts).expect("start gate in a pty");
        let (mut reader, writer) = pty.into_split();
        let screen = Arc::new(Mutex::new(Vec::new()));
        let sink = screen.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            // EIO once gate has exited and the pts is closed.
            while let Ok(n) = reader.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        PtyGate {
            writer,
            screen,
            child,
        }
    }

    /// Everything drawn so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// How many times `needle` was drawn.
    pub fn count(&self, needle: &str) -> usize {
        self.text().matches(needle).count()
    }

    /// Types `keys` (`\r` is Enter).
    pub async fn type_keys(&mut self, keys: &str) {
        self.writer
            .write_all(keys.as_bytes())
            .await
            .expect("type into the pty");
    }

    /// Waits until `done` holds for what was drawn; `what` names it for the failure.
    pub async fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        loop {
            let text = self.text();
            if done(&text) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; the terminal drew:\n{text}"
            );
            tick.tick().await;
        }
    }

    /// Waits until `needle` has been drawn `times` times in all.
    pub async fn wait_for_count(&self, needle: &str, times: usize) {
        self.wait_until(&format!("{needle:?} drawn {times}×"), |text| {
            text.matches(needle).count() >= times
        })
        .await;
    }

    /// Waits until something is drawn after `marker` (such as the remote prompt after gate's
    /// own line saying the terminal opened).
    pub async fn wait_after(&self, marker: &str) {
        self.wait_until(&format!("something drawn after {marker:?}"), |text| {
            text.split_once(marker)
                .is_some_and(|(_, rest)| !rest.trim().is_empty())
        })
        .await;
    }

    /// Waits until `needle` has been drawn.
    pub async fn wait_for(&self, needle: &str) {
        self.wait_for_count(needle, 1).await;
    }

    /// Resizes the terminal (gate gets SIGWINCH).
    pub fn resize(&self, cols: u16, rows: u16) {
        self.writer
            .resize(pty_process::Size::new(rows, cols))
            .expect("resize the pty");
    }

    /// Waits for gate to exit; its exit code.
    pub async fn wait_exit(&mut self) -> i32 {
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("gate did not exit; it drew: {}", self.text()))
            .expect("wait for gate");
        status.code().unwrap_or(-1)
    }
}
