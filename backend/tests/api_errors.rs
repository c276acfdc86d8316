//! Bad input gets the documented envelope, and the server keeps serving afterwards.

mod common;

use common::{Caller, TestApp};
use serde_json::json;

#[tokio::test]
async fn malformed_bodies_get_the_envelope() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let cases: [(&str, u16, &str); 5] = [
        ("{\"name\": ", 400, "bad_request"),
        ("{\"name\" 1}", 400, "bad_request"),
        ("{\"name\": 42}", 400, "validation_error"),
        (
            "{\"name\": \"web-01\", \"owner\": \"eve\"}",
            400,
            "validation_error",
        ),
        ("{}", 400, "validation_error"),
    ];
    for (body, status, code) in cases {
        app.call_raw("POST", "/api/servers", Some(body.into()), &root, &[])
            .await
            .expect_error(status, code);
    }
    // Without a JSON content type.
    let mut plain = root.clone();
    plain.bearer = None;
    let r = app
        .call_raw(
            "POST",
            "/api/tokens",
            None,
            &plain,
            &[("content-type", "text/plain")],
        )
        .await;
    r.expect_error(400, "bad_request");
    assert_eq!(
        app.get("/api/servers", &root).await.expect(200)["total"],
        0,
        "nothing half-written"
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let purpose = "x".repeat(100 * 1024);
    let body =
        json!({"purpose": purpose, "scopes": ["websh"], "servers": ["a"], "duration_secs": 600});
    app.post("/api/work-sessions", body, &root)
        .await
        .expect_error(413, "payload_too_large");
    let reason = "y".repeat(100 * 1024);
    app.post(
        "/api/work-sessions/00000000-0000-4000-8000-000000000000/reject",
        json!({"reason": reason}),
        &root,
    )
    .await
    .expect_error(413, "payload_too_large");
    app.get("/healthz", &Caller::default()).await.expect(200);
}

#[tokio::test]
async fn unknown_ids_and_paths_are_404_envelopes() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    for path in [
        "/api/work-sessions/00000000-0000-4000-8000-000000000000",
        "/api/work-sessions/not-a-uuid",
        "/api/work-sessions/00000000-0000-4000-8000-000000000000/timeline",
        "/api/servers/00000000-0000-4000-8000-000000000000",
        "/api/groups/00000000-0000-4000-8000-000000000000/members",
        "/api/nothing-here",
    ] {
        app.get(path, &root).await.expect_error(404, "not_found");
    }
    app.post(
        "/api/work-sessions/00000000-0000-4000-8000-000000000000/approve",
        json!({}),
        &root,
    )
    .await
    .expect_error(404, "not_found");
    app.post(
        "/api/users/00000000-0000-4000-8000-000000000000/servers",
        json!({"pattern": "web-*"}),
        &root,
    )
    .await
    .expect_error(404, "not_found");
    app.call("PATCH", "/api/work-sessions", None, &root)
        .await
        .expect_error(400, "bad_request");
    app.get("/api/work-sessions", &Caller::default())
        .await
        .expect_error(401, "unauthenticated");
}

#[tokio::test]
async fn the_openapi_document_describes_the_contract() {
    let app = TestApp::new().await;
    let doc = app
        .get("/api/openapi.json", &Caller::default())
        .await
        .expect(200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/setup",
        "/api/auth/login",
        "/api/auth/whoami",
        "/api/auth/mfa/totp/confirm",
        "/api/users",
        "/api/groups/{id}/servers",
        "/api/tokens/{id}",
        "/api/servers/registration-tokens",
        "/api/agents/register",
        "/api/work-sessions",
        "/api/work-sessions/{id}/approve",
        "/api/work-sessions/{id}/use",
        "/api/work-sessions/{id}/timeline",
        "/api/gate/check",
        "/api/audit",
        "/api/audit/verify",
        "/api/exec",
        "/ws/exec/{id}",
        "/api/tunnels",
        "/ws/tunnels/{id}",
    ] {
        assert!(paths.contains_key(path), "missing {path}");
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for schema in [
        "WorkSession",
        "ErrorEnvelope",
        "GateContext",
        "Scope",
        "Status",
    ] {
        assert!(schemas.contains_key(schema), "missing schema {schema}");
    }
}

/// The role check runs before the body is read: a member learns nothing from an admin
/// endpoint's validation, whatever it sends.
#[tokio::test]
async fn a_member_posting_to_an_admin_endpoint_gets_403_whatever_the_body() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let member = app.user(&root, "mallory", "member").await;
    app.server(&root, "web-01").await;
    app.grant(&root, "web", "web-*", &["mallory"]).await;
    let pending = app.request_session(&member, &["websh"], &["web-01"]).await;
    let session = common::id(&pending);
    let admin_posts = [
        "/api/users".to_owned(),
        "/api/groups".to_owned(),
        "/api/servers".to_owned(),
        "/api/servers/registration-tokens".to_owned(),
        format!("/api/users/{}/servers", member.id),
        format!("/api/work-sessions/{session}/approve"),
        format!("/api/work-sessions/{session}/reject"),
        format!("/api/work-sessions/{session}/revoke"),
    ];
    for path in &admin_posts {
        for body in ["{\"name\": ", "{\"unknown\": 1}", "[]", "null"] {
            app.call_raw("POST", path, Some(body.into()), &member, &[])
                .await
                .expect_error(403, "forbidden");
        }
    }
    // A malformed id in the path is refused by role first, too.
    app.call_raw(
        "POST",
        "/api/users/not-an-id/servers",
        Some("{".into()),
        &member,
        &[],
    )
    .await
    .expect_error(403, "forbidden");
    // The member's request is untouched by all of that.
    let after = app
        .get(&format!("/api/work-sessions/{session}"), &member)
        .await
        .expect(200);
    assert_eq!(after["status"], "pending");
}

/// Every WebSocket upgrade inherits the Origin rule: a foreign, `null` or other-port Origin is
/// refused with the envelope before anything else is looked at.
#[tokio::test]
async fn every_websocket_upgrade_refuses_a_foreign_origin() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let terminal = format!("/ws/websh/{}", uuid::Uuid::new_v4());
    let job = format!("/ws/exec/{}", uuid::Uuid::new_v4());
    let tunnel = format!("/ws/tunnels/{}", uuid::Uuid::new_v4());
    for path in [
        "/ws/agent",
        terminal.as_str(),
        job.as_str(),
        tunnel.as_str(),
    ] {
        for origin in [
            "https://evil.example",
            "null",
            "https://gatehouse.test:8443",
            "http://gatehouse.test.evil.example",
        ] {
            app.call_raw(
                "GET",
                path,
                None,
                &root,
                &[("host", "gatehouse.test"), ("origin", origin)],
            )
            .await
            .expect_error(403, "forbidden");
        }
    }
    // The server's own origin passes the rule; what follows is each endpoint's own answer.
    let own = [
        ("host", "gatehouse.test"),
        ("origin", "https://gatehouse.test"),
    ];
    app.call_raw("GET", "/ws/agent", None, &Caller::default(), &own)
        .await
        .expect_error(401, "unauthenticated");
    for path in [&terminal, &job, &tunnel] {
        app.call_raw("GET", path, None, &root, &own)
            .await
            .expect_error(400, "bad_request");
    }
}
