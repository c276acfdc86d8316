//! API tokens bypass work sessions but hold no ACLs yet, so every gated operation refuses them
//! with `token_acl_denied`, audited as the token's owner; an expired token is not a credential.

mod common;

use common::{Caller, TestApp};
use serde_json::json;

#[tokio::test]
async fn every_gated_route_refuses_a_token_and_audits_it() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    app.server(&root, "web-01").await;
    let token = app.token(&root, "ci").await;
    let gated: Vec<(&str, &str, Option<serde_json::Value>)> = vec![
        (
            "POST",
            "/api/gate/check",
            Some(json!({"scope": "websh", "server": "web-01"})),
        ),
        (
            "POST",
            "/api/websh",
            Some(json!({"server": "web-01", "cols": 80, "rows": 24})),
        ),
        (
            "POST",
            "/api/exec",
            Some(json!({"servers": ["web-01"], "command": "uptime"})),
        ),
        ("GET", "/api/files/web-01/list?path=/tmp", None),
        ("GET", "/api/files/web-01/stat?path=/tmp", None),
        ("GET", "/api/files/web-01/content?path=/etc/hostname", None),
        (
            "POST",
            "/api/files/web-01/mkdir",
            Some(json!({"path": "/tmp/x"})),
        ),
        (
            "POST",
            "/api/files/web-01/rename",
            Some(json!({"from": "/tmp/x", "to": "/tmp/y"})),
        ),
        (
            "POST",
            "/api/files/web-01/delete",
            Some(json!({"path": "/tmp/y"})),
        ),
    ];
    for (method, path, body) in &gated {
        let before = app
            .get("/api/audit?action=gate.denied", &root)
            .await
            .expect(200)["total"]
            .as_i64()
            .unwrap();
        app.call(method, path, body.clone(), &token)
            .await
            .expect_error(403, "token_acl_denied");
        let denials = app
            .get("/api/audit?action=gate.denied", &root)
            .await
            .expect(200);
        assert_eq!(
            denials["total"].as_i64().unwrap(),
            before + 1,
            "{method} {path}: one audit row"
        );
        let last = denials["items"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["actor"], "root", "{method} {path}: {last}");
        assert_eq!(last["server"], "web-01", "{method} {path}: {last}");
        assert_eq!(last["details"]["error_code"], "token_acl_denied");
    }
    // An upload is refused the same way, before any byte is read.
    app.call_raw(
        "PUT",
        "/api/files/web-01/content?path=/tmp/z",
        Some("bytes".into()),
        &token,
        &[("content-type", "application/octet-stream")],
    )
    .await
    .expect_error(403, "token_acl_denied");
}

#[tokio::test]
async fn an_expired_token_is_not_a_credential() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let created = app
        .post("/api/tokens", json!({"name": "old"}), &root)
        .await
        .expect(201);
    sqlx::query("UPDATE api_tokens SET expires_at = 1")
        .execute(&app.raw)
        .await
        .unwrap();
    let token = Caller {
        bearer: Some(created["token"].as_str().unwrap().to_owned()),
        ..Caller::default()
    };
    app.get("/api/auth/whoami", &token)
        .await
        .expect_error(401, "unauthenticated");
    app.post(
        "/api/gate/check",
        json!({"scope": "websh", "server": "web-01"}),
        &token,
    )
    .await
    .expect_error(401, "unauthenticated");
}
