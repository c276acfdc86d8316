//! TCP tunnels through `gate tunnel`, side by side with `ssh -L` on the throwaway sshd of
//! `scripts/bench-ssh.sh tunnel` when `BENCH_SSH` names it:
//! - single-connection throughput of a bulk download (BENCH_TUNNEL_MIB, default 1024 MiB),
//!   BENCH_ROUNDS (default 3) times each, alternating with ssh -L; the ratio of the medians;
//! - new-connection latency, connect until the first byte arrives, p50 over BENCH_CONNECTS (200);
//! - keystroke echo p99 in a websh on the same agent, idle and while a tunnel bulk download runs
//!   (BENCH_KEYS each, default 3,000: the p99 is then the 30th-slowest key, not the 3rd, so one
//!   stray wake-up does not decide it).
//!
//! Targets: throughput ≥ 1.0× ssh -L, latency ≤ ssh -L, echo p99 during bulk ≤ 2× idle.
//! Both hops are TLS (client → gateway HTTPS/WSS, agent → gateway WSS), as ssh encrypts;
//! BENCH_TLS=0 runs on plain HTTP instead.

use gatehouse_e2e::bench::{env_num, median, openssh_options, round_ratios, Bench};
use gatehouse_e2e::gate::Gate;
use gatehouse_e2e::terminal::{percentile, Term};
use gatehouse_e2e::tunnel::TunnelGate;
use gatehouse_e2e::{client_tls, free_port, Api, Server, PASSWORD};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MIB: f64 = 1024.0 * 1024.0;

/// A service that writes `size` bytes to each connection and closes it.
async fn bulk_service(size: u64) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let block: Arc<Vec<u8>> = Arc::new((0..1024 * 1024).map(|i| (i % 251) as u8).collect());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let block = block.clone();
            tokio::spawn(async move {
                let mut left = size;
                while left > 0 {
                    let n = left.min(block.len() as u64) as usize;
                    if s.write_all(&block[..n]).await.is_err() {
                        return;
                    }
                    left -= n as u64;
                }
                let _ = s.shutdown().await;
            });
        }
    });
    port
}

/// A service that writes one byte as soon as a connection arrives.
async fn first_byte_service() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = s.set_nodelay(true);
                let _ = s.write_all(b"!").await;
                let mut sink = [0u8; 16];
                let _ = s.read(&mut sink).await;
            });
        }
    });
    port
}

/// Reads a whole download from `port`, counting its bytes into `moved`: (bytes, time).
async fn download(port: u16, moved: &AtomicU64) -> (u64, Duration) {
    let started = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                total += n as u64;
                moved.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }
    (total, started.elapsed())
}

/// Connect-to-first-byte times of `count` fresh connections to `port`.
async fn first_bytes(port: u16, count: usize) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut one = [0u8; 1];
        s.read_exact(&mut one).await.unwrap();
        samples.push(started.elapsed());
    }
    samples
}

fn report(label: &str, size: u64, (bytes, took): (u64, Duration)) -> f64 {
    assert_eq!(bytes, size, "{label}: the download was cut short");
    let rate = bytes as f64 / MIB / took.as_secs_f64();
    println!(
        "{label}: {:.0} MiB in {took:.2?} = {rate:.1} MiB/s",
        bytes as f64 / MIB
    );
    rate
}

/// `ssh -N -L` forwards of `forwards` (local, remote) through the throwaway sshd, once they
/// listen.
async fn ssh_forward(port: &str, key: &str, forwards: &[(u16, u16)]) -> Child {
    let mut cmd = Command::new("ssh");
    cmd.args(openssh_options(key))
        .args(["-p", port, "-N", "-o", "ExitOnForwardFailure=yes"]);
    for (local, remote) in forwards {
        cmd.args(["-L", &format!("{local}:127.0.0.1:{remote}")]);
    }
    let child = cmd
        .arg("root@127.0.0.1")
        .stdin(Stdio::null())
        .spawn()
        .expect("ssh");
    for (local, _) in forwards {
        gatehouse_e2e::eventually("ssh -L to listen", Duration::from_secs(20), || async {
            TcpStream::connect(("127.0.0.1", *local))
                .await
                .ok()
                .map(drop)
        })
        .await;
    }
    child
}

#[tokio::main]
async fn main() {
    let size = env_num("BENCH_TUNNEL_MIB", 1024) * 1024 * 1024;
    let connects = env_num("BENCH_CONNECTS", 200) as usize;
    let keys = env_num("BENCH_KEYS", 3000) as usize;
    let bench = Bench::start_with("web-01", env_num("BENCH_TLS", 1) == 1).await;
    let (api, server) = (&bench.api, &bench.server);
    let gate = Gate::new();
    let mut login = vec!["login", &server.base, "--password", "--username", "ops"];
    let ca = bench.ca.as_ref().map(|p| p.display().to_string());
    if let Some(ca) = &ca {
        login.extend(["--ca", ca.as_str()]);
    }
    let signed_in = gate.run_stdin(&login, &format!("{PASSWORD}\n")).await;
    assert_eq!(signed_in.code, 0, "{signed_in:?}");
    gate.use_session(&["--scope", "tunnel"], "web-01").await;

    let bulk = bulk_service(size).await;
    let first = first_byte_service().await;
    let bulk_tunnel = TunnelGate::start(
        &gate,
        &["tunnel", "web-01", "-l", "0", "-r", &bulk.to_string()],
    )
    .await;
    let first_tunnel = TunnelGate::start(
        &gate,
        &["tunnel", "web-01", "-l", "0", "-r", &first.to_string()],
    )
    .await;

    // With ssh -L to compare, the 1 GiB downloads alternate between the two, round by round and
    // each round in the other order, so a slow minute of this shared machine falls on both.
    let ssh = match std::env::var("BENCH_SSH") {
        Ok(spec) => {
            let (port, key) = spec.split_once(' ').expect("BENCH_SSH=\"PORT KEYFILE\"");
            let (l_bulk, l_first) = (free_port(), free_port());
            let child = ssh_forward(port, key, &[(l_bulk, bulk), (l_first, first)]).await;
            Some((child, l_bulk, l_first))
        }
        Err(_) => None,
    };
    let rounds = if ssh.is_some() {
        env_num("BENCH_ROUNDS", 3).max(1)
    } else {
        1
    };
    let (mut gate_rates, mut ssh_rates) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let gate_first = round % 2 == 0;
        for turn in 0..2 {
            match (&ssh, (turn == 0) == gate_first) {
                (_, true) => gate_rates.push(report(
                    "gate tunnel, one connection",
                    size,
                    download(bulk_tunnel.port, &AtomicU64::new(0)).await,
                )),
                (Some((_, l_bulk, _)), false) => ssh_rates.push(report(
                    "ssh -L, one connection",
                    size,
                    download(*l_bulk, &AtomicU64::new(0)).await,
                )),
                (None, false) => {}
            }
        }
    }
    let mut gate_lat = first_bytes(first_tunnel.port, connects).await;
    let gate_p50 = percentile(&mut gate_lat, 0.5);
    println!("gate tunnel, connect to first byte: p50 {gate_p50:.2?} over {connects}");

    if let Some((mut child, _, l_first)) = ssh {
        let mut ssh_lat = first_bytes(l_first, connects).await;
        let ssh_p50 = percentile(&mut ssh_lat, 0.5);
        println!("ssh -L, connect to first byte: p50 {ssh_p50:.2?} over {connects}");
        println!(
            "ratio throughput gate / ssh -L (medians of {rounds} rounds): {:.2} (target ≥ 1.0; each round {}); latency gate / ssh -L (p50): {:.2} (target ≤ 1.0)",
            median(&mut gate_rates.clone()) / median(&mut ssh_rates.clone()),
            round_ratios(&gate_rates, &ssh_rates),
            gate_p50.as_secs_f64() / ssh_p50.as_secs_f64()
        );
        let _ = child.kill();
        let _ = child.wait();
    } else {
        println!("(set BENCH_SSH or run scripts/bench-ssh.sh tunnel to compare with ssh -L)");
    }

    let tls = bench
        .ca
        .as_ref()
        .map(|p| client_tls(&std::fs::read(p).expect("CA")));
    keystrokes_during_bulk(server, api, tls, bulk_tunnel.port, keys).await;
}

/// Keystroke echo in a websh on the same agent: idle, then while tunnel downloads run. The
/// typing side runs on a thread of its own, as a person's terminal is a program of its own: on
/// this process's runtime its reads would queue behind the bench's own bulk reader and service.
async fn keystrokes_during_bulk(
    server: &Server,
    api: &Api,
    tls: Option<Arc<rustls::ClientConfig>>,
    port: u16,
    keys: usize,
) {
    let ws = gatehouse_e2e::bench::open_terminal(api, server, "web-01", 120, 40).await;
    let (idle_done, idle_measured) = tokio::sync::oneshot::channel::<()>();
    let (bulk_flowing, flowing) = tokio::sync::oneshot::channel::<()>();
    let api = api.clone();
    let typist = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the typist's runtime");
        runtime.block_on(async move {
            let mut term = Term::connect_tls(&ws, &api, None, tls).await.unwrap();
            term.type_text("PS1='$ '; stty echo -icanon; cat\r").await;
            term.read_until(Duration::from_secs(10), |t| t.text().contains("cat"))
                .await;
            let idle = term.echo_latencies(keys).await;
            let _ = idle_done.send(());
            flowing.await.expect("the bulk transfer started");
            (idle, term.echo_latencies(keys).await)
        })
    });
    idle_measured.await.expect("idle keys typed");
    let running = Arc::new(AtomicBool::new(true));
    let moved = Arc::new(AtomicU64::new(0));
    let (flag, counter) = (running.clone(), moved.clone());
    let bulk = tokio::spawn(async move {
        while flag.load(Ordering::Relaxed) {
            download(port, &counter).await;
        }
    });
    // Keys are timed only once bytes flow (polled: the first MiB has arrived).
    gatehouse_e2e::eventually(
        "the bulk transfer to start",
        Duration::from_secs(60),
        || async { (moved.load(Ordering::Relaxed) >= 1024 * 1024).then_some(()) },
    )
    .await;
    let (from, started) = (moved.load(Ordering::Relaxed), Instant::now());
    bulk_flowing.send(()).expect("the typist waits");
    let (mut idle, mut busy) = tokio::task::spawn_blocking(move || typist.join())
        .await
        .expect("join")
        .expect("the typist");
    let (moved, took) = (moved.load(Ordering::Relaxed) - from, started.elapsed());
    running.store(false, Ordering::Relaxed);
    bulk.await.unwrap();
    let (idle_p99, busy_p99) = (percentile(&mut idle, 0.99), percentile(&mut busy, 0.99));
    println!(
        "websh keystroke echo over {keys} keys: idle p50 {:.3?} p99 {idle_p99:.3?}; during tunnel bulk ({:.1} MiB/s) p50 {:.3?} p99 {busy_p99:.3?}",
        percentile(&mut idle, 0.5),
        moved as f64 / MIB / took.as_secs_f64(),
        percentile(&mut busy, 0.5),
    );
    println!(
        "ratio echo p99 during bulk / idle: {:.2} (target ≤ 2.0)",
        busy_p99.as_secs_f64() / idle_p99.as_secs_f64()
    );
}
