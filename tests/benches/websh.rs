//! Terminal throughput and keystroke echo through Gatehouse, with TLS on both hops (client →
//! server WSS, agent → server WSS), and the same through OpenSSH on loopback when an sshd is
//! given (`scripts/bench-ssh.sh` starts one). Also the idle agent's resident memory.
//!
//! Both sides are measured the same way: a terminal session that is already open (a websh tab;
//! an `ssh -tt` session driven through pipes, no local terminal in between), a command typed
//! into it, and its output read to an end marker; keystrokes into `cat` with the far side's PTY
//! echoing. With ssh to compare, the measures alternate in rounds, each round in the other
//! order, so a slow minute of this shared machine falls on both sides.
//!
//! Run: `scripts/bench.sh` (or `cargo bench -p gatehouse-e2e --bench websh`).
//! Environment: BENCH_MIB (default 512, `cat` per round), BENCH_KEYS (default 1000 per round),
//! BENCH_ROUNDS (default 3), BENCH_SSH="port keyfile" to compare with ssh.

use gatehouse_e2e::bench::{
    cpu_time, cpu_time_of, env_num, median, pids_named, round_ratios, settle_disk,
};
use gatehouse_e2e::terminal::{percentile, Term};
use gatehouse_e2e::{client_tls, create_user, rss_kib, wait_connected, Agent, Api, Server};
use serde_json::json;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

const MIB: f64 = 1024.0 * 1024.0;
/// The end marker; typed as `__DO''NE__` so the command line's own echo never matches it.
const DONE: &[u8] = b"__DONE__";

/// A file of printable lines, so a terminal renders it without interpreting anything.
fn make_file(path: &Path, mib: u64) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let line: Vec<u8> = (0..127)
        .map(|i| b'a' + (i % 26) as u8)
        .chain([b'\n'])
        .collect();
    for _ in 0..mib * 1024 * 1024 / line.len() as u64 {
        file.write_all(&line).unwrap();
    }
    file.flush().unwrap();
}

/// CPU microseconds per key of each process over `keys` keys.
fn per_key<const N: usize>(spent: [Duration; N], keys: usize) -> [f64; N] {
    spent.map(|d| d.as_secs_f64() * 1e6 / keys as f64)
}

fn ends_with_marker(tail: &[u8]) -> bool {
    tail.windows(DONE.len()).any(|w| w == DONE)
}

/// One side's results, pooled over the rounds.
#[derive(Default)]
struct Side {
    rates: Vec<f64>,
    echoes: Vec<Duration>,
    /// CPU time per process over all the echo keys.
    cpu: Vec<Duration>,
}

impl Side {
    fn add_cpu(&mut self, spent: &[Duration]) {
        self.cpu.resize(spent.len(), Duration::ZERO);
        for (total, d) in self.cpu.iter_mut().zip(spent) {
            *total += *d;
        }
    }
}

/// The websh side: a tab at a shell prompt for `cat`, a tab in `cat` for the keys.
struct Websh {
    shell: Term,
    typist: Term,
    /// The server, the agent and this process (the client), for CPU per key.
    hops: [u32; 3],
}

impl Websh {
    async fn cat(&mut self, file: &Path) -> f64 {
        let term = &mut self.shell;
        forget_output(term);
        let started = Instant::now();
        term.type_text(&format!("cat {}; echo __DO''NE__\r", file.display()))
            .await;
        let done = term
            .read_until(Duration::from_secs(600), |t| {
                ends_with_marker(&t.output[t.output.len().saturating_sub(16)..])
            })
            .await;
        assert!(done, "cat did not finish");
        let (took, bytes) = (started.elapsed(), term.output.len());
        forget_output(term);
        report_cat("gatehouse websh (wss both hops)", bytes, took)
    }

    async fn echo(&mut self, keys: usize, side: &mut Side) {
        let before = self.hops.map(cpu_time);
        let term = &mut self.typist;
        let mut samples = Vec::with_capacity(keys);
        for i in 0..keys {
            let key = b'a' + (i % 26) as u8;
            let mark = term.output.len();
            let sent = Instant::now();
            term.type_text(&char::from(key).to_string()).await;
            assert!(
                term.read_until(Duration::from_secs(5), |t| t.output[mark..].contains(&key))
                    .await,
                "key {i} was not echoed"
            );
            samples.push(sent.elapsed());
        }
        let spent: Vec<Duration> = self
            .hops
            .iter()
            .zip(before)
            .map(|(&pid, b)| cpu_time(pid).saturating_sub(b))
            .collect();
        side.add_cpu(&spent);
        report_echo("gatehouse websh", &mut samples);
        side.echoes.extend(samples);
        forget_output(term);
    }
}

/// An `ssh -tt` session to the throwaway sshd, driven through pipes like the websh client: no
/// local terminal in between, a PTY on the far side.
struct SshTerm {
    child: Child,
    input: ChildStdin,
    output: ChildStdout,
}

impl SshTerm {
    async fn start(port: &str, key: &str, command: &str) -> Self {
        let mut args = gatehouse_e2e::bench::openssh_options(key);
        args.extend(["-tt", "-p", port, "root@127.0.0.1", command].map(str::to_owned));
        let mut child = Command::new("ssh")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("ssh");
        let input = child.stdin.take().unwrap();
        let output = child.stdout.take().unwrap();
        SshTerm {
            child,
            input,
            output,
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.input.write_all(bytes).await.unwrap();
        self.input.flush().await.unwrap();
    }

    /// Reads until the last bytes satisfy `done`; the number of bytes read.
    async fn read_until(&mut self, limit: Duration, done: impl Fn(&[u8]) -> bool) -> usize {
        let deadline = Instant::now() + limit;
        let mut buf = vec![0u8; 64 * 1024];
        let mut tail: Vec<u8> = Vec::new();
        let mut total = 0;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let n = match tokio::time::timeout(left, self.output.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => n,
                _ => panic!("ssh stopped before its output ended"),
            };
            total += n;
            tail.extend_from_slice(&buf[..n]);
            if done(&tail) {
                return total;
            }
            let keep = tail.len().saturating_sub(64);
            tail.drain(..keep);
        }
    }

    /// Types `#` until it comes back: the far side's `cat` is up.
    async fn wait_echo(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut buf = [0u8; 4096];
        loop {
            self.send(b"#").await;
            let read = tokio::time::timeout(Duration::from_millis(200), self.output.read(&mut buf));
            if let Ok(Ok(n)) = read.await {
                if buf[..n].contains(&b'#') {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "ssh never echoed");
        }
    }
}

/// The OpenSSH side: a shell session for `cat`, a session in `cat` for the keys.
struct Ssh {
    shell: SshTerm,
    typist: SshTerm,
}

impl Ssh {
    async fn start(port: &str, key: &str) -> Self {
        let mut shell = SshTerm::start(port, key, "stty -echo; PS1='$ ' exec sh").await;
        shell.send(b"echo __DO''NE__\n").await;
        shell
            .read_until(Duration::from_secs(20), ends_with_marker)
            .await;
        let mut typist = SshTerm::start(port, key, "stty echo -icanon; cat").await;
        typist.wait_echo().await;
        // What the probes left behind: read until a fresh key is the last thing seen.
        typist.send(b"!").await;
        typist
            .read_until(Duration::from_secs(5), |t| t.ends_with(b"!"))
            .await;
        Ssh { shell, typist }
    }

    async fn cat(&mut self, file: &Path) -> f64 {
        let started = Instant::now();
        self.shell
            .send(format!("cat {}; echo __DO''NE__\n", file.display()).as_bytes())
            .await;
        let bytes = self
            .shell
            .read_until(Duration::from_secs(600), ends_with_marker)
            .await;
        report_cat(
            "openssh (ssh -tt, a shell session)",
            bytes,
            started.elapsed(),
        )
    }

    async fn echo(&mut self, keys: usize, side: &mut Side) {
        // The throwaway sshd's listener and its session processes (`sshd`, or `sshd-session`
        // on newer OpenSSH), and the ssh client this bench talks to.
        let sshd = pids_named("sshd");
        let client = self.typist.child.id().unwrap_or(0);
        let before = [cpu_time_of(&sshd), cpu_time(client)];
        let mut samples = Vec::with_capacity(keys);
        let mut buf = vec![0u8; 4096];
        for i in 0..keys {
            let key = b'a' + (i % 26) as u8;
            let sent = Instant::now();
            self.typist.send(&[key]).await;
            loop {
                let n = self.typist.output.read(&mut buf).await.unwrap();
                assert!(n > 0, "ssh ended");
                if buf[..n].contains(&key) {
                    break;
                }
            }
            samples.push(sent.elapsed());
        }
        side.add_cpu(&[
            cpu_time_of(&sshd).saturating_sub(before[0]),
            cpu_time(client).saturating_sub(before[1]),
        ]);
        report_echo("openssh (ssh -tt)", &mut samples);
        side.echoes.extend(samples);
    }
}

/// Prints a `cat`'s rate and returns it, in MiB/s.
fn report_cat(label: &str, bytes: usize, took: Duration) -> f64 {
    let rate = bytes as f64 / MIB / took.as_secs_f64();
    println!(
        "{label}: cat → {:.1} MiB in {took:.2?} = {rate:.1} MiB/s",
        bytes as f64 / MIB
    );
    rate
}

/// Drops what a terminal received so far, keeping its offsets.
fn forget_output(term: &mut Term) {
    let end = term.end();
    term.output.clear();
    term.start = end;
}

fn report_echo(label: &str, samples: &mut [Duration]) {
    println!(
        "{label} keystroke echo over {} keys: p50 {:.3?} p99 {:.3?}",
        samples.len(),
        percentile(samples, 0.5),
        percentile(samples, 0.99)
    );
}

/// `ssh localhost cat file` without a PTY on the far side, for reference: a raw stream.
async fn ssh_raw_cat(port: &str, key: &str, file: &Path) {
    let mut args = gatehouse_e2e::bench::openssh_options(key);
    args.extend(["-p", port, "root@127.0.0.1"].map(str::to_owned));
    let started = Instant::now();
    let out = Command::new("ssh")
        .args(args)
        .arg(format!("cat {}", file.display()))
        .stdout(Stdio::piped())
        .output()
        .await
        .unwrap();
    let took = started.elapsed();
    let mib = out.stdout.len() as f64 / MIB;
    println!(
        "openssh (ssh localhost cat, no PTY, connection set-up included): {mib:.1} MiB in {took:.2?} = {:.1} MiB/s",
        mib / took.as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let mib = env_num("BENCH_MIB", 512);
    let keys = env_num("BENCH_KEYS", 1000) as usize;
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
    let api = Api::login_tls(&server.base, "ops", &ca).await;
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

    let mut terms = Vec::new();
    for setup in ["stty -echo; PS1='$ '\r", "stty echo -icanon; cat\r"] {
        let url = gatehouse_e2e::bench::open_terminal(&api, &server, "bench", 200, 50).await;
        let mut term = Term::connect_tls(&url, &api, None, Some(client_tls(&ca)))
            .await
            .unwrap();
        term.type_text(setup).await;
        term.read_until(Duration::from_secs(10), |t| {
            t.text().ends_with("$ ") || t.text().contains("cat")
        })
        .await;
        terms.push(term);
    }
    let (typist, shell) = (terms.pop().unwrap(), terms.pop().unwrap());
    let mut websh = Websh {
        shell,
        typist,
        hops: [server.pid(), agent.pid(), std::process::id()],
    };
    // The typist's `cat` is up once a key comes back.
    websh.typist.type_text("!").await;
    assert!(
        websh
            .typist
            .read_until(Duration::from_secs(10), |t| t.text().ends_with('!'))
            .await
    );

    let mut ssh = match std::env::var("BENCH_SSH") {
        Ok(spec) => {
            let (port, key) = spec.split_once(' ').expect("BENCH_SSH=\"PORT KEYFILE\"");
            ssh_raw_cat(port, key, &file).await;
            Some(Ssh::start(port, key).await)
        }
        Err(_) => None,
    };
    let rounds = if ssh.is_some() {
        env_num("BENCH_ROUNDS", 3).max(1)
    } else {
        1
    };
    let (mut ours, mut theirs) = (Side::default(), Side::default());
    for round in 0..rounds {
        println!("round {}", round + 1);
        let websh_first = round % 2 == 0;
        for turn in 0..2 {
            // Each side starts from a clean page cache: the gateway's recording of a 512 MiB
            // `cat` is still being written back when it ends, and that would land on whatever
            // ran next.
            settle_disk();
            if (turn == 0) == websh_first {
                ours.rates.push(websh.cat(&file).await);
                websh.echo(keys, &mut ours).await;
            } else if let Some(ssh) = ssh.as_mut() {
                theirs.rates.push(ssh.cat(&file).await);
                ssh.echo(keys, &mut theirs).await;
            }
        }
    }

    let pooled = ours.echoes.len();
    let [gateway, agent_cpu, client] = [0, 1, 2].map(|i| ours.cpu[i]);
    let cpu = per_key([gateway, agent_cpu, client], pooled);
    println!(
        "gatehouse websh over {rounds} rounds: cat median {:.1} MiB/s; echo p50 {:.3?} p99 {:.3?} over {pooled} keys; CPU per key: gateway {:.1} µs, agent {:.1} µs, client {:.1} µs",
        median(&mut ours.rates.clone()),
        percentile(&mut ours.echoes, 0.5),
        percentile(&mut ours.echoes, 0.99),
        cpu[0],
        cpu[1],
        cpu[2]
    );
    if ssh.is_some() {
        let cpu = per_key([theirs.cpu[0], theirs.cpu[1]], theirs.echoes.len());
        println!(
            "openssh (ssh -tt) over {rounds} rounds: cat median {:.1} MiB/s; echo p50 {:.3?} p99 {:.3?} over {} keys; CPU per key: sshd {:.1} µs, ssh client {:.1} µs",
            median(&mut theirs.rates.clone()),
            percentile(&mut theirs.echoes, 0.5),
            percentile(&mut theirs.echoes, 0.99),
            theirs.echoes.len(),
            cpu[0],
            cpu[1]
        );
        println!(
            "ratio cat websh / ssh -tt (medians): {:.2} (target ≥ 1.0; each round {})",
            median(&mut ours.rates.clone()) / median(&mut theirs.rates.clone()),
            round_ratios(&ours.rates, &theirs.rates)
        );
        let ratio = |p: f64, a: &mut [Duration], b: &mut [Duration]| {
            percentile(a, p).as_secs_f64() / percentile(b, p).as_secs_f64()
        };
        println!(
            "ratio echo websh / ssh -tt: p50 {:.2} (target ≤ 1.25), p99 {:.2} (target ≤ 1.5)",
            ratio(0.5, &mut ours.echoes, &mut theirs.echoes),
            ratio(0.99, &mut ours.echoes, &mut theirs.echoes)
        );
    }
    drop(ssh);
    drop(agent);
}
