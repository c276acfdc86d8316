//! What the benchmarks share: OpenSSH's options for the throwaway sshd, many agents from one
//! `gatehouse-agent load-test` process, and the CPU time processes spend (a cost per keystroke
//! that the machine's other load does not blur as it blurs a latency).

use crate::{binary, create_user, wait_connected, Agent, Api, Server};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use tempfile::TempDir;

/// A numeric setting from the environment, else `default`.
pub fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A server with superuser `ops` signed in and one connected agent named `name`. Fields drop
/// in order: the agent first, then the server, then the data.
pub struct Bench {
    pub agent: Agent,
    pub api: Api,
    pub server: Server,
    /// The server's CA file, when it serves TLS.
    pub ca: Option<std::path::PathBuf>,
    pub dir: TempDir,
}

impl Bench {
    /// On plain HTTP (loopback).
    pub async fn start(name: &str) -> Self {
        Self::start_with(name, false).await
    }

    /// With `tls`, on HTTPS with a self-signed CA for both hops (client and agent), as an SSH
    /// comparison should be.
    pub async fn start_with(name: &str, tls: bool) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        create_user(dir.path(), "ops", "superuser");
        let flags: &[&str] = if tls { &["--tls-self-signed"] } else { &[] };
        let server = Server::start_with(dir.path(), 0, flags);
        let ca = tls.then(|| dir.path().join("tls/ca.pem"));
        let api = match &ca {
            Some(path) => {
                let pem = std::fs::read(path).expect("the CA file");
                Api::login_tls(&server.base, "ops", &pem).await
            }
            None => Api::login(&server.base, "ops").await,
        };
        let reg = api
            .post("/api/servers/registration-tokens", json!({"max_uses": 1}))
            .await;
        let token = reg["token"].as_str().expect("token");
        let agent =
            Agent::register_and_run_with_ca(&server.base, token, name, dir.path(), ca.as_deref());
        wait_connected(&api, name, true).await;
        Bench {
            agent,
            api,
            server,
            ca,
            dir,
        }
    }
}

/// OpenSSH options for the throwaway sshd of `scripts/bench-ssh.sh`: its temporary key, no host
/// key prompt, no questions. The port flag differs between `ssh` (`-p`) and `scp` (`-P`).
pub fn openssh_options(key: &str) -> Vec<String> {
    [
        "-i",
        key,
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
        "-o",
        "BatchMode=yes",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

/// Clock ticks per second of `/proc/*/stat` times (`USER_HZ`, 100 on Linux for every
/// architecture Gatehouse runs on).
const USER_HZ: f64 = 100.0;

/// CPU time (user and system, all threads) a process has used so far; zero once it is gone.
pub fn cpu_time(pid: u32) -> std::time::Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15, the 12th and 13th after the name.
    let ticks: u64 = fields
        .get(11..13)
        .map(|t| t.iter().filter_map(|v| v.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    std::time::Duration::from_secs_f64(ticks as f64 / USER_HZ)
}

/// The processes whose command name starts with `prefix` (the throwaway sshd and its sessions).
pub fn pids_named(prefix: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.starts_with(prefix))
        })
        .collect()
}

/// CPU time used by several processes together.
pub fn cpu_time_of(pids: &[u32]) -> std::time::Duration {
    pids.iter().map(|&pid| cpu_time(pid)).sum()
}

/// The median of `values` (sorted in place).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Per-round ratios `ours[i] / theirs[i]`, as `1.03, 0.97, …` for a report line.
pub fn round_ratios(ours: &[f64], theirs: &[f64]) -> String {
    let ratios: Vec<String> = ours
        .iter()
        .zip(theirs)
        .map(|(o, t)| format!("{:.2}", o / t))
        .collect();
    ratios.join(", ")
}

/// Writes every dirty page back (`sync`), so a measure starts from a clean page cache: a
/// transfer or a recording of hundreds of MiB is still being written back when it ends, and
/// that would land on whatever is measured next.
pub fn settle_disk() {
    let status = Command::new("sync").status().expect("sync");
    assert!(status.success(), "sync failed");
}

/// A terminal of `cols`×`rows` on `server`, in a fresh work session (`websh`, `sudo`) the
/// signed-in superuser uses; its stream's URL.
pub async fn open_terminal(api: &Api, base: &Server, server: &str, cols: u16, rows: u16) -> String {
    let session = api
        .post(
            "/api/work-sessions",
            json!({"purpose": "bench", "scopes": ["websh", "sudo"], "servers": [server], "duration_secs": 3600}),
        )
        .await;
    api.post(
        &format!(
            "/api/work-sessions/{}/use",
            session["id"].as_str().expect("id")
        ),
        json!({}),
    )
    .await;
    let opened = api
        .post(
            "/api/websh",
            json!({"server": server, "cols": cols, "rows": rows, "user": crate::shell_user()}),
        )
        .await;
    base.ws_url(opened["ws_path"].as_str().expect("ws_path"))
}

/// Root work wants a fresh one-time code by default; a bench workspace turns that off, since
/// what it measures is the command's round trip, not the step-up.
pub async fn no_mfa_for_root(api: &Api) {
    let (status, body) = api
        .call(
            reqwest::Method::PATCH,
            "/api/settings",
            Some(json!({"require_mfa_for_root": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// `count` agents named `<prefix>00000…` running from one load-test process, ended on drop.
pub struct LoadAgents(Child);

impl Drop for LoadAgents {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Registers `count` agents on the server at `base` and starts their links.
pub async fn load_agents(api: &Api, base: &str, count: usize, prefix: &str) -> LoadAgents {
    let token = api
        .post(
            "/api/servers/registration-tokens",
            json!({"max_uses": count, "expires_in_secs": 3600}),
        )
        .await["token"]
        .as_str()
        .expect("a registration token")
        .to_owned();
    let child = Command::new(binary("gatehouse-agent"))
        .args([
            "load-test",
            "--server",
            base,
            "--token",
            &token,
            "--count",
            &count.to_string(),
            "--prefix",
            prefix,
        ])
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .spawn()
        .expect("start the load-test agents");
    LoadAgents(child)
}
