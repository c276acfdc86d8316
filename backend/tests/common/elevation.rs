//! Shared set-up of the elevation tests: a member with an approved, selected session that
//! declared root commands, and TOTP helpers.

use super::{id, Caller, TestApp};
use chrono::Utc;
use gatehouse::auth::totp;
use serde_json::{json, Value};

/// `root` (superuser), a server web-01 (no agent), and member `mia` granted it.
pub async fn setup() -> (TestApp, Caller, Caller) {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    app.server(&root, "web-01").await;
    let mia = app.user(&root, "mia", "member").await;
    app.grant(&root, "ops", "web-*", &["mia"]).await;
    (app, root, mia)
}

/// Sets workspace settings as `root`.
pub async fn settings(app: &TestApp, root: &Caller, body: Value) {
    app.call("PATCH", "/api/settings", Some(body), root)
        .await
        .expect(200);
}

/// An approved session of `who` with `scopes` and `sudo_commands`, made their active one; its id.
pub async fn session(
    app: &TestApp,
    root: &Caller,
    who: &Caller,
    scopes: &[&str],
    sudo: &[&str],
) -> String {
    session_with(app, root, who, scopes, json!({"sudo_commands": sudo})).await
}

/// An approved session of `who` on web-01 with `scopes` and the `extra` request fields (such
/// as `tunnel_ports`), made their active one; its id.
pub async fn session_with(
    app: &TestApp,
    root: &Caller,
    who: &Caller,
    scopes: &[&str],
    extra: Value,
) -> String {
    let mut body = json!({"purpose": "patch", "scopes": scopes, "servers": ["web-01"],
                          "duration_secs": 3600});
    for (k, v) in extra.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    let s = app.post("/api/work-sessions", body, who).await.expect(201);
    let sid = id(&s);
    if s["status"] == "pending" {
        app.approve(root, &sid).await;
    }
    app.post(
        &format!("/api/work-sessions/{sid}/activate"),
        json!({}),
        who,
    )
    .await;
    app.post(&format!("/api/work-sessions/{sid}/use"), json!({}), who)
        .await
        .expect(200);
    sid
}

/// `POST /api/exec` of `command` as root on web-01, with extra fields.
pub async fn exec_root(
    app: &TestApp,
    who: &Caller,
    command: &str,
    extra: Value,
) -> super::Response {
    let mut body = json!({"servers": ["web-01"], "command": command, "user": "root"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.post("/api/exec", body, who).await
}

/// Enrols TOTP for `who`, confirming with the previous step's code (so this step's and the
/// next one's are still unspent for a later step-up); the secret.
pub async fn enrol(app: &TestApp, who: &Caller) -> String {
    let enrolment = app
        .call("POST", "/api/auth/mfa/totp", None, who)
        .await
        .expect(200);
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    let step = totp::step_at(Utc::now());
    let confirm = totp::code_at_step(&secret, step - 1).unwrap();
    app.post("/api/auth/mfa/totp/confirm", json!({"otp": confirm}), who)
        .await
        .expect(204);
    secret
}

/// A current code of `secret` not spent yet by `enrol`.
pub fn fresh_code(secret: &str) -> String {
    totp::code_at_step(secret, totp::step_at(Utc::now()) + 1).unwrap()
}

/// Makes `who`'s proof of MFA older than the 900-second step-up window, or removes it.
pub async fn age_mfa(app: &TestApp, who: &Caller) {
    let old = (Utc::now() - chrono::Duration::seconds(901)).timestamp_micros();
    sqlx::query("UPDATE login_sessions SET mfa_verified_at = ? WHERE user_id = ?")
        .bind(old)
        .bind(&who.id)
        .execute(&app.raw)
        .await
        .unwrap();
}

/// The audit events with `action`, newest first.
pub async fn audit(app: &TestApp, root: &Caller, action: &str) -> Vec<Value> {
    let page = app
        .get(&format!("/api/audit?action={action}&limit=500"), root)
        .await
        .expect(200);
    page["items"].as_array().unwrap().clone()
}
