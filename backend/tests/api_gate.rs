//! `POST /api/gate/check` through the whole stack: every gate code, tokens, session selection.

mod common;

use chrono::{Duration, Utc};
use common::{id, Caller, TestApp};
use serde_json::{json, Value};
use std::time::Instant;

async fn check(
    app: &TestApp,
    caller: &Caller,
    scope: &str,
    server: &str,
    header: Option<&str>,
) -> common::Response {
    let body = Some(json!({"scope": scope, "server": server}).to_string());
    let extra: Vec<(&str, &str)> = header.map(|h| ("x-work-session", h)).into_iter().collect();
    app.call_raw("POST", "/api/gate/check", body, caller, &extra)
        .await
}

async fn setup() -> (TestApp, Caller, Caller, Caller) {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let mia = app.user(&root, "mia", "member").await;
    let max = app.user(&root, "max", "member").await;
    for name in ["web-01", "web-02"] {
        app.server(&root, name).await;
    }
    app.grant(&root, "web", "web-*", &["mia", "max"]).await;
    (app, root, mia, max)
}

fn assert_context(body: &Value, scope: &str, server: &str) {
    assert_eq!(body["context"]["auth_method"], "password");
    assert_eq!(body["context"]["required_scope"], scope);
    assert_eq!(body["context"]["target_servers"], json!([server]));
    assert!(!body["next_actions"].as_array().unwrap().is_empty());
    assert!(body["reason"].as_str().is_some_and(|r| !r.is_empty()));
}

#[tokio::test]
async fn every_gate_code_over_http() {
    let (app, root, mia, max) = setup().await;

    let body = check(&app, &mia, "websh", "web-01", None)
        .await
        .expect_error(403, "work_session_required");
    assert_context(&body, "websh", "web-01");
    assert!(body["context"]["current_work_session"].is_null());

    let s = app
        .request_session(&mia, &["websh", "command"], &["web-01"])
        .await;
    let sid = id(&s);
    let body = check(&app, &mia, "websh", "web-01", Some(&sid))
        .await
        .expect_error(403, "work_session_not_active");
    assert_eq!(body["context"]["current_work_session"], sid);
    app.approve(&root, &sid).await;
    let body = check(&app, &mia, "websh", "web-01", Some(&sid))
        .await
        .expect_error(403, "work_session_not_active");
    assert!(body["next_actions"][0]
        .as_str()
        .unwrap()
        .contains("activate"));

    app.call("POST", &format!("/api/work-sessions/{sid}/use"), None, &mia)
        .await
        .expect(200);
    let ok = check(&app, &mia, "websh", "web-01", None).await.expect(200);
    assert_eq!(ok["ok"], true);
    assert_eq!(ok["work_session"]["id"], sid);

    let body = check(&app, &mia, "webftp", "web-01", None)
        .await
        .expect_error(403, "work_session_scope_not_allowed");
    assert_eq!(
        body["message"],
        "the webftp operation requires an active work session that includes the webftp scope"
    );
    assert_context(&body, "webftp", "web-01");
    check(&app, &mia, "websh", "web-02", None)
        .await
        .expect_error(403, "work_session_server_not_allowed");
    check(&app, &max, "websh", "web-01", Some(&sid))
        .await
        .expect_error(403, "work_session_assignee_mismatch");

    // Running as root needs the sudo scope too.
    let root_op = Some(json!({"scope": "command", "server": "web-01", "user": "root"}).to_string());
    app.call_raw("POST", "/api/gate/check", root_op.clone(), &mia, &[])
        .await
        .expect_error(403, "work_session_scope_not_allowed");

    app.call(
        "POST",
        &format!("/api/work-sessions/{sid}/complete"),
        None,
        &mia,
    )
    .await
    .expect(200);
    check(&app, &mia, "websh", "web-01", None)
        .await
        .expect_error(403, "work_session_not_usable");

    // A session with sudo allows run-as root.
    let su = app
        .request_session(&mia, &["command", "sudo"], &["web-01"])
        .await;
    app.post(
        &format!("/api/work-sessions/{}/approve", id(&su)),
        json!({}),
        &root,
    )
    .await
    .expect(200);
    app.call(
        "POST",
        &format!("/api/work-sessions/{}/use", id(&su)),
        None,
        &mia,
    )
    .await
    .expect(200);
    app.call_raw("POST", "/api/gate/check", root_op, &mia, &[])
        .await
        .expect(200);

    // Denials are audited with their code.
    let denials = app
        .get("/api/audit?action=gate.denied", &root)
        .await
        .expect(200);
    let codes: Vec<&str> = denials["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["details"]["error_code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "work_session_required",
            "work_session_not_active",
            "work_session_not_active",
            "work_session_scope_not_allowed",
            "work_session_server_not_allowed",
            "work_session_assignee_mismatch",
            "work_session_scope_not_allowed",
            "work_session_not_usable",
        ]
    );
}

#[tokio::test]
async fn an_expired_session_is_refused_as_expired() {
    let (app, root, mia, _) = setup().await;
    let s = app
        .post(
            "/api/work-sessions",
            json!({"purpose": "brief", "scopes": ["websh"], "servers": ["web-01"], "expires_at": Utc::now() + Duration::seconds(1)}),
            &mia,
        )
        .await
        .expect(201);
    app.post(
        &format!("/api/work-sessions/{}/approve", id(&s)),
        json!({}),
        &root,
    )
    .await
    .expect(200);
    app.call(
        "POST",
        &format!("/api/work-sessions/{}/use", id(&s)),
        None,
        &mia,
    )
    .await
    .expect(200);
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    let mut changes = app.state.session_changes.subscribe();
    loop {
        let r = check(&app, &mia, "websh", "web-01", None).await;
        if r.status.as_u16() == 403 {
            r.expect_error(403, "work_session_expired");
            break;
        }
        assert!(Instant::now() < deadline, "never expired");
        let _ = tokio::time::timeout(std::time::Duration::from_millis(300), changes.recv()).await;
    }
}

#[tokio::test]
async fn api_tokens_bypass_sessions_but_are_denied_by_default() {
    let (app, _root, mia, _) = setup().await;
    let bot = app.token(&mia, "bot").await;
    let body = check(&app, &bot, "command", "web-01", None)
        .await
        .expect_error(403, "token_acl_denied");
    assert_eq!(body["context"]["auth_method"], "api_token");
    app.call(
        "POST",
        "/api/work-sessions/00000000-0000-0000-0000-000000000000/use",
        None,
        &bot,
    )
    .await
    .expect_error(400, "bad_request");
}

#[tokio::test]
async fn the_session_header_must_be_an_id_and_wins_over_the_active_one() {
    let (app, root, mia, _) = setup().await;
    check(&app, &mia, "websh", "web-01", Some("not-a-uuid"))
        .await
        .expect_error(400, "bad_request");
    let a = app.request_session(&mia, &["websh"], &["web-01"]).await;
    let b = app.request_session(&mia, &["command"], &["web-01"]).await;
    for s in [&a, &b] {
        app.post(
            &format!("/api/work-sessions/{}/approve", id(s)),
            json!({}),
            &root,
        )
        .await
        .expect(200);
        app.call(
            "POST",
            &format!("/api/work-sessions/{}/use", id(s)),
            None,
            &mia,
        )
        .await
        .expect(200);
    }
    // b is active for this sign-in; the header selects a instead.
    check(&app, &mia, "websh", "web-01", None)
        .await
        .expect_error(403, "work_session_scope_not_allowed");
    check(&app, &mia, "websh", "web-01", Some(&id(&a)))
        .await
        .expect(200);
    let unknown = "6f1c0000-0000-4000-8000-000000000000";
    check(&app, &mia, "websh", "web-01", Some(unknown))
        .await
        .expect_error(403, "work_session_required");
}
