//! A change of state and its audit event land together or not at all, and every mutating
//! admin endpoint leaves exactly one audit row naming its actor and target.
//!
//! The audit append is made to fail with a trigger on the real database, so the code under test
//! is the production code path, with no test hook in it.

mod common;

use common::{Caller, TestApp, PASSWORD};
use serde_json::{json, Value};

/// Installs, once, a trigger that refuses audit rows while a flag is set. Toggling a row (not the
/// schema) makes the fault visible to every pooled connection at once.
async fn install_fault(app: &TestApp) {
    for sql in [
        "CREATE TABLE audit_fault (broken INTEGER NOT NULL)",
        "INSERT INTO audit_fault (broken) VALUES (0)",
        "CREATE TRIGGER break_audit BEFORE INSERT ON audit_log \
         WHEN (SELECT broken FROM audit_fault) = 1 \
         BEGIN SELECT RAISE(ABORT, 'injected audit failure'); END",
    ] {
        sqlx::query(sql)
            .execute(&app.raw)
            .await
            .expect("install the fault");
    }
}

async fn set_fault(app: &TestApp, broken: bool) {
    sqlx::query("UPDATE audit_fault SET broken = ?")
        .bind(broken)
        .execute(&app.raw)
        .await
        .expect("set the fault");
}

async fn break_audit(app: &TestApp) {
    set_fault(app, true).await;
}

async fn mend_audit(app: &TestApp) {
    set_fault(app, false).await;
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(&app.raw)
        .await
        .expect("count");
    n
}

async fn audit_rows(app: &TestApp) -> i64 {
    count(app, "SELECT COUNT(*) FROM audit_log").await
}

/// Runs `call` with the audit append failing: the call must fail with the internal envelope and
/// `state` (a row count that the change would move) must be unchanged, as must the chain.
async fn fails_whole(app: &TestApp, label: &str, state_sql: &str, call: impl AsyncFnOnce()) {
    let before = count(app, state_sql).await;
    let rows = audit_rows(app).await;
    break_audit(app).await;
    call().await;
    mend_audit(app).await;
    assert_eq!(
        count(app, state_sql).await,
        before,
        "{label}: the change outlived its failed audit event"
    );
    assert_eq!(audit_rows(app).await, rows, "{label}: audit rows moved");
}

#[tokio::test]
async fn a_failed_audit_append_rolls_back_each_kind_of_change() {
    let app = TestApp::new().await;
    install_fault(&app).await;
    let root = app.superuser().await;
    let member = app.user(&root, "mia", "member").await;
    let group = app
        .post("/api/groups", json!({"name": "web"}), &root)
        .await
        .expect(201);
    let group_id = common::id(&group);
    let server = app.server(&root, "web-01").await;
    let server_id = common::id(&server);
    let token = app
        .post("/api/tokens", json!({"name": "ci"}), &root)
        .await
        .expect(201);
    let token_id = common::id(&token);

    let internal = |r: common::Response| {
        r.expect_error(500, "internal");
    };

    fails_whole(
        &app,
        "user.created",
        "SELECT COUNT(*) FROM users",
        async || {
            internal(
                app.post(
                    "/api/users",
                    json!({"username": "max", "password": PASSWORD, "role": "member"}),
                    &root,
                )
                .await,
            )
        },
    )
    .await;
    fails_whole(
        &app,
        "user.servers_granted",
        "SELECT COUNT(*) FROM user_server_grants",
        async || {
            internal(
                app.post(
                    &format!("/api/users/{}/servers", member.id),
                    json!({"pattern": "db-*"}),
                    &root,
                )
                .await,
            )
        },
    )
    .await;
    fails_whole(
        &app,
        "group.created",
        "SELECT COUNT(*) FROM groups",
        async || internal(app.post("/api/groups", json!({"name": "db"}), &root).await),
    )
    .await;
    fails_whole(
        &app,
        "group.member_added",
        "SELECT COUNT(*) FROM group_members",
        async || {
            internal(
                app.post(
                    &format!("/api/groups/{group_id}/members"),
                    json!({"username": "mia"}),
                    &root,
                )
                .await,
            )
        },
    )
    .await;
    fails_whole(
        &app,
        "group.servers_granted",
        "SELECT COUNT(*) FROM group_server_patterns",
        async || {
            internal(
                app.post(
                    &format!("/api/groups/{group_id}/servers"),
                    json!({"pattern": "web-*"}),
                    &root,
                )
                .await,
            )
        },
    )
    .await;
    fails_whole(
        &app,
        "group.run_as_granted",
        "SELECT COUNT(*) FROM group_run_as",
        async || {
            internal(
                app.post(
                    &format!("/api/groups/{group_id}/run-as"),
                    json!({"account": "deploy"}),
                    &root,
                )
                .await,
            )
        },
    )
    .await;
    fails_whole(
        &app,
        "user.updated",
        "SELECT COUNT(*) FROM users WHERE unix_user = 'mia_ops'",
        async || {
            internal(
                app.call(
                    "PATCH",
                    &format!("/api/users/{}", member.id),
                    Some(json!({"unix_user": "mia_ops"})),
                    &root,
                )
                .await,
            )
        },
    )
    .await;
    fails_whole(
        &app,
        "server.created",
        "SELECT COUNT(*) FROM servers",
        async || {
            internal(
                app.post(
                    "/api/servers",
                    json!({"name": "web-02", "groups": ["web"]}),
                    &root,
                )
                .await,
            )
        },
    )
    .await;
    fails_whole(
        &app,
        "server.deleted",
        "SELECT COUNT(*) FROM servers",
        async || {
            internal(
                app.call("DELETE", &format!("/api/servers/{server_id}"), None, &root)
                    .await,
            )
        },
    )
    .await;
    fails_whole(
        &app,
        "registration_token.created",
        "SELECT COUNT(*) FROM registration_tokens",
        async || {
            internal(
                app.post("/api/servers/registration-tokens", json!({}), &root)
                    .await,
            )
        },
    )
    .await;
    fails_whole(
        &app,
        "token.created",
        "SELECT COUNT(*) FROM api_tokens",
        async || internal(app.post("/api/tokens", json!({"name": "cd"}), &root).await),
    )
    .await;
    fails_whole(
        &app,
        "work_session.requested and .approved",
        "SELECT COUNT(*) FROM work_sessions",
        async || {
            internal(
                app.post(
                    "/api/work-sessions",
                    json!({"purpose": "patch", "scopes": ["websh"], "servers": ["web-01"],
                           "duration_secs": 3600}),
                    &root,
                )
                .await,
            )
        },
    )
    .await;
    // The case the issue names: a revocation that cannot be audited does not happen.
    fails_whole(
        &app,
        "token.revoked",
        "SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NOT NULL",
        async || {
            internal(
                app.call("DELETE", &format!("/api/tokens/{token_id}"), None, &root)
                    .await,
            )
        },
    )
    .await;
    fails_whole(
        &app,
        "auth.login",
        "SELECT COUNT(*) FROM login_sessions",
        async || {
            internal(
                app.post(
                    "/api/auth/login",
                    json!({"username": "mia", "password": PASSWORD}),
                    &Caller::default(),
                )
                .await,
            )
        },
    )
    .await;
    fails_whole(
        &app,
        "auth.logout",
        "SELECT COUNT(*) FROM login_sessions",
        async || internal(app.call("POST", "/api/auth/logout", None, &member).await),
    )
    .await;
    fails_whole(
        &app,
        "auth.mfa.enroll_started",
        "SELECT COUNT(*) FROM users WHERE totp_pending_secret IS NOT NULL",
        async || internal(app.call("POST", "/api/auth/mfa/totp", None, &member).await),
    )
    .await;

    // With the log mended, the same changes go through, and the chain is whole.
    app.call("DELETE", &format!("/api/tokens/{token_id}"), None, &root)
        .await
        .expect(204);
    let verify = app.get("/api/audit/verify", &root).await.expect(200);
    assert_eq!(verify["ok"], true, "{verify}");
}

/// Each admin change is one audit row, with who did it and to what.
#[tokio::test]
async fn every_mutating_admin_endpoint_writes_exactly_one_attributed_audit_row() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let member = app.user(&root, "mia", "member").await;
    let group = app
        .post("/api/groups", json!({"name": "ops"}), &root)
        .await
        .expect(201);
    let group_id = common::id(&group);
    let server = app.server(&root, "db-01").await;
    let token = app
        .post("/api/tokens", json!({"name": "ci"}), &root)
        .await
        .expect(201);
    let registration = app.registration_token(&root, json!({})).await;

    let calls: Vec<(&str, &str, String, Option<Value>, u16)> = vec![
        (
            "registration_token.revoked",
            "DELETE",
            format!(
                "/api/servers/registration-tokens/{}",
                registration["id"].as_str().unwrap()
            ),
            None,
            204,
        ),
        (
            "user.created",
            "POST",
            "/api/users".into(),
            Some(json!({"username": "max", "password": PASSWORD, "role": "member"})),
            201,
        ),
        (
            "user.servers_granted",
            "POST",
            format!("/api/users/{}/servers", member.id),
            Some(json!({"pattern": "db-*"})),
            204,
        ),
        (
            "group.created",
            "POST",
            "/api/groups".into(),
            Some(json!({"name": "dba"})),
            201,
        ),
        (
            "group.member_added",
            "POST",
            format!("/api/groups/{group_id}/members"),
            Some(json!({"username": "mia"})),
            200,
        ),
        (
            "group.servers_granted",
            "POST",
            format!("/api/groups/{group_id}/servers"),
            Some(json!({"pattern": "db-*"})),
            200,
        ),
        (
            "group.run_as_granted",
            "POST",
            format!("/api/groups/{group_id}/run-as"),
            Some(json!({"account": "deploy"})),
            200,
        ),
        (
            "user.updated",
            "PATCH",
            format!("/api/users/{}", member.id),
            Some(json!({"unix_user": "mia_ops"})),
            200,
        ),
        (
            "server.created",
            "POST",
            "/api/servers".into(),
            Some(json!({"name": "db-02"})),
            201,
        ),
        (
            "server.deleted",
            "DELETE",
            format!("/api/servers/{}", common::id(&server)),
            None,
            204,
        ),
        (
            "registration_token.created",
            "POST",
            "/api/servers/registration-tokens".into(),
            Some(json!({"max_uses": 2})),
            201,
        ),
        (
            "token.created",
            "POST",
            "/api/tokens".into(),
            Some(json!({"name": "cd"})),
            201,
        ),
        (
            "token.revoked",
            "DELETE",
            format!("/api/tokens/{}", common::id(&token)),
            None,
            204,
        ),
    ];
    for (action, method, path, body, status) in calls {
        let before = app.get("/api/audit?limit=500", &root).await.expect(200);
        let seq_before = before["total"].as_i64().unwrap();
        app.call(method, &path, body, &root).await.expect(status);
        let after = app.get("/api/audit?limit=500", &root).await.expect(200);
        let new: Vec<&Value> = after["items"]
            .as_array()
            .unwrap()
            .iter()
            .skip(seq_before as usize)
            .collect();
        assert_eq!(new.len(), 1, "{method} {path}: {new:?}");
        let row = new[0];
        assert_eq!(row["action"], action, "{method} {path}");
        assert_eq!(row["actor"], "root", "{method} {path}");
        assert_eq!(row["outcome"], "success", "{method} {path}");
        // A registration token has no name of its own; every other change names its target.
        if action != "registration_token.created" {
            assert!(
                row["target"].as_str().is_some_and(|t| !t.is_empty()),
                "{method} {path}: no target in {row}"
            );
        }
    }
}
