//! The audit log: filters, JSON Lines export, and tamper detection through SQL.

mod common;

use common::{Caller, TestApp};
use serde_json::Value;

/// An app with a handful of events, and its superuser.
async fn busy_app() -> (TestApp, Caller) {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    app.server(&root, "web-01").await;
    let s = app.request_session(&root, &["websh"], &["web-01"]).await;
    app.call(
        "POST",
        &format!("/api/work-sessions/{}/use", s["id"].as_str().unwrap()),
        None,
        &root,
    )
    .await
    .expect(200);
    (app, root)
}

async fn verify(app: &TestApp, root: &Caller) -> Value {
    app.get("/api/audit/verify", root).await.expect(200)
}

#[tokio::test]
async fn verify_passes_on_an_untouched_log() {
    let (app, root) = busy_app().await;
    let v = verify(&app, &root).await;
    assert_eq!(v["ok"], true);
    assert!(v["events_checked"].as_i64().unwrap() >= 6);
    assert!(v.get("first_bad_seq").is_none());
}

#[tokio::test]
async fn an_edited_row_is_detected() {
    let (app, root) = busy_app().await;
    sqlx::query("UPDATE audit_log SET outcome = 'failure' WHERE seq = 3")
        .execute(&app.raw)
        .await
        .unwrap();
    let v = verify(&app, &root).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["first_bad_seq"], 3);
}

#[tokio::test]
async fn an_edited_detail_is_detected() {
    let (app, root) = busy_app().await;
    sqlx::query(
        "UPDATE audit_log SET details = '{\"peer\":\"10.0.0.1\"}' WHERE action = 'auth.login'",
    )
    .execute(&app.raw)
    .await
    .unwrap();
    assert_eq!(verify(&app, &root).await["ok"], false);
}

#[tokio::test]
async fn a_removed_row_is_detected() {
    let (app, root) = busy_app().await;
    sqlx::query("DELETE FROM audit_log WHERE seq = 2")
        .execute(&app.raw)
        .await
        .unwrap();
    let v = verify(&app, &root).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["first_bad_seq"], 3);
}

#[tokio::test]
async fn rows_removed_from_the_end_are_detected() {
    let (app, root) = busy_app().await;
    let (last,): (i64,) = sqlx::query_as("SELECT MAX(seq) FROM audit_log")
        .fetch_one(&app.raw)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq >= ?")
        .bind(last - 1)
        .execute(&app.raw)
        .await
        .unwrap();
    let v = verify(&app, &root).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["first_bad_seq"], last - 1);
}

#[tokio::test]
async fn reordered_rows_are_detected() {
    let (app, root) = busy_app().await;
    for sql in [
        "UPDATE audit_log SET seq = -1 WHERE seq = 2",
        "UPDATE audit_log SET seq = 2 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = -1",
    ] {
        sqlx::query(sql).execute(&app.raw).await.unwrap();
    }
    let v = verify(&app, &root).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["first_bad_seq"], 2);
}

#[tokio::test]
async fn filters_and_json_lines_export() {
    let (app, root) = busy_app().await;
    let all = app.get("/api/audit?limit=500", &root).await.expect(200);
    let total = all["total"].as_i64().unwrap();
    let items = all["items"].as_array().unwrap();
    for pair in items.windows(2) {
        assert_eq!(
            pair[1]["prev_hash"], pair[0]["hash"],
            "each row carries the previous hash"
        );
        assert_eq!(
            pair[1]["seq"].as_i64().unwrap(),
            pair[0]["seq"].as_i64().unwrap() + 1
        );
    }
    let sessions = app
        .get("/api/audit?action=work_session.*", &root)
        .await
        .expect(200);
    let actions: Vec<&str> = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "work_session.requested",
            "work_session.approved",
            "work_session.activated"
        ]
    );
    let by_root = app
        .get("/api/audit?user=root&action=auth.login", &root)
        .await
        .expect(200);
    assert_eq!(by_root["total"], 1);
    let page = app.get("/api/audit?limit=2", &root).await.expect(200);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = app
        .get(&format!("/api/audit?limit=2&cursor={cursor}"), &root)
        .await
        .expect(200);
    assert_eq!(next["items"][0]["seq"], 3);

    let lines = app.get("/api/audit?format=jsonl", &root).await;
    assert_eq!(lines.status.as_u16(), 200);
    assert_eq!(lines.headers["content-type"], "application/x-ndjson");
    let parsed: Vec<Value> = lines
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(parsed.len() as i64, total);
    assert_eq!(parsed[0]["action"], "setup.first_superuser");
    app.get("/api/audit?format=xml", &root)
        .await
        .expect_error(400, "validation_error");

    let mia = app.user(&root, "mia", "member").await;
    app.get("/api/audit", &mia)
        .await
        .expect_error(403, "forbidden");
    app.get("/api/audit/verify", &mia)
        .await
        .expect_error(403, "forbidden");
}
