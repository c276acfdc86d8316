//! The approvals queue and workspace settings: extensions past the approved window wait for an
//! approver (or are granted within the self-extension allowance), decided once, by a superuser
//! who is not the requester; settings are superuser-only, range-checked and audited.

mod common;

use common::{id, Caller, TestApp};
use serde_json::{json, Value};

struct World {
    app: TestApp,
    root: Caller,
    staff: Caller,
    mia: Caller,
    max: Caller,
}

async fn world() -> World {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let staff = app.user(&root, "stu", "staff").await;
    let mia = app.user(&root, "mia", "member").await;
    let max = app.user(&root, "max", "member").await;
    app.server(&root, "web-01").await;
    app.grant(&root, "web", "web-*", &["mia", "max"]).await;
    World {
        app,
        root,
        staff,
        mia,
        max,
    }
}

/// An active one-hour session of mia's.
async fn active_session(w: &World) -> Value {
    let s = w.app.request_session(&w.mia, &["websh"], &["web-01"]).await;
    w.app.approve(&w.root, &id(&s)).await;
    w.app
        .call(
            "POST",
            &format!("/api/work-sessions/{}/activate", id(&s)),
            None,
            &w.mia,
        )
        .await
        .expect(200)
}

async fn extend(w: &World, s: &Value, secs: i64, caller: &Caller) -> common::Response {
    w.app
        .post(
            &format!("/api/work-sessions/{}/extend", id(s)),
            json!({ "duration_secs": secs }),
            caller,
        )
        .await
}

async fn session(w: &World, s: &Value) -> Value {
    w.app
        .get(&format!("/api/work-sessions/{}", id(s)), &w.mia)
        .await
        .expect(200)
}

#[tokio::test]
async fn settings_are_for_superusers_range_checked_and_every_change_audited() {
    let w = world().await;
    for caller in [&w.mia, &w.staff] {
        w.app
            .get("/api/settings", caller)
            .await
            .expect_error(403, "forbidden");
        w.app
            .call(
                "PATCH",
                "/api/settings",
                Some(json!({"self_extend_secs": 60})),
                caller,
            )
            .await
            .expect_error(403, "forbidden");
    }
    let defaults = w.app.get("/api/settings", &w.root).await.expect(200);
    assert_eq!(defaults["self_extend_secs"], 0);
    assert_eq!(defaults["mfa_timeout_secs"], 900);
    assert_eq!(defaults["require_mfa_for_root"], true);
    assert_eq!(defaults["max_session_secs"], 86400);

    for (body, field) in [
        (json!({"mfa_timeout_secs": 30}), "mfa_timeout_secs"),
        (json!({"mfa_timeout_secs": 86401}), "mfa_timeout_secs"),
        (json!({"self_extend_secs": -5}), "self_extend_secs"),
        (json!({"self_extend_secs": 90000}), "self_extend_secs"),
    ] {
        let err = w
            .app
            .call("PATCH", "/api/settings", Some(body), &w.root)
            .await
            .expect_error(400, "validation_error");
        assert_eq!(err["fields"][0]["field"], field, "{err}");
    }
    w.app
        .call(
            "PATCH",
            "/api/settings",
            Some(json!({"nonsense": 1})),
            &w.root,
        )
        .await
        .expect_error(400, "validation_error");
    w.app
        .call_raw(
            "PATCH",
            "/api/settings",
            Some("{not json".into()),
            &w.root,
            &[],
        )
        .await
        .expect_error(400, "bad_request");
    // Nothing refused was written.
    assert_eq!(
        w.app.get("/api/settings", &w.root).await.expect(200),
        defaults
    );
    assert!(!w
        .app
        .audit_actions(&w.root)
        .await
        .contains(&"settings.updated".to_owned()));

    let changed = w
        .app
        .call(
            "PATCH",
            "/api/settings",
            Some(json!({"self_extend_secs": 1800, "sudo_mfa_waiver": false})),
            &w.root,
        )
        .await
        .expect(200);
    assert_eq!(changed["self_extend_secs"], 1800);
    // The same values again change nothing and record nothing.
    w.app
        .call(
            "PATCH",
            "/api/settings",
            Some(json!({"self_extend_secs": 1800})),
            &w.root,
        )
        .await
        .expect(200);
    let page = w
        .app
        .get("/api/audit?action=settings.updated", &w.root)
        .await
        .expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    let event = &page["items"][0];
    assert_eq!(event["actor"], "root");
    assert_eq!(
        event["details"]["changes"],
        json!([{"setting": "self_extend_secs", "from": 0, "to": 1800}])
    );
}

#[tokio::test]
async fn an_extension_waits_for_an_approver_and_the_session_keeps_its_expiry_meanwhile() {
    let w = world().await;
    let s = active_session(&w).await;
    let expires = s["expires_at"].clone();

    let pending = extend(&w, &s, 1800, &w.mia).await.expect(202);
    assert_eq!(pending["status"], "pending_approval");
    assert_eq!(pending["kind"], "extension");
    assert_eq!(pending["exit_code"], 4);
    assert_eq!(session(&w, &s).await["expires_at"], expires);
    let approval = pending["approval_id"].as_str().unwrap().to_owned();

    // One waits at a time.
    extend(&w, &s, 600, &w.mia)
        .await
        .expect_error(409, "conflict");
    // Impossible extensions are refused, not queued; someone else's session is not found.
    extend(&w, &s, 30 * 86400, &w.mia)
        .await
        .expect_error(400, "validation_error");
    extend(&w, &s, 600, &w.max)
        .await
        .expect_error(404, "not_found");

    // The requester and every superuser see it; another member does not.
    let queue = w.app.get("/api/approvals", &w.root).await.expect(200);
    assert_eq!(queue["items"].as_array().unwrap().len(), 1, "{queue}");
    assert_eq!(queue["items"][0]["id"], approval.as_str());
    assert_eq!(queue["items"][0]["kind"], "extension");
    assert_eq!(queue["items"][0]["extension"]["duration_secs"], 1800);
    assert_eq!(queue["items"][0]["work_session"]["id"], s["id"]);
    let own = w.app.get("/api/approvals", &w.mia).await.expect(200);
    assert_eq!(own["items"][0]["id"], approval.as_str());
    let other = w.app.get("/api/approvals", &w.max).await.expect(200);
    assert_eq!(other["items"], json!([]));
    w.app
        .get(&format!("/api/approvals/{approval}"), &w.max)
        .await
        .expect_error(404, "not_found");

    // Only a superuser decides.
    for caller in [&w.mia, &w.staff] {
        w.app
            .post(
                &format!("/api/approvals/{approval}/approve"),
                json!({}),
                caller,
            )
            .await
            .expect_error(403, "forbidden");
    }
    let rejected = w
        .app
        .post(
            &format!("/api/approvals/{approval}/reject"),
            json!({"reason": "  finish tomorrow  "}),
            &w.root,
        )
        .await
        .expect(200);
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["reason"], "finish tomorrow");
    assert_eq!(rejected["decided_by"]["username"], "root");
    assert_eq!(session(&w, &s).await["expires_at"], expires);
    // Decided once.
    w.app
        .post(
            &format!("/api/approvals/{approval}/approve"),
            json!({}),
            &w.root,
        )
        .await
        .expect_error(409, "conflict");
    let actions = w.app.audit_actions(&w.root).await;
    assert!(actions.contains(&"work_session.extension_requested".to_owned()));
    assert!(actions.contains(&"work_session.extension_rejected".to_owned()));

    // Asked again, and approved: the expiry moves by what was asked.
    let again = extend(&w, &s, 900, &w.mia).await.expect(202);
    let approved = w
        .app
        .post(
            &format!(
                "/api/approvals/{}/approve",
                again["approval_id"].as_str().unwrap()
            ),
            json!({}),
            &w.root,
        )
        .await
        .expect(200);
    assert_eq!(approved["status"], "approved");
    let before: chrono::DateTime<chrono::Utc> = expires.as_str().unwrap().parse().unwrap();
    let after: chrono::DateTime<chrono::Utc> = approved["work_session"]["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!((after - before).num_seconds(), 900);
    // The extension's event names the request it granted.
    let page = w
        .app
        .get("/api/audit?action=work_session.extended", &w.root)
        .await
        .expect(200);
    assert_eq!(
        page["items"][0]["details"]["approval"],
        again["approval_id"]
    );
}

#[tokio::test]
async fn the_self_extension_allowance_counts_over_the_sessions_life() {
    let w = world().await;
    w.app
        .call(
            "PATCH",
            "/api/settings",
            Some(json!({"self_extend_secs": 1800})),
            &w.root,
        )
        .await
        .expect(200);
    let s = active_session(&w).await;
    extend(&w, &s, 1200, &w.mia).await.expect(200);
    let now = extend(&w, &s, 600, &w.mia).await.expect(200);
    let before: chrono::DateTime<chrono::Utc> = s["expires_at"].as_str().unwrap().parse().unwrap();
    let after: chrono::DateTime<chrono::Utc> = now["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!((after - before).num_seconds(), 1800);
    // The allowance is spent: the next minute is a request.
    extend(&w, &s, 60, &w.mia).await.expect(202);
    // Granted ones never sat in anyone's queue.
    let queue = w
        .app
        .get("/api/approvals?status=all&kind=extension", &w.root)
        .await
        .expect(200);
    assert_eq!(queue["items"].as_array().unwrap().len(), 1, "{queue}");
}

#[tokio::test]
async fn a_pending_extension_lapses_when_its_session_ends() {
    let w = world().await;
    let s = active_session(&w).await;
    let pending = extend(&w, &s, 600, &w.mia).await.expect(202);
    let approval = pending["approval_id"].as_str().unwrap();
    w.app
        .call(
            "POST",
            &format!("/api/work-sessions/{}/complete", id(&s)),
            None,
            &w.mia,
        )
        .await
        .expect(200);
    let lapsed = w
        .app
        .get(&format!("/api/approvals/{approval}"), &w.mia)
        .await
        .expect(200);
    assert_eq!(lapsed["status"], "lapsed");
    w.app
        .post(
            &format!("/api/approvals/{approval}/approve"),
            json!({}),
            &w.root,
        )
        .await
        .expect_error(409, "conflict");
}

#[tokio::test]
async fn new_work_sessions_are_in_the_same_queue_and_bad_queries_are_refused() {
    let w = world().await;
    let s = w.app.request_session(&w.mia, &["websh"], &["web-01"]).await;
    let queue = w
        .app
        .get("/api/approvals?kind=work_session", &w.root)
        .await
        .expect(200);
    assert_eq!(queue["items"][0]["id"], s["id"]);
    assert_eq!(queue["items"][0]["kind"], "work_session");
    let approved = w
        .app
        .post(
            &format!("/api/approvals/{}/approve", id(&s)),
            json!({}),
            &w.root,
        )
        .await
        .expect(200);
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["work_session"]["status"], "approved");
    let queue = w.app.get("/api/approvals", &w.root).await.expect(200);
    assert_eq!(queue["items"], json!([]));

    for bad in [
        "/api/approvals?status=waiting",
        "/api/approvals?kind=everything",
        "/api/approvals?work_session=nope",
    ] {
        w.app
            .get(bad, &w.root)
            .await
            .expect_error(400, "validation_error");
    }
    // A malformed id names nothing, as everywhere in the API.
    w.app
        .get("/api/approvals/not-a-uuid", &w.root)
        .await
        .expect_error(404, "not_found");
    let unknown = uuid_like();
    w.app
        .get(&format!("/api/approvals/{unknown}"), &w.root)
        .await
        .expect_error(404, "not_found");
    w.app
        .post(
            &format!("/api/approvals/{unknown}/reject"),
            json!({}),
            &w.root,
        )
        .await
        .expect_error(404, "not_found");
    w.app
        .get("/api/approvals", &Caller::default())
        .await
        .expect_error(401, "unauthenticated");
}

fn uuid_like() -> String {
    "00000000-0000-4000-8000-000000000000".to_owned()
}
