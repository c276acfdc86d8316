//! Every work-session endpoint, for every role and transition, allowed and refused.

mod common;

use chrono::{Duration, Utc};
use common::{id, Caller, TestApp};
use serde_json::{json, Value};
use std::time::Instant;

struct World {
    app: TestApp,
    root: Caller,
    boss: Caller,
    staff: Caller,
    mia: Caller,
    max: Caller,
}

/// Two superusers, a staff member, two members; web-* granted to mia and max, db-01 to nobody.
async fn world() -> World {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let boss = app.user(&root, "boss", "superuser").await;
    let staff = app.user(&root, "stu", "staff").await;
    let mia = app.user(&root, "mia", "member").await;
    let max = app.user(&root, "max", "member").await;
    for name in ["web-01", "web-02", "db-01"] {
        app.server(&root, name).await;
    }
    app.grant(&root, "web", "web-*", &["mia", "max"]).await;
    World {
        app,
        root,
        boss,
        staff,
        mia,
        max,
    }
}

fn path(session: &Value, action: &str) -> String {
    format!("/api/work-sessions/{}/{action}", id(session))
}

#[tokio::test]
async fn member_request_is_approved_narrowed_then_activated_used_and_completed() {
    let w = world().await;
    let s = w
        .app
        .request_session(&w.mia, &["websh", "webftp"], &["web-01", "web-02"])
        .await;
    assert_eq!(s["status"], "pending");
    assert!(
        s["expires_at"].is_null(),
        "a duration window starts at activation"
    );

    // Nobody but a superuser decides.
    for caller in [&w.mia, &w.staff] {
        w.app
            .post(&path(&s, "approve"), json!({}), caller)
            .await
            .expect_error(403, "forbidden");
    }
    // Another member learns nothing either: deciding is refused by role before any lookup,
    // so the answer is the same 403 whether the session exists or not.
    w.app
        .post(&path(&s, "approve"), json!({}), &w.max)
        .await
        .expect_error(403, "forbidden");
    let unknown = format!("/api/work-sessions/{}/approve", uuid::Uuid::new_v4());
    w.app
        .post(&unknown, json!({}), &w.max)
        .await
        .expect_error(403, "forbidden");
    // Widening is refused.
    w.app
        .post(
            &path(&s, "approve"),
            json!({"scopes": ["websh", "sudo"]}),
            &w.root,
        )
        .await
        .expect_error(400, "validation_error");
    w.app
        .post(&path(&s, "approve"), json!({"servers": ["db-01"]}), &w.root)
        .await
        .expect_error(400, "validation_error");
    let approved = w
        .app
        .post(
            &path(&s, "approve"),
            json!({"scopes": ["websh"], "servers": ["web-01"], "reason": "websh only"}),
            &w.root,
        )
        .await
        .expect(200);
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["scopes"], json!(["websh"]));
    assert_eq!(approved["servers"].as_array().unwrap().len(), 1);
    assert_eq!(approved["adjustments"]["scopes_removed"], json!(["webftp"]));
    assert_eq!(
        approved["adjustments"]["servers_removed"],
        json!(["web-02"])
    );
    assert_eq!(approved["approved_by"]["username"], "root");
    w.app
        .post(&path(&s, "approve"), json!({}), &w.boss)
        .await
        .expect_error(409, "invalid_transition");

    // Only the assignee activates; the clock starts now.
    w.app
        .call("POST", &path(&s, "activate"), None, &w.max)
        .await
        .expect_error(404, "not_found");
    w.app
        .call("POST", &path(&s, "activate"), None, &w.staff)
        .await
        .expect_error(403, "forbidden");
    let active = w
        .app
        .call("POST", &path(&s, "activate"), None, &w.mia)
        .await
        .expect(200);
    assert_eq!(active["status"], "active");
    let activated: chrono::DateTime<Utc> =
        active["activated_at"].as_str().unwrap().parse().unwrap();
    let expires: chrono::DateTime<Utc> = active["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires - activated, Duration::hours(1));

    let used = w
        .app
        .call("POST", &path(&s, "use"), None, &w.mia)
        .await
        .expect(200);
    assert_eq!(used["id"], s["id"]);
    let who = w.app.get("/api/auth/whoami", &w.mia).await.expect(200);
    assert_eq!(who["active_work_session"]["id"], s["id"]);

    // Extending past the approved window is a request an approver decides (nothing is
    // self-extensible by default); beyond the maximum it is refused outright, never queued.
    let pending = w
        .app
        .post(&path(&s, "extend"), json!({"duration_secs": 1800}), &w.mia)
        .await
        .expect(202);
    assert_eq!(pending["status"], "pending_approval");
    assert_eq!(pending["exit_code"], 4);
    let approval = pending["approval_id"].as_str().unwrap();
    let decided = w
        .app
        .post(
            &format!("/api/approvals/{approval}/approve"),
            json!({}),
            &w.root,
        )
        .await
        .expect(200);
    assert_eq!(decided["status"], "approved");
    assert_eq!(decided["work_session"]["duration_secs"], 5400);
    w.app
        .post(
            &path(&s, "extend"),
            json!({"duration_secs": 24 * 3600}),
            &w.mia,
        )
        .await
        .expect_error(400, "validation_error");
    w.app
        .post(&path(&s, "extend"), json!({}), &w.mia)
        .await
        .expect_error(400, "validation_error");
    w.app
        .post(&path(&s, "extend"), json!({"duration_secs": 60}), &w.max)
        .await
        .expect_error(404, "not_found");

    let done = w
        .app
        .call("POST", &path(&s, "complete"), None, &w.mia)
        .await
        .expect(200);
    assert_eq!(done["status"], "completed");
    for action in [
        "approve", "reject", "revoke", "cancel", "activate", "complete",
    ] {
        w.app
            .call("POST", &path(&s, action), None, &w.root)
            .await
            .expect_error(409, "invalid_transition");
    }

    let timeline = w.app.get(&path(&s, "timeline"), &w.mia).await.expect(200);
    let kinds: Vec<&str> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "work_session.requested",
            "work_session.approved",
            "work_session.activated",
            "work_session.extension_requested",
            "work_session.extended",
            "work_session.completed"
        ]
    );
    assert_eq!(timeline["items"][1]["actor"], "root");
    assert_eq!(
        timeline["items"][1]["details"]["adjustments"]["scopes_removed"],
        json!(["webftp"])
    );
}

#[tokio::test]
async fn superuser_requests_are_approved_automatically_and_cannot_be_self_approved() {
    let w = world().await;
    let own = w
        .app
        .request_session(&w.boss, &["command"], &["db-01"])
        .await;
    assert_eq!(own["status"], "approved");
    assert_eq!(own["approved_by"]["username"], "boss");

    // A staff request for the boss stays pending, and the boss may not approve it himself.
    let for_boss = w
        .app
        .post(
            "/api/work-sessions",
            json!({"purpose": "db upgrade", "scopes": ["command"], "servers": ["db-01"], "duration_secs": 600, "assignee": "boss"}),
            &w.staff,
        )
        .await
        .expect(201);
    assert_eq!(for_boss["status"], "pending");
    assert_eq!(for_boss["assignee"]["username"], "boss");
    w.app
        .post(&path(&for_boss, "approve"), json!({}), &w.boss)
        .await
        .expect_error(403, "forbidden");
    w.app
        .post(&path(&for_boss, "approve"), json!({}), &w.root)
        .await
        .expect(200);

    // Members request only for themselves.
    w.app
        .post(
            "/api/work-sessions",
            json!({"purpose": "x", "scopes": ["websh"], "servers": ["web-01"], "duration_secs": 600, "assignee": "max"}),
            &w.mia,
        )
        .await
        .expect_error(403, "forbidden");
}

#[tokio::test]
async fn members_request_only_granted_servers_and_see_only_their_sessions() {
    let w = world().await;
    w.app
        .post("/api/work-sessions", json!({"purpose": "peek", "scopes": ["websh"], "servers": ["db-01"], "duration_secs": 600}), &w.mia)
        .await
        .expect_error(403, "forbidden");
    w.app
        .post("/api/work-sessions", json!({"purpose": "peek", "scopes": ["websh"], "servers": ["nope-01"], "duration_secs": 600}), &w.mia)
        .await
        .expect_error(403, "forbidden");
    let before = w
        .app
        .get("/api/work-sessions?status=all", &w.root)
        .await
        .expect(200);
    assert_eq!(before["total"], 0, "refused requests leave nothing behind");

    let mine = w.app.request_session(&w.mia, &["websh"], &["web-01"]).await;
    w.app
        .get(&format!("/api/work-sessions/{}", id(&mine)), &w.max)
        .await
        .expect_error(404, "not_found");
    w.app
        .get(&path(&mine, "timeline"), &w.max)
        .await
        .expect_error(404, "not_found");
    w.app
        .call("POST", &path(&mine, "cancel"), None, &w.max)
        .await
        .expect_error(404, "not_found");
    w.app
        .get(&format!("/api/work-sessions/{}", id(&mine)), &w.staff)
        .await
        .expect(200);
    let maxs = w
        .app
        .get("/api/work-sessions?status=all", &w.max)
        .await
        .expect(200);
    assert_eq!(maxs["total"], 0);
    let maxs_all = w
        .app
        .get("/api/work-sessions?status=all&user=mia", &w.max)
        .await
        .expect(200);
    assert_eq!(
        maxs_all["total"], 0,
        "a member cannot list another member's sessions"
    );

    // Cancel: the requester, while pending.
    let cancelled = w
        .app
        .call("POST", &path(&mine, "cancel"), None, &w.mia)
        .await
        .expect(200);
    assert_eq!(cancelled["status"], "cancelled");
    let again = w.app.request_session(&w.mia, &["websh"], &["web-01"]).await;
    let rejected = w
        .app
        .post(
            &path(&again, "reject"),
            json!({"reason": "not today"}),
            &w.root,
        )
        .await
        .expect(200);
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["decision_reason"], "not today");
    w.app
        .call("POST", &path(&again, "use"), None, &w.mia)
        .await
        .expect_error(409, "invalid_transition");
}

#[tokio::test]
async fn revoke_is_for_superusers_and_ends_the_session() {
    let w = world().await;
    let s = w
        .app
        .request_session(&w.mia, &["command"], &["web-01"])
        .await;
    w.app
        .post(&path(&s, "revoke"), json!({}), &w.root)
        .await
        .expect_error(409, "invalid_transition");
    w.app
        .post(&path(&s, "approve"), json!({}), &w.root)
        .await
        .expect(200);
    w.app
        .call("POST", &path(&s, "use"), None, &w.mia)
        .await
        .expect(200);
    let mut changes = w.app.state.session_changes.subscribe();
    w.app
        .post(&path(&s, "revoke"), json!({}), &w.mia)
        .await
        .expect_error(403, "forbidden");
    w.app
        .post(&path(&s, "revoke"), json!({}), &w.staff)
        .await
        .expect_error(403, "forbidden");
    let revoked = w
        .app
        .post(
            &path(&s, "revoke"),
            json!({"reason": "incident closed"}),
            &w.boss,
        )
        .await
        .expect(200);
    assert_eq!(revoked["status"], "revoked");
    // Live channels learn of it by push.
    let change = changes.recv().await.unwrap();
    assert_eq!(change.id.to_string(), id(&s));
    assert_eq!(change.status, gatehouse_shared::Status::Revoked);
    w.app
        .post(
            "/api/gate/check",
            json!({"scope": "command", "server": "web-01"}),
            &w.mia,
        )
        .await
        .expect_error(403, "work_session_not_usable");
}

#[tokio::test]
async fn the_scheduler_expires_sessions_within_a_second_and_starts_scheduled_ones() {
    let w = world().await;
    let expires_at = Utc::now() + Duration::seconds(2);
    let s = w
        .app
        .post(
            "/api/work-sessions",
            json!({"purpose": "quick look", "scopes": ["websh"], "servers": ["web-01"], "expires_at": expires_at}),
            &w.mia,
        )
        .await
        .expect(201);
    w.app
        .post(&path(&s, "approve"), json!({}), &w.root)
        .await
        .expect(200);
    w.app
        .call("POST", &path(&s, "use"), None, &w.mia)
        .await
        .expect(200);

    let starts_at = Utc::now() + Duration::seconds(1);
    let later = w
        .app
        .post(
            "/api/work-sessions",
            json!({"purpose": "scheduled", "scopes": ["websh"], "servers": ["web-02"], "duration_secs": 600, "starts_at": starts_at}),
            &w.mia,
        )
        .await
        .expect(201);
    w.app
        .post(&path(&later, "approve"), json!({}), &w.root)
        .await
        .expect(200);
    w.app
        .call("POST", &path(&later, "activate"), None, &w.mia)
        .await
        .expect_error(409, "invalid_transition");

    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    let mut changes = w.app.state.session_changes.subscribe();
    let mut expired = None;
    let mut started = false;
    while (expired.is_none() || !started) && Instant::now() < deadline {
        let _ = tokio::time::timeout(std::time::Duration::from_millis(500), changes.recv()).await;
        let a = w
            .app
            .get(&format!("/api/work-sessions/{}", id(&s)), &w.mia)
            .await
            .expect(200);
        if a["status"] == "expired" {
            expired = Some(a);
        }
        let b = w
            .app
            .get(&format!("/api/work-sessions/{}", id(&later)), &w.mia)
            .await
            .expect(200);
        started = b["status"] == "active";
    }
    let expired = expired.expect("the session expired");
    assert!(started, "the scheduled session started by itself");
    let ended: chrono::DateTime<Utc> = expired["ended_at"].as_str().unwrap().parse().unwrap();
    let lag = ended - expires_at;
    assert!(
        lag >= Duration::zero() && lag < Duration::seconds(1),
        "expired {lag} after expires_at"
    );
    w.app
        .post(
            "/api/gate/check",
            json!({"scope": "websh", "server": "web-01"}),
            &w.mia,
        )
        .await
        .expect_error(403, "work_session_expired");
    let timeline = w.app.get(&path(&s, "timeline"), &w.mia).await.expect(200);
    let items = timeline["items"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds[kinds.len() - 2..],
        ["work_session.expired", "gate.denied"]
    );
    assert_eq!(items[kinds.len() - 2]["actor"], "system");
    assert_eq!(
        items[kinds.len() - 1]["details"]["error_code"],
        "work_session_expired"
    );
}

#[tokio::test]
async fn request_validation_reports_each_field() {
    let w = world().await;
    let r = w
        .app
        .post(
            "/api/work-sessions",
            json!({"purpose": "  ", "scopes": [], "servers": [], "duration_secs": 5}),
            &w.mia,
        )
        .await
        .expect_error(400, "validation_error");
    let fields: Vec<&str> = r["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["purpose", "scopes", "servers", "duration_secs"]);
    w.app
        .post(
            "/api/work-sessions",
            json!({"purpose": "p", "scopes": ["websh"], "servers": ["web-01"], "duration_secs": 600, "expires_at": Utc::now() + Duration::hours(1)}),
            &w.mia,
        )
        .await
        .expect_error(400, "validation_error");
    w.app
        .post("/api/work-sessions", json!({"purpose": "p", "scopes": ["root"], "servers": ["web-01"], "duration_secs": 600}), &w.mia)
        .await
        .expect_error(400, "validation_error");
    w.app
        .post(
            "/api/work-sessions",
            json!({"purpose": "p", "scopes": ["websh"], "servers": ["web-01"], "expires_at": Utc::now() + Duration::hours(25)}),
            &w.mia,
        )
        .await
        .expect_error(400, "validation_error");
    // A start time in the past is refused at its field, not quietly moved to now.
    let r = w
        .app
        .post(
            "/api/work-sessions",
            json!({"purpose": "p", "scopes": ["websh"], "servers": ["web-01"], "duration_secs": 600,
                   "starts_at": Utc::now() - Duration::hours(2)}),
            &w.mia,
        )
        .await
        .expect_error(400, "validation_error");
    assert_eq!(r["fields"][0]["field"], "starts_at", "{r}");
    assert!(r["fields"][0]["message"].as_str().unwrap().contains("past"));
}

#[tokio::test]
async fn the_list_filters_by_every_field_and_pages_with_a_cursor() {
    let w = world().await;
    let a = w.app.request_session(&w.mia, &["websh"], &["web-01"]).await;
    let b = w
        .app
        .post(
            "/api/work-sessions",
            json!({"purpose": "rotate 100% of logs_now", "scopes": ["webftp", "command"], "servers": ["web-02"], "duration_secs": 600}),
            &w.max,
        )
        .await
        .expect(201);
    let c = w
        .app
        .request_session(&w.boss, &["command"], &["db-01"])
        .await; // auto-approved
    w.app
        .post(&path(&a, "approve"), json!({}), &w.root)
        .await
        .expect(200);
    w.app
        .call("POST", &path(&a, "activate"), None, &w.mia)
        .await
        .expect(200);

    let ids = |v: Value| -> Vec<String> { v["items"].as_array().unwrap().iter().map(id).collect() };
    let (app, root) = (&w.app, &w.root);
    let get = move |q: &str| {
        let url = format!("/api/work-sessions?{q}");
        async move { app.get(&url, root).await }
    };

    assert_eq!(
        ids(get("").await.expect(200)),
        [id(&a)],
        "default: active only"
    );
    assert_eq!(
        ids(get("status=all").await.expect(200)),
        [id(&c), id(&b), id(&a)],
        "newest first"
    );
    assert_eq!(
        ids(get("status=pending,approved").await.expect(200)),
        [id(&c), id(&b)]
    );
    assert_eq!(ids(get("status=all&user=max").await.expect(200)), [id(&b)]);
    assert_eq!(
        ids(w
            .app
            .get("/api/work-sessions?status=all&user=me", &w.mia)
            .await
            .expect(200)),
        [id(&a)]
    );
    assert_eq!(
        ids(get("status=all&server=web-02").await.expect(200)),
        [id(&b)]
    );
    assert_eq!(
        ids(get("status=all&scope=command").await.expect(200)),
        [id(&c), id(&b)]
    );
    assert_eq!(
        ids(get("status=all&q=100%25%20of").await.expect(200)),
        [id(&b)]
    );
    assert_eq!(
        ids(get("status=all&q=_").await.expect(200)),
        [id(&b)],
        "LIKE wildcards match literally"
    );
    assert_eq!(ids(get("status=all&q=%25").await.expect(200)), [id(&b)]);
    let future = (Utc::now() + Duration::hours(1))
        .to_rfc3339()
        .replace('+', "%2B");
    assert_eq!(
        get(&format!("status=all&from={future}")).await.expect(200)["total"],
        0
    );
    assert_eq!(
        get(&format!("status=all&to={future}")).await.expect(200)["total"],
        3
    );

    let first = get("status=all&limit=2").await.expect(200);
    assert_eq!(first["total"], 3);
    assert_eq!(ids(first.clone()), [id(&c), id(&b)]);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = get(&format!("status=all&limit=2&cursor={cursor}"))
        .await
        .expect(200);
    assert_eq!(ids(second.clone()), [id(&a)]);
    assert!(second["next_cursor"].is_null());

    get("status=bogus")
        .await
        .expect_error(400, "validation_error");
    get("scope=root")
        .await
        .expect_error(400, "validation_error");
    assert_eq!(
        get("status=all&scope=&from=&to=&server=&q=")
            .await
            .expect(200)["total"],
        3,
        "empty filters are no filters"
    );
    get("cursor=garbage")
        .await
        .expect_error(400, "validation_error");
    get("user=nobody")
        .await
        .expect_error(400, "validation_error");
    get("from=yesterday")
        .await
        .expect_error(400, "validation_error");
    assert_eq!(get("status=all&limit=100000").await.expect(200)["total"], 3);
}

#[tokio::test]
async fn extend_by_absolute_expiry_and_by_a_superuser() {
    let w = world().await;
    let expires_at = Utc::now() + Duration::hours(1);
    let s = w
        .app
        .post(
            "/api/work-sessions",
            json!({"purpose": "window", "scopes": ["websh"], "servers": ["web-01"], "expires_at": expires_at}),
            &w.mia,
        )
        .await
        .expect(201);
    w.app
        .post(&path(&s, "approve"), json!({}), &w.root)
        .await
        .expect(200);
    let later = expires_at + Duration::hours(2);
    let extended = w
        .app
        .post(&path(&s, "extend"), json!({"expires_at": later}), &w.root)
        .await
        .expect(200);
    let got: chrono::DateTime<Utc> = extended["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(got.timestamp(), later.timestamp());
    // Moving the expiry earlier is not an extension.
    w.app
        .post(
            &path(&s, "extend"),
            json!({"expires_at": expires_at}),
            &w.mia,
        )
        .await
        .expect_error(400, "validation_error");
    w.app
        .post(
            &path(&s, "extend"),
            json!({"duration_secs": 60, "expires_at": later}),
            &w.mia,
        )
        .await
        .expect_error(400, "validation_error");
    w.app
        .post(&path(&s, "extend"), json!({"duration_secs": 60}), &w.staff)
        .await
        .expect_error(403, "forbidden");
}
