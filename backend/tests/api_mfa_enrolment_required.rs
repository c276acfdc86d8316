//! `require_mfa_enrolment`: once a superuser turns it on, a person signed in without TOTP can
//! do nothing but enrol (403 `mfa_enrolment_required`, `whoami` says so); enrolling lets them
//! on at once, API tokens are unaffected, and turning it off lifts it.

mod common;

use chrono::Utc;
use common::TestApp;
use gatehouse::auth::totp;
use serde_json::json;

#[tokio::test]
async fn enrolment_comes_first_when_the_workspace_requires_it() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let member = app.user(&root, "mia", "member").await;
    let token = app.token(&member, "ci").await;
    let before = app.get("/api/auth/whoami", &member).await.expect(200);
    assert_eq!(before["mfa_enrolment_required"], false);

    // The superuser turning it on is themselves without TOTP: they too must enrol first, and
    // the setting is already stored.
    app.call(
        "PATCH",
        "/api/settings",
        Some(json!({"require_mfa_enrolment": true})),
        &root,
    )
    .await
    .expect(200);
    let me = app.get("/api/auth/whoami", &member).await.expect(200);
    assert_eq!(me["mfa_enrolment_required"], true);
    for path in ["/api/work-sessions", "/api/servers", "/api/tokens"] {
        app.get(path, &member)
            .await
            .expect_error(403, "mfa_enrolment_required");
    }
    app.post(
        "/api/work-sessions",
        json!({"purpose": "x", "scopes": ["websh"], "servers": ["web-01"], "duration_secs": 600}),
        &member,
    )
    .await
    .expect_error(403, "mfa_enrolment_required");
    app.get("/api/servers", &root)
        .await
        .expect_error(403, "mfa_enrolment_required");
    // A token carries no code: unaffected.
    app.get("/api/work-sessions", &token).await.expect(200);

    // Enrolling is allowed, and lets the person on at once.
    let enrolment = app
        .call("POST", "/api/auth/mfa/totp", None, &member)
        .await
        .expect(200);
    let secret = enrolment["secret"].as_str().unwrap();
    let code = totp::code_at_step(secret, totp::step_at(Utc::now())).unwrap();
    app.post("/api/auth/mfa/totp/confirm", json!({"otp": code}), &member)
        .await
        .expect(204);
    app.get("/api/work-sessions", &member).await.expect(200);
    let me = app.get("/api/auth/whoami", &member).await.expect(200);
    assert_eq!(me["mfa_enrolment_required"], false);

    // Turned off (by a superuser who enrolled), it lifts for everyone.
    let enrolment = app
        .call("POST", "/api/auth/mfa/totp", None, &root)
        .await
        .expect(200);
    let secret = enrolment["secret"].as_str().unwrap();
    let code = totp::code_at_step(secret, totp::step_at(Utc::now())).unwrap();
    app.post("/api/auth/mfa/totp/confirm", json!({"otp": code}), &root)
        .await
        .expect(204);
    app.call(
        "PATCH",
        "/api/settings",
        Some(json!({"require_mfa_enrolment": false})),
        &root,
    )
    .await
    .expect(200);
    let other = app.user(&root, "otto", "member").await;
    app.get("/api/work-sessions", &other).await.expect(200);
}
