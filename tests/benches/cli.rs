//! The `gate` command line, timed whole as a person or a script runs it, side by side with its
//! anchors in the same run:
//! - `gate exec web-01 -- true`, wall time p50 over 50 runs, against `ssh host true` (a key
//!   exchange per command) when `BENCH_SSH` names a throwaway sshd (`scripts/bench-ssh.sh cli`);
//! - `gate version` start-up (no server configured), against spawning `/bin/true`;
//! - the `gate` binary's size;
//! - `gate exec --all -- true` on 1,000 agents (real links from `gatehouse-agent load-test`).
//!
//! - `gate cp` of 1 GiB up and down against `scp`, and keystroke echo through `gate websh`
//!   against `ssh -tt`, both in a pseudo-terminal: in BENCH_ROUNDS (3) rounds, the two sides in
//!   turn and each round in the other order, so a slow minute of this shared machine falls on
//!   both; transfers compared by their medians, keys (BENCH_KEYS a round, 1000) pooled.
//!
//! Environment: BENCH_RUNS (50), BENCH_FANOUT (1000; 0 skips it), BENCH_FANOUT_RUNS (7),
//! BENCH_CP_MIB (1024; 0 skips it), BENCH_KEYS, BENCH_ROUNDS.

use gatehouse_e2e::bench::{median, round_ratios, settle_disk};
use gatehouse_e2e::gate::Gate;
use gatehouse_e2e::{binary, eventually, Api, Server, PASSWORD};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn env_num(name: &str, default: usize) -> usize {
    gatehouse_e2e::bench::env_num(name, default as u64) as usize
}

/// p50 and p99 of `samples` (sorted in place).
fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    (at(0.5), at(0.99))
}

/// Times `runs` runs of `cmd` (a fresh process each), asserting each succeeds.
fn time_runs(runs: usize, mut cmd: impl FnMut() -> Command) -> Vec<Duration> {
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            let run = cmd()
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .output()
                .expect("run");
            let took = started.elapsed();
            assert!(
                run.status.success(),
                "a timed run failed ({}): {}",
                run.status,
                String::from_utf8_lossy(&run.stderr)
            );
            took
        })
        .collect()
}

fn report(label: &str, samples: &mut [Duration]) -> Duration {
    let (p50, p99) = percentiles(samples);
    println!(
        "{label}: p50 {p50:.2?}, p99 {p99:.2?} over {} runs",
        samples.len()
    );
    p50
}

/// A `gate` command in `gate`'s own home (its profile), as a synchronous process.
fn gate_cmd(gate: &Gate, args: &[&str]) -> Command {
    let mut cmd = Command::new(binary("gate"));
    cmd.args(args)
        .env("HOME", gate.home.path())
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("GATE_URL")
        .env_remove("GATE_TOKEN");
    cmd
}

#[tokio::main]
async fn main() {
    let runs = env_num("BENCH_RUNS", 50);
    let bench = gatehouse_e2e::bench::Bench::start("web-01").await;
    let (api, server) = (&bench.api, &bench.server);

    gatehouse_e2e::bench::no_mfa_for_root(api).await;

    // A person at a terminal: signed in by password, in a work session.
    let gate = Gate::new();
    gate.login_password(&server.base, "ops", PASSWORD).await;
    let scopes = if gatehouse_e2e::is_root() {
        "--scope command --scope sudo --scope webftp --scope websh"
    } else {
        "--scope command --scope webftp --scope websh"
    };
    let create = format!(
        "work-session create --purpose bench {scopes} --server web-01 --expires-in 1h --use"
    );
    let made = gate
        .run(&create.split_whitespace().collect::<Vec<_>>())
        .await;
    assert_eq!(made.code, 0, "{made:?}");
    // As root the command runs as root (the sudo scope), as `ssh root@host true` does.
    let exec: Vec<&str> = if gatehouse_e2e::is_root() {
        vec!["exec", "-u", "root", "web-01", "--", "true"]
    } else {
        vec!["exec", "web-01", "--", "true"]
    };
    let mut gate_exec = time_runs(runs, || gate_cmd(&gate, &exec));
    let gate_p50 = report("gate exec web-01 -- true", &mut gate_exec);

    let ssh = std::env::var("BENCH_SSH").ok().map(|v| {
        let (port, key) = v.split_once(' ').expect("BENCH_SSH=\"PORT KEYFILE\"");
        (port.to_owned(), key.to_owned())
    });
    match &ssh {
        Some((port, key)) => {
            let mut ssh_true = time_runs(runs, || {
                let mut cmd = Command::new("ssh");
                cmd.args(ssh_options(port, key))
                    .args(["root@127.0.0.1", "true"]);
                cmd
            });
            let ssh_p50 = report("ssh host true", &mut ssh_true);
            println!(
                "ratio gate exec / ssh (p50): {:.2} (target ≤ 0.5)",
                gate_p50.as_secs_f64() / ssh_p50.as_secs_f64()
            );
        }
        None => println!("ssh: skipped (run through scripts/bench-ssh.sh cli for the anchor)"),
    }

    // Start-up: nothing configured, so `version` only prints the client's own.
    let empty = Gate::new();
    let mut version = time_runs(runs, || gate_cmd(&empty, &["version"]));
    let version_p50 = report("gate version (start-up)", &mut version);
    let mut bare = time_runs(runs, || Command::new("/bin/true"));
    let bare_p50 = report("/bin/true (process spawn)", &mut bare);
    println!(
        "gate version start-up beyond a bare spawn: {:.2?} (target: under 10 ms in all)",
        version_p50.saturating_sub(bare_p50)
    );
    let size = std::fs::metadata(binary("gate"))
        .expect("gate binary")
        .len();
    println!(
        "gate binary: {:.1} MB ({size} bytes; target under 15 MB)",
        size as f64 / 1e6
    );

    let rounds = env_num("BENCH_ROUNDS", 3).max(1);
    let mib = env_num("BENCH_CP_MIB", 1024);
    if mib > 0 {
        cp_bench(&gate, ssh.as_ref(), mib, rounds);
    }
    echo_bench(&gate, ssh.as_ref(), env_num("BENCH_KEYS", 1000), rounds).await;

    let fanout = env_num("BENCH_FANOUT", 1000);
    if fanout > 0 {
        fan_out(api, server, &gate, fanout).await;
    }
}

/// `gate exec --all -- true` over `count` agents of one work session.
async fn fan_out(api: &Api, server: &Server, gate: &Gate, count: usize) {
    let load = gatehouse_e2e::bench::load_agents(api, &server.base, count, "fan-").await;
    eventually(
        "the fan-out agents to connect",
        Duration::from_secs(600),
        || async {
            let list = api.get("/api/servers?connected=true").await;
            (list["total"].as_u64().unwrap_or(0) as usize > count).then_some(())
        },
    )
    .await;
    let names: Vec<String> = (0..count).map(|i| format!("fan-{i:05}")).collect();
    let servers = names.join(",");
    let scopes = if gatehouse_e2e::is_root() {
        "--scope command --scope sudo"
    } else {
        "--scope command"
    };
    let create = format!(
        "work-session create --purpose fan-out {scopes} --server {servers} --expires-in 1h --use"
    );
    let made = gate
        .run(&create.split_whitespace().collect::<Vec<_>>())
        .await;
    assert_eq!(made.code, 0, "{made:?}");
    // As in the fan-out bench: the load-test links share one process, so commands run as the
    // agents' own user (root) rather than forking that process per account.
    let exec: Vec<&str> = if gatehouse_e2e::is_root() {
        vec!["exec", "-u", "root", "--all", "--", "true"]
    } else {
        vec!["exec", "--all", "--", "true"]
    };
    let mut samples = time_runs(env_num("BENCH_FANOUT_RUNS", 7), || gate_cmd(gate, &exec));
    report(
        &format!("gate exec --all -- true on {count} agents"),
        &mut samples,
    );
    drop(load);
}

/// `ssh`'s options for the throwaway sshd.
fn ssh_options(port: &str, key: &str) -> Vec<String> {
    let mut args = gatehouse_e2e::bench::openssh_options(key);
    args.extend(["-p".to_owned(), port.to_owned()]);
    args
}

/// Runs `cmd` once; how long it took.
fn timed(mut cmd: Command) -> Duration {
    let started = Instant::now();
    let run = cmd.stdout(Stdio::null()).output().expect("run");
    assert!(
        run.status.success(),
        "{:?} failed: {}",
        cmd,
        String::from_utf8_lossy(&run.stderr)
    );
    started.elapsed()
}

/// `gate cp` of `mib` MiB up and down, against `scp` both ways: `rounds` rounds, each side in
/// turn and each round in the other order, every transfer after a `sync`.
fn cp_bench(gate: &Gate, ssh: Option<&(String, String)>, mib: usize, rounds: usize) {
    use std::io::Write;
    let local = tempfile::tempdir().unwrap();
    let file = local.path().join("big.bin");
    // Not compressible, not all zero: a xorshift stream.
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut chunk = vec![0u8; 1 << 20];
    for _ in 0..mib {
        for word in chunk.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            word.copy_from_slice(&x.to_le_bytes());
        }
        out.write_all(&chunk).unwrap();
    }
    out.flush().unwrap();
    drop(out);
    let remote = format!("/tmp/gate-bench-{}.bin", std::process::id());
    let back = local.path().join("back.bin");
    let target = if gatehouse_e2e::is_root() {
        format!("root@web-01:{remote}")
    } else {
        format!("web-01:{remote}")
    };
    let remote_scp = format!("root@127.0.0.1:{remote}.scp");
    let rate = |took: Duration| mib as f64 / took.as_secs_f64();
    // One transfer, from a clean page cache; the local copy removed afterwards.
    let transfer = |cmd: Command| {
        settle_disk();
        let took = timed(cmd);
        let _ = std::fs::remove_file(&back);
        rate(took)
    };
    let scp = |from: &str, to: &str| {
        let (port, key) = ssh.expect("an sshd");
        let mut cmd = Command::new("scp");
        // scp names the port -P.
        cmd.args(gatehouse_e2e::bench::openssh_options(key))
            .args(["-P", port, from, to]);
        cmd
    };
    let (file, back_path) = (file.display().to_string(), back.display().to_string());
    let rounds = if ssh.is_some() { rounds } else { 1 };
    let (mut gate_up, mut gate_down, mut scp_up, mut scp_down) = (vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        for turn in 0..2 {
            // Each upload makes a new file: replacing the 1 GiB one of the round before first
            // frees its blocks, a cost that fell on whichever side came second.
            let _ = std::fs::remove_file(&remote);
            let _ = std::fs::remove_file(format!("{remote}.scp"));
            if (turn == 0) == (round % 2 == 0) {
                gate_up.push(transfer(gate_cmd(gate, &["cp", &file, &target])));
                gate_down.push(transfer(gate_cmd(gate, &["cp", &target, &back_path])));
                println!(
                    "gate cp {mib} MiB: up {:.1} MiB/s, down {:.1} MiB/s",
                    gate_up[round], gate_down[round]
                );
            } else if ssh.is_some() {
                scp_up.push(transfer(scp(&file, &remote_scp)));
                scp_down.push(transfer(scp(&remote_scp, &back_path)));
                println!(
                    "scp {mib} MiB: up {:.1} MiB/s, down {:.1} MiB/s",
                    scp_up[round], scp_down[round]
                );
            }
        }
    }
    if ssh.is_some() {
        println!(
            "ratio gate cp / scp (medians of {rounds} rounds): up {:.2} (each round {}), down {:.2} (each round {}) (target ≥ 1.0)",
            median(&mut gate_up.clone()) / median(&mut scp_up.clone()),
            round_ratios(&gate_up, &scp_up),
            median(&mut gate_down.clone()) / median(&mut scp_down.clone()),
            round_ratios(&gate_down, &scp_down),
        );
        let _ = std::fs::remove_file(format!("{remote}.scp"));
    }
    let _ = std::fs::remove_file(&remote);
}

/// A program in a pseudo-terminal, as a person runs it: keys in, screen out.
struct Pty {
    reader: pty_process::OwnedReadPty,
    writer: pty_process::OwnedWritePty,
    _child: tokio::process::Child,
}

impl Pty {
    fn spawn(program: &std::path::Path, args: &[String], home: &std::path::Path) -> Self {
        let (pty, pts) = pty_process::open().expect("pty");
        pty.resize(pty_process::Size::new(24, 80)).expect("size");
        let child = pty_process::Command::new(program)
            .args(args)
            .env("HOME", home)
            .env_remove("GATE_URL")
            .env_remove("GATE_TOKEN")
            .kill_on_drop(true)
            .spawn(pts)
            .expect("spawn in a pty");
        let (reader, writer) = pty.into_split();
        Pty {
            reader,
            writer,
            _child: child,
        }
    }

    /// Types `keys` and reads until `want` has been drawn.
    async fn type_until(&mut self, keys: &[u8], want: &[u8]) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        self.writer.write_all(keys).await.unwrap();
        let mut seen = Vec::new();
        let mut buf = vec![0u8; 4096];
        while !seen.windows(want.len()).any(|w| w == want) {
            let n = tokio::time::timeout(Duration::from_secs(30), self.reader.read(&mut buf))
                .await
                .expect("drawn in time")
                .unwrap();
            seen.extend_from_slice(&buf[..n]);
        }
    }

    /// Starts `cat` with the far side's terminal echoing, key by key (no line editing).
    async fn start_cat(&mut self) {
        self.type_until(b"stty echo -icanon; echo READY-$((1+1)); cat\r", b"READY-2")
            .await;
    }

    /// Echo latency of `keys` keystrokes into `cat`, each typed once the previous one came back.
    async fn echo(&mut self, keys: usize) -> Vec<Duration> {
        let mut samples = Vec::with_capacity(keys);
        for i in 0..keys {
            let key = [b'a' + (i % 26) as u8];
            let sent = Instant::now();
            self.type_until(&key, &key).await;
            samples.push(sent.elapsed());
        }
        samples
    }
}

/// Keystroke echo through `gate websh` in a pseudo-terminal, against `ssh -tt` in one: `keys`
/// keys a round on each side, `rounds` rounds, each in the other order, pooled.
async fn echo_bench(gate: &Gate, ssh: Option<&(String, String)>, keys: usize, rounds: usize) {
    let target = if gatehouse_e2e::is_root() {
        "root@web-01"
    } else {
        "web-01"
    };
    let mut websh = Pty::spawn(
        &binary("gate"),
        &["websh".to_owned(), target.to_owned()],
        gate.home.path(),
    );
    websh.start_cat().await;
    let mut ssh_pty = match ssh {
        Some((port, key)) => {
            let mut args = vec!["-tt".to_owned()];
            args.extend(ssh_options(port, key));
            args.push("root@127.0.0.1".to_owned());
            let mut pty = Pty::spawn(
                std::path::Path::new("/usr/bin/ssh"),
                &args,
                gate.home.path(),
            );
            pty.start_cat().await;
            Some(pty)
        }
        None => None,
    };
    let rounds = if ssh_pty.is_some() { rounds } else { 1 };
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        for turn in 0..2 {
            if (turn == 0) == (round % 2 == 0) {
                ours.extend(websh.echo(keys).await);
            } else if let Some(pty) = ssh_pty.as_mut() {
                theirs.extend(pty.echo(keys).await);
            }
        }
    }
    let (p50, p99) = percentiles(&mut ours);
    println!(
        "gate websh keystroke echo over {} keys: p50 {p50:.3?}, p99 {p99:.3?}",
        ours.len()
    );
    if ssh_pty.is_some() {
        let (s50, s99) = percentiles(&mut theirs);
        println!(
            "ssh -tt keystroke echo over {} keys: p50 {s50:.3?}, p99 {s99:.3?}",
            theirs.len()
        );
        println!(
            "ratio gate websh / ssh -tt: p50 {:.2} (target ≤ 1.25), p99 {:.2} (target ≤ 1.5)",
            p50.as_secs_f64() / s50.as_secs_f64(),
            p99.as_secs_f64() / s99.as_secs_f64()
        );
    }
}
