//! Races the server must win: many deciders at once, a registration token's uses spent in
//! parallel, one TOTP code presented twice at the same moment. Each runs the requests truly in
//! parallel (a multi-threaded runtime, a pool of database connections) and counts the winners.

mod common;

use chrono::Utc;
use common::{Caller, TestApp, PASSWORD};
use futures_util::future::join_all;
use gatehouse::auth::totp;
use serde_json::json;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_decisions_have_exactly_one_winner() {
    let app = Arc::new(TestApp::new().await);
    let root = app.superuser().await;
    app.server(&root, "web-01").await;
    let mia = app.user(&root, "mia", "member").await;
    app.grant(&root, "web", "web-*", &["mia"]).await;
    let session = app.request_session(&mia, &["websh"], &["web-01"]).await;
    let id = common::id(&session);

    let calls = (0..20).map(|i| {
        let app = app.clone();
        let root = root.clone();
        let path = if i % 2 == 0 {
            format!("/api/work-sessions/{id}/approve")
        } else {
            format!("/api/work-sessions/{id}/reject")
        };
        tokio::spawn(async move { app.post(&path, json!({}), &root).await })
    });
    let answers: Vec<common::Response> = join_all(calls)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    let winners = answers.iter().filter(|r| r.status == 200).count();
    assert_eq!(winners, 1, "exactly one decision stands");
    for lost in answers.iter().filter(|r| r.status != 200) {
        assert_eq!(lost.status, 409, "{}", lost.text);
        let code = lost.body["error_code"].as_str().unwrap_or_default();
        assert!(
            code == "invalid_transition" || code == "conflict",
            "{}",
            lost.text
        );
    }
    let decisions = app
        .audit_actions(&root)
        .await
        .into_iter()
        .filter(|a| a == "work_session.approved" || a == "work_session.rejected")
        .count();
    assert_eq!(decisions, 1, "one decision in the audit log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_registration_tokens_uses_are_spent_exactly_under_concurrency() {
    let app = Arc::new(TestApp::new().await);
    let root = app.superuser().await;
    let reg = app.registration_token(&root, json!({"max_uses": 3})).await;
    let token = reg["token"].as_str().unwrap().to_owned();
    let calls = (0..12).map(|i| {
        let app = app.clone();
        let token = token.clone();
        tokio::spawn(async move {
            let body = json!({
                "registration_token": token, "name": format!("web-{i:02}"),
                "os": "linux", "platform": "test", "hostname": format!("web-{i:02}"),
            });
            // Each agent from an address of its own, so per-peer throttling stays out of it.
            let caller = Caller {
                peer: Some(format!("127.0.0.{}:40000", i + 1).parse().unwrap()),
                ..Caller::default()
            };
            app.post("/api/agents/register", body, &caller).await
        })
    });
    let answers: Vec<common::Response> = join_all(calls)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    let registered = answers.iter().filter(|r| r.status == 201).count();
    assert_eq!(registered, 3, "max_uses is 3");
    for refused in answers.iter().filter(|r| r.status != 201) {
        assert_eq!(refused.status, 401, "{}", refused.text);
    }
    let servers = app.get("/api/servers", &root).await.expect(200);
    assert_eq!(servers["total"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_totp_code_presented_twice_at_once_signs_in_once() {
    let app = Arc::new(TestApp::new().await);
    let root = app.superuser().await;
    let enrol = app
        .call("POST", "/api/auth/mfa/totp", None, &root)
        .await
        .expect(200);
    let secret = enrol["secret"].as_str().unwrap().to_owned();
    let step = totp::step_at(Utc::now());
    let confirm = totp::code_at_step(&secret, step).unwrap();
    app.post("/api/auth/mfa/totp/confirm", json!({"otp": confirm}), &root)
        .await
        .expect(204);
    // The next step's code: still inside the window whichever way the clock turns meanwhile.
    let code = totp::code_at_step(&secret, step + 1).unwrap();
    let calls = (0..8).map(|_| {
        let app = app.clone();
        let code = code.clone();
        tokio::spawn(async move {
            let body = json!({"username": "root", "password": PASSWORD, "otp": code});
            app.post("/api/auth/login", body, &Caller::default()).await
        })
    });
    let answers: Vec<common::Response> = join_all(calls)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    let signed_in = answers.iter().filter(|r| r.status == 200).count();
    assert_eq!(signed_in, 1, "a code works once");
    for refused in answers.iter().filter(|r| r.status != 200) {
        // Refused as a reused code, or by the sign-in throttle those failures feed.
        assert!(
            refused.status == 401 || refused.status == 429,
            "{}",
            refused.text
        );
    }
}
