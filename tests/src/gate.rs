//! Running the built `gate` binary in a test: its own empty home (so no profile of the machine's
//! is read or written), none of the `GATE_*` variables of the calling environment, and the
//! output captured by stream.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// What one run printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    /// stderr as exactly one JSON object (what `--output json` promises for errors).
    pub fn error_json(&self) -> serde_json::Value {
        let mut values = serde_json::Deserializer::from_str(&self.stderr).into_iter();
        let first: serde_json::Value = values
            .next()
            .unwrap_or_else(|| panic!("no JSON on stderr: {self:?}"))
            .unwrap_or_else(|e| panic!("stderr is not JSON ({e}): {self:?}"));
        assert!(
            values.next().is_none(),
            "more than one object on stderr: {self:?}"
        );
        assert!(first.is_object(), "{self:?}");
        first
    }
}

/// A `gate` with its own home folder.
pub struct Gate {
    pub home: TempDir,
    env: Vec<(String, String)>,
}

/// The variables `gate` reads, cleared so the calling environment never leaks in.
const GATE_VARS: &[&str] = &[
    "GATE_URL",
    "GATE_TOKEN",
    "GATE_PROFILE",
    "GATE_WORK_SESSION",
    "GATE_CA",
    "GATE_EXIT_CODES",
    "NO_COLOR",
    "BROWSER",
];

impl Default for Gate {
    fn default() -> Self {
        Self::new()
    }
}

impl Gate {
    pub fn new() -> Self {
        Gate {
            home: tempfile::tempdir().expect("home"),
            env: Vec::new(),
        }
    }

    /// Sets a variable for every later run.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The profile file this home holds.
    pub fn config_file(&self) -> PathBuf {
        self.home.path().join(".config/gatehouse/cli.json")
    }

    /// The profile file as JSON.
    pub fn config(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.config_file()).expect("profile file");
        serde_json::from_str(&text).expect("profile JSON")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(crate::binary("gate"));
        cmd.args(args)
            .env("HOME", self.home.path())
            .env_remove("XDG_CONFIG_HOME")
            .current_dir(self.home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for var in GATE_VARS {
            cmd.env_remove(var);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `gate ARGS…` to its end.
    pub async fn run(&self, args: &[&str]) -> Run {
        finish(self.command(args).spawn().expect("start gate")).await
    }

    /// Signs in to `base` as `username` with a password read from standard input (`client:
    /// "cli"`): an interactive sign-in that needs work sessions, like the browser's.
    pub async fn login_password(&self, base: &str, username: &str, password: &str) {
        let run = self
            .run_stdin(
                &["login", base, "--password", "--username", username],
                &format!("{password}\n"),
            )
            .await;
        assert_eq!(run.code, 0, "gate login --password: {run:?}");
    }

    /// Requests a one-hour work session on `server` with the `create` flags `flags` (`--scope
    /// tunnel`, `--tunnel-port 5432`, …) and uses it; the session as JSON. A superuser's own
    /// request is approved as made, so it is active at once.
    pub async fn use_session(&self, flags: &[&str], server: &str) -> serde_json::Value {
        let mut args = vec!["--json", "work-session", "create", "--purpose", "e2e"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["--server", server, "--expires-in", "1h", "--use"]);
        let made = self.run(&args).await;
        assert_eq!(made.code, 0, "{made:?}");
        made.json()
    }

    /// Runs with extra variables for this run only.
    pub async fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        finish(cmd.spawn().expect("start gate")).await
    }

    /// Runs with `input` on standard input (a pipe, as in a script).
    pub async fn run_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::piped());
        let mut child = cmd.spawn().expect("start gate");
        let mut stdin = child.stdin.take().expect("stdin");
        tokio::io::AsyncWriteExt::write_all(&mut stdin, input.as_bytes())
            .await
            .expect("write stdin");
        drop(stdin);
        finish(child).await
    }

    /// Starts `gate ARGS…` and returns it once a line of its stderr contains `marker`, with that
    /// line (for a run that waits on something the test then does).
    pub async fn start_until(&self, args: &[&str], marker: &str) -> (Waiting, String) {
        let mut child = self.command(args).spawn().expect("start gate");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let mut seen = String::new();
        loop {
            let line = lines
                .next_line()
                .await
                .expect("read stderr")
                .unwrap_or_else(|| panic!("gate ended before printing {marker:?}: {seen}"));
            seen.push_str(&line);
            seen.push('\n');
            if line.contains(marker) {
                return (Waiting { child, lines, seen }, line);
            }
        }
    }
}

/// A `gate` run started by [`Gate::start_until`].
pub struct Waiting {
    child: Child,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStderr>>,
    seen: String,
}

impl Waiting {
    /// Its process id (to signal it as a terminal or a CI runner would).
    pub fn pid(&self) -> u32 {
        self.child.id().expect("gate is running")
    }

    /// Waits for its end.
    pub async fn finish(mut self) -> Run {
        let mut stdout = self.child.stdout.take().expect("stdout");
        let mut out = Vec::new();
        let read_out = tokio::io::AsyncReadExt::read_to_end(&mut stdout, &mut out);
        let mut rest = self.seen;
        let read_err = async {
            while let Some(line) = self.lines.next_line().await.expect("read stderr") {
                rest.push_str(&line);
                rest.push('\n');
            }
        };
        let (read, ()) = tokio::join!(read_out, read_err);
        read.expect("read stdout");
        let status = self.child.wait().await.expect("wait gate");
        Run {
            code: status.code().expect("exit code"),
            stdout: String::from_utf8_lossy(&out).into_owned(),
            stderr: rest,
        }
    }
}

async fn finish(child: Child) -> Run {
    let out = child.wait_with_output().await.expect("run gate");
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every file under `dir`, for asserting that nothing was written.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path.clone());
            }
            found.push(path);
        }
    }
    found
}
