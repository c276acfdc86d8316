//! Criterion benchmark of the gate decision (target: under 2 µs per call).

use chrono::{DateTime, Duration, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use gatehouse_shared::gate::{check, AuthMethod, Operation, Principal};
use gatehouse_shared::work_session::ServerRef;
use gatehouse_shared::{Scope, ServerId, Status, UserId, UserRef, WorkSession, WorkSessionId};

fn session(now: DateTime<Utc>) -> WorkSession {
    let owner = UserRef {
        id: UserId::new(),
        username: "oncall".into(),
    };
    WorkSession {
        id: WorkSessionId::new(),
        purpose: "incident 4711".into(),
        status: Status::Active,
        scopes: vec![Scope::Websh, Scope::Command, Scope::Webftp],
        servers: (0..20)
            .map(|i| ServerRef {
                id: ServerId::new(),
                name: format!("web-{i:02}"),
            })
            .collect(),
        sudo_commands: Vec::new(),
        tunnel_ports: Vec::new(),
        requested_by: owner.clone(),
        assignee: owner,
        approved_by: None,
        decision_reason: None,
        adjustments: None,
        starts_at: None,
        duration_secs: Some(3600),
        expires_at: Some(now + Duration::hours(1)),
        created_at: now,
        decided_at: None,
        activated_at: Some(now),
        ended_at: None,
    }
}

fn gate(c: &mut Criterion) {
    let now = Utc::now();
    let s = session(now);
    let principal = Principal {
        user_id: s.assignee.id,
        auth_method: AuthMethod::Password,
    };
    let allowed = Operation {
        scope: Scope::Command,
        server: "web-19",
        as_root: false,
        as_other: false,
        detail: Default::default(),
    };
    let denied = Operation {
        scope: Scope::Tunnel,
        server: "web-19",
        as_root: false,
        as_other: false,
        detail: Default::default(),
    };
    c.bench_function("gate_check_allowed", |b| {
        b.iter(|| {
            check(
                black_box(&allowed),
                &principal,
                Some(black_box(&s)),
                false,
                now,
            )
        })
    });
    c.bench_function("gate_check_denied_scope", |b| {
        b.iter(|| {
            check(
                black_box(&denied),
                &principal,
                Some(black_box(&s)),
                false,
                now,
            )
        })
    });
    c.bench_function("gate_check_no_session", |b| {
        b.iter(|| check(black_box(&allowed), &principal, None, false, now))
    });
}

criterion_group!(benches, gate);
criterion_main!(benches);
