//! The file endpoints up to the agent: path checks, the gate (webftp, editor, sudo), an offline
//! agent, and the OpenAPI entries. Transfers with real agents are in the end-to-end tests.

mod common;

use common::{id, Caller, TestApp};
use serde_json::{json, Value};

async fn setup(scopes: &[&str]) -> (TestApp, Caller) {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    app.server(&root, "web-01").await;
    // A superuser's own request is approved at once; activate it and make it the active one.
    let session = app.request_session(&root, scopes, &["web-01"]).await;
    let sid = id(&session);
    app.post(&format!("/api/work-sessions/{sid}/use"), json!({}), &root)
        .await
        .expect(200);
    (app, root)
}

#[tokio::test]
async fn hostile_paths_are_refused_before_the_gate_or_the_agent() {
    let (app, root) = setup(&["webftp"]).await;
    for query in [
        "path=relative/x",
        "path=/srv/../etc/passwd",
        "path=/srv/%2e%2e%2fetc%2fpasswd",
        "path=/srv/%252e%252e%252fetc",
        "path=/srv/a%00b",
        "path=/srv/a%0Ab",
        "",
    ] {
        let body = app
            .get(&format!("/api/files/web-01/list?{query}"), &root)
            .await
            .expect_error(400, "validation_error");
        assert_eq!(body["fields"][0]["field"], "path", "{query}");
    }
    let body = app
        .post(
            "/api/files/web-01/rename",
            json!({"from": "/srv/a", "to": "/srv/../b"}),
            &root,
        )
        .await
        .expect_error(400, "validation_error");
    assert_eq!(body["fields"][0]["field"], "to");
    let body = app
        .post(
            "/api/files/web-01/mkdir",
            json!({"path": "/a", "mode": 1}),
            &root,
        )
        .await;
    assert_eq!(
        body.status, 400,
        "unknown fields are refused: {}",
        body.text
    );
}

#[tokio::test]
async fn the_gate_decides_per_scope_and_denials_are_audited() {
    let (app, root) = setup(&["command"]).await;
    let body = app
        .get("/api/files/web-01/list?path=/tmp", &root)
        .await
        .expect_error(403, "work_session_scope_not_allowed");
    assert_eq!(body["context"]["required_scope"], "webftp");
    let actions = app.audit_actions(&root).await;
    assert!(actions.iter().any(|a| a == "gate.denied"), "{actions:?}");

    let (app, root) = setup(&["webftp"]).await;
    let body = app
        .get("/api/files/web-01/content?path=/tmp/x&editor=true", &root)
        .await
        .expect_error(403, "work_session_scope_not_allowed");
    assert_eq!(body["context"]["required_scope"], "editor");
    // Root needs `sudo` as well.
    app.get("/api/files/web-01/stat?path=/tmp&user=root", &root)
        .await
        .expect_error(403, "work_session_scope_not_allowed");
    // Allowed, but nobody is there to do it.
    let body: Value = app
        .get("/api/files/web-01/list?path=/tmp", &root)
        .await
        .expect_error(409, "conflict");
    assert!(body["message"].as_str().unwrap().contains("not connected"));
}

#[tokio::test]
async fn the_openapi_document_lists_the_file_endpoints() {
    let app = TestApp::new().await;
    let doc = app
        .get("/api/openapi.json", &Caller::default())
        .await
        .expect(200);
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/files/{server}/list",
        "/api/files/{server}/stat",
        "/api/files/{server}/content",
        "/api/files/{server}/mkdir",
        "/api/files/{server}/rename",
        "/api/files/{server}/delete",
    ] {
        assert!(paths.contains_key(path), "missing {path}");
    }
    let content = &paths["/api/files/{server}/content"];
    assert!(content["get"].is_object() && content["put"].is_object());
}

#[tokio::test]
async fn head_on_content_is_refused_rather_than_opening_a_read() {
    let (app, root) = setup(&["webftp"]).await;
    let response = app
        .call("HEAD", "/api/files/web-01/content?path=/srv/a", None, &root)
        .await;
    assert_eq!(response.status, 400, "{}", response.text);
    let audit = app
        .get("/api/audit?action=file.download", &root)
        .await
        .expect(200);
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn an_upload_mode_or_time_out_of_range_is_refused_before_the_agent() {
    let (app, root) = setup(&["webftp"]).await;
    for (query, field) in [
        ("mode=4095", "mode"),
        ("mode=512", "mode"),
        ("mode=-1", ""),
        ("mtime=-5", "mtime"),
        ("mtime=253402300800", "mtime"),
    ] {
        let url = format!("/api/files/web-01/content?path=/srv/a&overwrite=true&{query}");
        let r = app
            .call_raw("PUT", &url, Some("bytes".into()), &root, &[])
            .await;
        assert_eq!(r.status, 400, "{query}: {}", r.text);
        assert_eq!(r.body["ok"], false, "{query}: {}", r.text);
        if !field.is_empty() {
            assert_eq!(r.body["error_code"], "validation_error", "{query}");
            assert_eq!(r.body["fields"][0]["field"], field, "{query}: {}", r.text);
        }
    }
    // In range, the gate and then the (offline) agent decide as for any upload.
    let url = "/api/files/web-01/content?path=/srv/a&mode=420&mtime=1500000000";
    app.call_raw("PUT", url, Some("bytes".into()), &root, &[])
        .await
        .expect_error(409, "conflict");
    // None of them reached an agent: no transfer in the audit log.
    let audit = app
        .get("/api/audit?action=file.upload", &root)
        .await
        .expect(200);
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(0), "{audit}");
}
