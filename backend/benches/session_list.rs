//! Session list latency: 100,000 work sessions in SQLite, filtered by status + server + purpose
//! text, first page, through the real HTTP stack on loopback. Prints p50/p95/p99.
//!
//! Run with `cargo bench -p gatehouse --bench session_list` (see BENCHMARKS.md).

use chrono::{Duration, Utc};
use gatehouse::config::Config;
use gatehouse::core::audit;
use gatehouse::store::{work_sessions, WriteTx};
use gatehouse::{app, AppState};
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::work_session::ServerRef;
use gatehouse_shared::{Scope, ServerId, Status, UserRef, WorkSession, WorkSessionId};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Instant;

const SESSIONS: usize = 100_000;
const SERVERS: usize = 200;
const SAMPLES: usize = 300;
const PASSWORD: &str = "correct horse battery staple";
const PURPOSES: [&str; 6] = [
    "deploy release",
    "rotate logs",
    "investigate incident",
    "patch openssl",
    "database vacuum",
    "certificate renewal",
];

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let config = Config {
        data_dir: dir.path().to_owned(),
        ..Config::default()
    };
    let state = AppState::open(&url, config).await.unwrap();
    let router = app(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    let base = format!("http://{addr}");
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    http.post(format!("{base}/api/setup"))
        .json(&json!({"username": "root", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let login: Value = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": "root", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = login["csrf_token"].as_str().unwrap().to_owned();
    let root = UserRef {
        id: login["user"]["id"].as_str().unwrap().parse().unwrap(),
        username: "root".into(),
    };

    let mut servers = Vec::new();
    for i in 0..SERVERS {
        let s: Value = http
            .post(format!("{base}/api/servers"))
            .header("x-csrf-token", &csrf)
            .json(&json!({"name": format!("web-{i:03}")}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        servers.push(ServerRef {
            id: s["id"].as_str().unwrap().parse::<ServerId>().unwrap(),
            name: s["name"].as_str().unwrap().to_owned(),
        });
    }

    let started = Instant::now();
    let statuses = Status::ALL;
    let now = Utc::now();
    let mut tx = WriteTx::begin(&state.db, state.workspace, now)
        .await
        .unwrap();
    for i in 0..SESSIONS {
        let status = statuses[i % statuses.len()];
        let session = WorkSession {
            id: WorkSessionId::new(),
            purpose: format!("{} #{i}", PURPOSES[i % PURPOSES.len()]),
            status,
            scopes: vec![Scope::ALL[i % 6], Scope::ALL[(i + 1) % 6]],
            servers: vec![
                servers[i % SERVERS].clone(),
                servers[(i * 7 + 3) % SERVERS].clone(),
            ],
            sudo_commands: Vec::new(),
            tunnel_ports: Vec::new(),
            requested_by: root.clone(),
            assignee: root.clone(),
            approved_by: None,
            decision_reason: None,
            adjustments: None,
            starts_at: None,
            duration_secs: Some(3600),
            expires_at: (status == Status::Active).then(|| now + Duration::days(3650)),
            created_at: now - Duration::seconds((SESSIONS - i) as i64),
            decided_at: None,
            activated_at: None,
            ended_at: None,
        };
        work_sessions::insert(&mut tx, state.workspace, &session)
            .await
            .unwrap();
    }
    // One event for the whole seed: the bench measures the list, not the chain.
    tx.commit(
        audit::event(AuditAction::WorkSessionRequested, audit::SUCCESS)
            .actor("root")
            .details(json!({ "seeded": SESSIONS })),
    )
    .await
    .unwrap();
    let raw = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("ANALYZE").execute(&raw).await.unwrap();
    eprintln!("seeded {SESSIONS} sessions in {:.1?}", started.elapsed());

    let query = format!("{base}/api/work-sessions?status=active&server=web-042&q=deploy&limit=50");
    let first: Value = http.get(&query).send().await.unwrap().json().await.unwrap();
    let total = first["total"].as_i64().unwrap();
    assert!(total > 0, "the filter must match something: {first}");
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let t = Instant::now();
        let r = http.get(&query).send().await.unwrap();
        assert!(r.status().is_success());
        let _ = r.bytes().await.unwrap();
        samples.push(t.elapsed());
    }
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    println!(
        "session_list status+server+q first page ({total} matches of {SESSIONS}): p50 {:.2?}  p95 {:.2?}  p99 {:.2?}  ({SAMPLES} requests)",
        pct(0.50),
        pct(0.95),
        pct(0.99)
    );
}
