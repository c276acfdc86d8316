//! File transfers through Gatehouse with TLS on both hops (client → server HTTPS, agent →
//! server WSS): upload and download throughput of a large file and the server's memory growth
//! during each, side by side with `scp` on loopback when an sshd is given
//! (`scripts/bench-files.sh` starts one); then keystroke echo in a websh on the same agent, idle
//! and while a download runs (a bulk transfer must not delay keystrokes).
//!
//! Run: `scripts/bench-files.sh` (or `cargo bench -p gatehouse-e2e --bench files`).
//! Environment: BENCH_FILE_MIB (default 1024), BENCH_KEYS (default 500 per round), BENCH_ROUNDS
//! (default 3), BENCH_NICE_CLIENT (see `spawn_download`), BENCH_SSH="port keyfile" to compare
//! with scp.

use gatehouse_e2e::files::{q, read_body, Pattern, RssSampler};
use gatehouse_e2e::terminal::{percentile, Term};
use gatehouse_e2e::{
    client_tls, create_user, rss_kib, shell_user, wait_connected, Agent, Api, Server,
};
use reqwest::Method;
use serde_json::json;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MIB: f64 = 1024.0 * 1024.0;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rate(bytes: u64, took: Duration) -> f64 {
    bytes as f64 / MIB / took.as_secs_f64()
}

fn user_query() -> String {
    shell_user()
        .map(|u| format!("&user={u}"))
        .unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let mib = env_num("BENCH_FILE_MIB", 1024);
    let keys = env_num("BENCH_KEYS", 500) as usize;
    let size = mib * 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let root = dir.path().join("files");
    std::fs::create_dir(&root).unwrap();
    if let Some(user) = shell_user() {
        let chown = std::process::Command::new("chown")
            .arg(user)
            .arg(&root)
            .status()
            .unwrap();
        assert!(chown.success());
    }

    create_user(dir.path(), "ops", "superuser");
    let server = Server::start_with(dir.path(), 0, &["--tls-self-signed"]);
    let ca_path = dir.path().join("tls/ca.pem");
    let ca = std::fs::read(&ca_path).unwrap();
    let api = Api::login_tls(&server.base, "ops", &ca).await;
    let token = api
        .post("/api/servers/registration-tokens", json!({}))
        .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let config = Agent::register(&server.base, &token, "bench", dir.path(), Some(&ca_path));
    let agent = Agent::run_with("bench", &config, &["--file-root", root.to_str().unwrap()]);
    wait_connected(&api, "bench", true).await;
    let s = api
        .post("/api/work-sessions", json!({"purpose": "bench", "scopes": ["webftp", "websh", "sudo"], "servers": ["bench"], "duration_secs": 3600}))
        .await;
    api.post(
        &format!("/api/work-sessions/{}/use", s["id"].as_str().unwrap()),
        json!({}),
    )
    .await;
    let remote = root.join("big.bin").display().to_string();
    let url = format!(
        "/api/files/bench/content?path={}&overwrite=true{}",
        q(&remote),
        user_query()
    );

    // Upload.
    let baseline = rss_kib(server.pid());
    let sampler = RssSampler::start(server.pid());
    let (body, sent) = Pattern::default().body(size);
    let started = Instant::now();
    let r = api
        .request(Method::PUT, &url)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let took = started.elapsed();
    let peak = sampler.stop();
    println!(
        "gatehouse upload (https + wss): {mib} MiB in {took:.2?} = {:.1} MiB/s; server RSS +{} MiB (peak {} MiB)",
        rate(size, took),
        peak.saturating_sub(baseline) / 1024,
        peak / 1024
    );

    // Download.
    let baseline = rss_kib(server.pid());
    let sampler = RssSampler::start(server.pid());
    let started = Instant::now();
    let r = api.request(Method::GET, &url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let got = read_body(r, |_| {}).await;
    let took = started.elapsed();
    let peak = sampler.stop();
    assert_eq!(
        (got.size, &got.sha256),
        (size, &sent.hex()),
        "{:?}",
        got.error
    );
    println!(
        "gatehouse download (https + wss): {mib} MiB in {took:.2?} = {:.1} MiB/s; server RSS +{} MiB (peak {} MiB)",
        rate(size, took),
        peak.saturating_sub(baseline) / 1024,
        peak / 1024
    );

    keystrokes_during_download(&server, &api, &ca, &url, keys).await;

    if let Ok(spec) = std::env::var("BENCH_SSH") {
        let mut parts = spec.split_whitespace();
        let port = parts.next().unwrap().to_owned();
        let key = parts.next().unwrap().to_owned();
        scp_bench(&port, &key, dir.path(), size);
    }
    drop(agent);
}

/// Keystroke echo in a websh on the same agent, idle and while a download streams, over
/// `BENCH_ROUNDS` rounds of an idle window followed by a download. Pooling the rounds, with the
/// idle windows interleaved, keeps the machine's own noise (other tenants) out of the ratio as far
/// as it can be: both sides are sampled across the same minutes.
async fn keystrokes_during_download(server: &Server, api: &Api, ca: &[u8], url: &str, keys: usize) {
    let rounds = env_num("BENCH_ROUNDS", 3) as usize;
    let opened = api
        .post(
            "/api/websh",
            json!({"server": "bench", "cols": 120, "rows": 40, "user": shell_user()}),
        )
        .await;
    let ws = server.ws_url(opened["ws_path"].as_str().unwrap());
    let mut term = Term::connect_tls(&ws, api, None, Some(client_tls(ca)))
        .await
        .unwrap();
    term.type_text("PS1='$ '; stty echo -icanon; cat\r").await;
    term.read_until(Duration::from_secs(10), |t| t.text().contains("cat"))
        .await;
    let mut idle = Vec::new();
    let mut busy = Vec::new();
    let mut ended_first = 0;
    for _ in 0..rounds {
        idle.extend(term.echo_latencies(keys).await);
        let progress = Arc::new(AtomicU64::new(0));
        let (first_bytes, streaming) = tokio::sync::oneshot::channel();
        let download = spawn_download(api, url, progress.clone(), first_bytes);
        // Keys only count while the download is actually streaming (an error means the
        // download ended without a byte, and the loop below then counts none).
        let _ = streaming.await;
        let (from, started) = (progress.load(Ordering::Relaxed), Instant::now());
        let mut these = Vec::new();
        while !download.is_finished() && these.len() < keys {
            these.extend(term.echo_latencies(10).await);
        }
        let typed = (progress.load(Ordering::Relaxed) - from, started.elapsed());
        if download.is_finished() {
            ended_first += 1;
        }
        busy.extend(these);
        // Finished (or about to): joining blocks this thread only briefly.
        let (bytes, took) = download.join().unwrap();
        println!(
            "  a {:.0} MiB download at {:.1} MiB/s; {:.1} MiB/s while the keys were typed",
            bytes as f64 / MIB,
            rate(bytes, took),
            rate(typed.0, typed.1)
        );
    }
    println!(
        "websh keystroke echo, idle, over {} keys in {rounds} rounds: p50 {:.3?} p99 {:.3?}",
        idle.len(),
        percentile(&mut idle, 0.5),
        percentile(&mut idle, 0.99)
    );
    println!(
        "websh keystroke echo during a download, over {} keys in {rounds} rounds{}: p50 {:.3?} p99 {:.3?}",
        busy.len(),
        if ended_first > 0 {
            format!(" ({ended_first} downloads ended before their keys)")
        } else {
            String::new()
        },
        percentile(&mut busy, 0.5),
        percentile(&mut busy, 0.99)
    );
}

/// A download of `url` on a thread and runtime of its own, as a browser tab's download is:
/// sharing the measuring client's runtime would time the bench's own task queue. With
/// BENCH_NICE_CLIENT=N the thread runs at that nice level, standing in for a client on another
/// machine (its TLS and hashing then compete less with the server for these two cores).
fn spawn_download(
    api: &Api,
    url: &str,
    progress: Arc<AtomicU64>,
    first_bytes: tokio::sync::oneshot::Sender<()>,
) -> std::thread::JoinHandle<(u64, Duration)> {
    let api = api.clone();
    let url = url.to_owned();
    std::thread::spawn(move || {
        if let Ok(nice) = std::env::var("BENCH_NICE_CLIENT") {
            let me = std::fs::read_link("/proc/thread-self").unwrap();
            let tid = me.file_name().unwrap().to_str().unwrap().to_owned();
            let status = std::process::Command::new("renice")
                .args(["-n", &nice, "-p", &tid])
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "renice the downloading thread");
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let r = api.request(Method::GET, &url).send().await.unwrap();
            let started = Instant::now();
            let mut first_bytes = Some(first_bytes);
            let got = read_body(r, |n| {
                progress.store(n, Ordering::Relaxed);
                if let Some(signal) = first_bytes.take() {
                    let _ = signal.send(());
                }
            })
            .await;
            (got.size, started.elapsed())
        })
    })
}

fn scp_args(port: &str, key: &str) -> Vec<String> {
    let mut args = vec!["-q".to_owned(), "-P".to_owned(), port.to_owned()];
    args.extend(gatehouse_e2e::bench::openssh_options(key));
    args
}

/// scp of the same size each way through the throwaway sshd.
fn scp_bench(port: &str, key: &str, dir: &Path, size: u64) {
    let local = dir.join("local.bin");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&local).unwrap());
    for chunk in Pattern::default().chunks(size) {
        file.write_all(&chunk).unwrap();
    }
    file.flush().unwrap();
    drop(file);
    let remote = |name: &str| format!("root@127.0.0.1:{}", dir.join(name).display());
    for (label, from, to) in [
        ("upload", local.display().to_string(), remote("scp-up.bin")),
        (
            "download",
            remote("local.bin"),
            dir.join("scp-down.bin").display().to_string(),
        ),
    ] {
        let started = Instant::now();
        let status = std::process::Command::new("scp")
            .args(scp_args(port, key))
            .arg(&from)
            .arg(&to)
            .status()
            .unwrap();
        let took = started.elapsed();
        assert!(status.success(), "scp {label} failed");
        println!(
            "openssh scp {label} (loopback): {:.0} MiB in {took:.2?} = {:.1} MiB/s",
            size as f64 / MIB,
            rate(size, took)
        );
    }
}
