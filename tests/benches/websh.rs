//! Terminal throughput and keystroke echo through Gatehouse, with TLS on both hops (client →
//! server WSS, agent → server WSS), and the same through OpenSSH on loopback when an sshd is
//! given (`scripts/bench-ssh.sh` starts one). Also the idle agent's resident memory.
//!
//! Run: `scripts/bench.sh` (or `cargo bench -p gatehouse-e2e --bench websh`).
//! Environment: BENCH_MIB (default 512), BENCH_KEYS (default 1000),
//! BENCH_SSH="port keyfile" to compare with ssh.

use gatehouse_e2e::bench::{cpu_time, cpu_time_of, pids_named};
use gatehouse_e2e::terminal::Term;
use gatehouse_e2e::{
    client_tls, create_user, https_client, rss_kib, wait_connected, Agent, Api, Server,
};
use serde_json::json;
use std::io::Write;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A file of printable lines, so a terminal renders it without interpreting anything.
fn make_file(path: &std::path::Path, mib: usize) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let line: Vec<u8> = (0..127)
        .map(|i| b'a' + (i % 26) as u8)
        .chain([b'\n'])
        .collect();
    for _ in 0..mib * 1024 * 1024 / line.len() {
        file.write_all(&line).unwrap();
    }
    file.flush().unwrap();
}

/// CPU microseconds per key of each process between two readings.
fn per_key<const N: usize>(before: [Duration; N], after: [Duration; N], keys: usize) -> [f64; N] {
    std::array::from_fn(|i| (after[i].saturating_sub(before[i])).as_secs_f64() * 1e6 / keys as f64)
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)]
}

#[tokio::main]
async fn main() {
    let mib = env_num("BENCH_MIB", 512);
    let keys = env_num("BENCH_KEYS", 1000);
    let dir = tempfile::tempdir().unwrap();
    // The terminal's user (see `shell_user`) must be able to read the payload.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let file = dir.path().join("payload.txt");
    make_file(&file, mib);

    create_user(dir.path(), "ops", "superuser");
    let server = Server::start_with(dir.path(), 0, &["--tls-self-signed"]);
    let ca_path = dir.path().join("tls/ca.pem");
    let ca = std::fs::read(&ca_path).unwrap();
    let http = https_client(&ca);
    let api = Api::login_with(http, &server.base, "ops").await;
    let token = api
        .post("/api/servers/registration-tokens", json!({}))
        .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let agent =
        Agent::register_and_run_with_ca(&server.base, &token, "bench", dir.path(), Some(&ca_path));
    wait_connected(&api, "bench", true).await;
    println!("agent idle resident memory: {} KiB", rss_kib(agent.pid()));

    let url = gatehouse_e2e::bench::open_terminal(&api, &server, "bench", 200, 50).await;
    let mut term = Term::connect_tls(&url, &api, None, Some(client_tls(&ca)))
        .await
        .unwrap();
    term.type_text("stty -echo; PS1='$ '\r").await;
    term.read_until(Duration::from_secs(10), |t| t.text().ends_with("$ "))
        .await;

    // Throughput: cat the file through the terminal.
    let before = term.output.len();
    let started = Instant::now();
    // The quotes keep the marker out of the command's own echo.
    term.type_text(&format!("cat {}; echo __DO''NE__\r", file.display()))
        .await;
    let done = term
        .read_until(Duration::from_secs(600), |t| {
            t.output.len() > before + 16
                && t.output[t.output.len().saturating_sub(16)..]
                    .windows(8)
                    .any(|w| w == b"__DONE__")
        })
        .await;
    assert!(done, "cat did not finish");
    let took = started.elapsed();
    let bytes = term.output.len() - before;
    println!(
        "gatehouse websh (wss both hops): cat {mib} MiB → {:.1} MiB received in {:.2?} = {:.1} MiB/s",
        bytes as f64 / 1048576.0,
        took,
        bytes as f64 / 1048576.0 / took.as_secs_f64()
    );
    let end = term.end();
    term.output.clear();
    term.start = end;

    // Keystroke echo: `cat` with terminal echo on; each key comes back through the PTY.
    term.type_text("stty echo -icanon; cat\r").await;
    term.read_until(Duration::from_secs(5), |t| t.text().contains("cat"))
        .await;
    let mut samples = Vec::with_capacity(keys);
    let hops = [server.pid(), agent.pid(), std::process::id()];
    let cpu_before = hops.map(cpu_time);
    for i in 0..keys {
        let key = (b'a' + (i % 26) as u8) as char;
        let mark = term.output.len();
        let sent = Instant::now();
        term.type_text(&key.to_string()).await;
        assert!(
            term.read_until(Duration::from_secs(5), |t| t.output[mark..]
                .contains(&(key as u8)))
                .await
        );
        samples.push(sent.elapsed());
    }
    let cpu = per_key(cpu_before, hops.map(cpu_time), keys);
    println!(
        "gatehouse websh keystroke echo over {keys} keys: p50 {:.3?} p99 {:.3?}",
        percentile(&mut samples, 0.5),
        percentile(&mut samples, 0.99)
    );
    println!(
        "gatehouse websh CPU per key: gateway {:.1} µs, agent {:.1} µs, client {:.1} µs",
        cpu[0], cpu[1], cpu[2]
    );

    if let Ok(spec) = std::env::var("BENCH_SSH") {
        let mut parts = spec.split_whitespace();
        let port = parts.next().unwrap().to_owned();
        let key = parts.next().unwrap().to_owned();
        ssh_bench(&port, &key, &file, mib, keys).await;
    }
    drop(agent);
}

fn ssh_args(port: &str, key: &str) -> Vec<String> {
    let mut args = gatehouse_e2e::bench::openssh_options(key);
    args.extend([
        "-p".to_owned(),
        port.to_owned(),
        "root@127.0.0.1".to_owned(),
    ]);
    args
}

/// Times `ssh [-tt] localhost cat file` and prints the rate.
fn ssh_cat(port: &str, key: &str, file: &std::path::Path, mib: usize, tty: bool) {
    let mut cmd = std::process::Command::new("ssh");
    if tty {
        cmd.arg("-tt");
    }
    let started = Instant::now();
    let out = cmd
        .args(ssh_args(port, key))
        .arg(format!("cat {}", file.display()))
        .stdout(std::process::Stdio::piped())
        .output()
        .unwrap();
    let took = started.elapsed();
    let received = out.stdout.len() as f64 / 1048576.0;
    let label = if tty {
        "ssh -tt localhost cat"
    } else {
        "ssh localhost cat"
    };
    println!(
        "openssh ({label}): {mib} MiB → {received:.1} MiB received in {took:.2?} = {:.1} MiB/s",
        received / took.as_secs_f64()
    );
}

async fn ssh_bench(port: &str, key: &str, file: &std::path::Path, mib: usize, keys: usize) {
    // Throughput as the issue states it: `ssh localhost cat file` (no PTY on the far side),
    // and with a PTY on the far side (-tt), as websh always has.
    ssh_cat(port, key, file, mib, false);
    ssh_cat(port, key, file, mib, true);

    // Keystroke echo through ssh: like the websh client, no local terminal in between (a local
    // PTY would echo keys itself); the far side has a PTY (-tt) that echoes, as websh's does.
    let mut child = tokio::process::Command::new("ssh")
        .arg("-tt")
        .args(ssh_args(port, key))
        .arg("stty echo -icanon; cat")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let mut output = child.stdout.take().unwrap();
    let mut buf = vec![0u8; 4096];
    let mut seen = Vec::new();
    // Wait for the remote side to be ready: a probe must come back.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        input.write_all(b"#").await.unwrap();
        input.flush().await.unwrap();
        if let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(500), output.read(&mut buf)).await
        {
            seen.extend_from_slice(&buf[..n]);
            if seen.contains(&b'#') {
                break;
            }
        }
        assert!(Instant::now() < deadline, "ssh never echoed");
    }
    // Drain what the probes left behind.
    while let Ok(Ok(_)) =
        tokio::time::timeout(Duration::from_millis(200), output.read(&mut buf)).await
    {}
    let mut samples = Vec::with_capacity(keys);
    // The throwaway sshd's listener and its session processes (`sshd`, or `sshd-session` on
    // newer OpenSSH), and the ssh client this bench talks to.
    let sshd = pids_named("sshd");
    let client = child.id().unwrap_or(0);
    let cpu_before = [cpu_time_of(&sshd), cpu_time(client)];
    for i in 0..keys {
        let key = b'a' + (i % 26) as u8;
        let sent = Instant::now();
        input.write_all(&[key]).await.unwrap();
        input.flush().await.unwrap();
        loop {
            let n = output.read(&mut buf).await.unwrap();
            if buf[..n].contains(&key) {
                break;
            }
        }
        samples.push(sent.elapsed());
    }
    let cpu = per_key(cpu_before, [cpu_time_of(&sshd), cpu_time(client)], keys);
    println!(
        "openssh keystroke echo over {keys} keys: p50 {:.3?} p99 {:.3?}",
        percentile(&mut samples, 0.5),
        percentile(&mut samples, 0.99)
    );
    println!(
        "openssh CPU per key: sshd {:.1} µs, ssh client {:.1} µs",
        cpu[0], cpu[1]
    );
    let _ = child.kill().await;
}
