//! Exec fan-out and server memory with many agents: `true` on 1,000 agents (p50 over several
//! runs), then the server's resident memory with 1,000 and with 10,000 connected agents.
//! The agents are real links from `gatehouse-agent load-test` processes.
//!
//! Run: `scripts/bench.sh` (or `cargo bench -p gatehouse-e2e --bench fanout` after a release
//! build). Environment: BENCH_FANOUT (default 1000), BENCH_AGENTS (default 10000), BENCH_RUNS (7).

use gatehouse_e2e::bench::load_agents;
use gatehouse_e2e::{create_user, eventually, Api, Server};
use serde_json::json;
use std::time::{Duration, Instant};

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_mib(pid: u32) -> f64 {
    gatehouse_e2e::rss_kib(pid) as f64 / 1024.0
}

async fn connected(api: &Api) -> usize {
    let list = api.get("/api/servers?connected=true").await;
    list["total"].as_u64().unwrap_or(0) as usize
}

#[tokio::main]
async fn main() {
    let fanout = env_num("BENCH_FANOUT", 1000);
    let total = env_num("BENCH_AGENTS", 10_000).max(fanout);
    let runs = env_num("BENCH_RUNS", 7);
    let dir = tempfile::tempdir().unwrap();
    create_user(dir.path(), "ops", "superuser");
    let server = Server::start(dir.path(), 0);
    let api = Api::login(&server.base, "ops").await;
    gatehouse_e2e::bench::no_mfa_for_root(&api).await;
    println!(
        "server resident memory, no agents: {:.1} MiB",
        rss_mib(server.pid())
    );

    let first = load_agents(&api, &server.base, fanout, "fan-").await;
    eventually(
        "fan-out agents connected",
        Duration::from_secs(600),
        || async { (connected(&api).await >= fanout).then_some(()) },
    )
    .await;
    println!(
        "server resident memory, {fanout} agents connected: {:.1} MiB",
        rss_mib(server.pid())
    );

    let names: Vec<String> = (0..fanout).map(|i| format!("fan-{i:05}")).collect();
    let s = api
        .post("/api/work-sessions", json!({"purpose": "fan-out bench", "scopes": ["command", "sudo"], "servers": names, "duration_secs": 3600}))
        .await;
    api.post(
        &format!("/api/work-sessions/{}/use", s["id"].as_str().unwrap()),
        json!({}),
    )
    .await;
    // The gateway's fan-out is what is measured: as root the commands run as the agents' own
    // user, as they did before people had accounts of their own. Running each as a person's
    // account makes every one of the 1,000 links, all in this one load-test process, fork that
    // large process to drop privileges (see BENCHMARKS.md).
    let user = gatehouse_e2e::is_root().then_some("root");
    let mut samples = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let job = api
            .post(
                "/api/exec?wait=true",
                json!({"servers": names, "command": "true", "timeout_secs": 60, "user": user}),
            )
            .await;
        samples.push(started.elapsed());
        let ok = job["runs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["exit_code"] == 0)
            .count();
        assert_eq!(ok, fanout, "every run must succeed");
    }
    samples.sort();
    println!(
        "exec `true` on {fanout} agents, {runs} runs: p50 {:.1?}, min {:.1?}, max {:.1?}",
        samples[samples.len() / 2],
        samples[0],
        samples[samples.len() - 1]
    );

    if total > fanout {
        let _rest = load_agents(&api, &server.base, total - fanout, "mem-").await;
        eventually(
            "all agents connected",
            Duration::from_secs(1800),
            || async { (connected(&api).await >= total).then_some(()) },
        )
        .await;
        println!(
            "server resident memory, {total} agents connected: {:.1} MiB",
            rss_mib(server.pid())
        );
        drop(_rest);
    }
    drop(first);
}
