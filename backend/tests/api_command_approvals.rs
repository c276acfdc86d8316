//! Declared root commands and single-command approvals: a root exec must match one of the
//! session's `sudo_commands` (403 `sudo_command_not_allowed`, a gate denial), or ask with
//! `request_approval` (202, kind `command` in the queue); a superuser who is not the requester
//! decides once (409 after; two racing approvals run it once); an approval runs the command as
//! asked in the requester's session (its job readable by the requester); rejection, expiry and
//! the session ending are final. These servers have no agent, so runs end with "not connected";
//! `tests/tests/e2e/elevation.rs` runs the same against a real root agent.

mod common;

use common::elevation::{audit, exec_root, session, settings, setup};
use common::{Caller, TestApp};
use serde_json::{json, Value};

async fn ready() -> (TestApp, Caller, Caller, String) {
    let (app, root, mia) = setup().await;
    // Step-up has its own tests (api_step_up_root.rs); here it is off.
    settings(&app, &root, json!({"require_mfa_for_root": false})).await;
    let sid = session(
        &app,
        &root,
        &mia,
        &["command"],
        &["systemctl restart nginx"],
    )
    .await;
    (app, root, mia, sid)
}

async fn ask(app: &TestApp, who: &Caller, command: &str) -> String {
    let pending = exec_root(app, who, command, json!({"request_approval": true}))
        .await
        .expect(202);
    assert_eq!(pending["status"], "pending_approval", "{pending}");
    assert_eq!(pending["exit_code"], 4);
    assert_eq!(pending["kind"], "command");
    assert!(pending["next_actions"].as_array().unwrap().len() >= 2);
    pending["approval_id"].as_str().unwrap().to_owned()
}

async fn approval(app: &TestApp, who: &Caller, id: &str) -> Value {
    app.get(&format!("/api/approvals/{id}"), who)
        .await
        .expect(200)
}

#[tokio::test]
async fn root_commands_must_match_a_declared_pattern() {
    let (app, root, mia, sid) = ready().await;
    exec_root(&app, &mia, "systemctl restart nginx", json!({}))
        .await
        .expect(201);
    // As argv too.
    app.post(
        "/api/exec",
        json!({"servers": ["web-01"], "argv": ["systemctl", "restart", "nginx"], "user": "root"}),
        &mia,
    )
    .await;
    for refused in [
        "systemctl stop nginx",
        "systemctl restart nginx extra",
        "systemctl restart nginx; reboot",
        "systemctl restart $(reboot)",
    ] {
        let err = exec_root(&app, &mia, refused, json!({}))
            .await
            .expect_error(403, "sudo_command_not_allowed");
        assert_eq!(
            err["context"]["current_work_session"],
            sid.as_str(),
            "{err}"
        );
        assert!(
            err["next_actions"][0]
                .as_str()
                .unwrap()
                .starts_with("request_approval"),
            "{err}"
        );
    }
    // Other accounts are not limited by the declared root commands.
    app.post(
        "/api/exec",
        json!({"servers": ["web-01"], "command": "systemctl stop nginx"}),
        &mia,
    )
    .await
    .expect(201);
    // A root terminal needs a declared lone `*`.
    app.post(
        "/api/websh",
        json!({"server": "web-01", "cols": 80, "rows": 24, "user": "root"}),
        &mia,
    )
    .await;
    // The refusals are gate denials on the session's timeline.
    let denials = audit(&app, &root, "gate.denied").await;
    let sudo: Vec<&Value> = denials
        .iter()
        .filter(|d| d["details"]["error_code"] == "sudo_command_not_allowed")
        .collect();
    assert_eq!(sudo.len(), 4, "{denials:?}");
    assert!(sudo
        .iter()
        .any(|d| d["details"]["command"] == "systemctl stop nginx"));
    let timeline = app
        .get(&format!("/api/work-sessions/{sid}/timeline"), &mia)
        .await
        .expect(200);
    assert!(
        timeline["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "gate.denied"),
        "{timeline}"
    );
}

#[tokio::test]
async fn terminals_as_root_need_a_declared_lone_star() {
    let (app, root, mia) = setup().await;
    settings(&app, &root, json!({"require_mfa_for_root": false})).await;
    session(&app, &root, &mia, &["websh"], &["systemctl restart nginx"]).await;
    app.post(
        "/api/websh",
        json!({"server": "web-01", "cols": 80, "rows": 24, "user": "root"}),
        &mia,
    )
    .await
    .expect_error(403, "sudo_command_not_allowed");
    session(&app, &root, &mia, &["websh"], &["*"]).await;
    // Allowed by elevation; the server has no agent, so the open fails after the gate.
    app.post(
        "/api/websh",
        json!({"server": "web-01", "cols": 80, "rows": 24, "user": "root"}),
        &mia,
    )
    .await
    .expect_error(409, "conflict");
}

#[tokio::test]
async fn a_single_command_waits_then_runs_once_when_approved() {
    let (app, root, mia, sid) = ready().await;
    let id = ask(&app, &mia, "reboot").await;
    // In the queue, with exactly what was asked.
    let queue = app
        .get("/api/approvals?kind=command", &root)
        .await
        .expect(200);
    assert_eq!(queue["total"], 1, "{queue}");
    let item = &queue["items"][0];
    assert_eq!(item["id"], id.as_str());
    assert_eq!(item["kind"], "command");
    assert_eq!(item["status"], "pending");
    assert_eq!(item["command"]["command"], "reboot");
    assert_eq!(item["command"]["servers"], json!(["web-01"]));
    assert_eq!(item["command"]["user"], "root");
    assert_eq!(item["requested_by"]["username"], "mia");
    assert_eq!(item["work_session"]["id"], sid.as_str());
    assert!(item["command"].get("exec_job").is_none());
    // Not among the other kinds; the requester sees their own; another member never.
    let sessions_only = app
        .get("/api/approvals?kind=work_session", &root)
        .await
        .expect(200);
    assert_eq!(sessions_only["total"], 0, "{sessions_only}");
    assert_eq!(approval(&app, &mia, &id).await["status"], "pending");
    let max = app.user(&root, "max", "member").await;
    app.get(&format!("/api/approvals/{id}"), &max)
        .await
        .expect_error(404, "not_found");
    // The requester cannot decide it (nor any member).
    app.post(&format!("/api/approvals/{id}/approve"), json!({}), &mia)
        .await
        .expect_error(403, "forbidden");

    let decided = app
        .post(
            &format!("/api/approvals/{id}/approve"),
            json!({"reason": "ok"}),
            &root,
        )
        .await
        .expect(200);
    assert_eq!(decided["status"], "approved");
    assert_eq!(decided["decided_by"]["username"], "root");
    let job = decided["command"]["exec_job"].as_str().unwrap().to_owned();
    // The requester reads the job: it ran once, exactly as asked, on web-01 (no agent here).
    let ran = app.get(&format!("/api/exec/{job}"), &mia).await.expect(200);
    assert_eq!(ran["command"], "reboot");
    assert_eq!(ran["runs"][0]["server"], "web-01");
    assert_eq!(
        approval(&app, &mia, &id).await["command"]["exec_job"],
        job.as_str()
    );
    // Decided once: approving or rejecting again is a conflict, and nothing runs again.
    app.post(&format!("/api/approvals/{id}/approve"), json!({}), &root)
        .await
        .expect_error(409, "conflict");
    app.post(&format!("/api/approvals/{id}/reject"), json!({}), &root)
        .await
        .expect_error(409, "conflict");
    let started = audit(&app, &root, "exec.started").await;
    assert_eq!(
        started
            .iter()
            .filter(|e| e["details"]["command"] == "reboot")
            .count(),
        1
    );
    // Every step is on the session's timeline.
    let timeline = app
        .get(&format!("/api/work-sessions/{sid}/timeline"), &mia)
        .await
        .expect(200);
    let kinds: Vec<&str> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "command_approval.requested",
        "command_approval.approved",
        "exec.started",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
}

#[tokio::test]
async fn racing_approvals_run_the_command_once() {
    let (app, root, mia, _) = ready().await;
    let sue = app.user(&root, "sue", "superuser").await;
    for round in 0..5 {
        let command = format!("touch /tmp/race-{round}");
        let id = ask(&app, &mia, &command).await;
        let path = format!("/api/approvals/{id}/approve");
        let (a, b) = tokio::join!(
            app.post(&path, json!({}), &root),
            app.post(&path, json!({}), &sue)
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{} / {}", a.text, b.text);
        let started = audit(&app, &root, "exec.started").await;
        assert_eq!(
            started
                .iter()
                .filter(|e| e["details"]["command"] == command.as_str())
                .count(),
            1
        );
    }
}

#[tokio::test]
async fn a_superuser_never_approves_their_own_command() {
    let (app, root, _mia, _) = ready().await;
    session(
        &app,
        &root,
        &root,
        &["command"],
        &["systemctl restart nginx"],
    )
    .await;
    let id = ask(&app, &root, "reboot").await;
    app.post(&format!("/api/approvals/{id}/approve"), json!({}), &root)
        .await
        .expect_error(403, "forbidden");
    let sue = app.user(&root, "sue", "superuser").await;
    app.post(&format!("/api/approvals/{id}/approve"), json!({}), &sue)
        .await
        .expect(200);
}

#[tokio::test]
async fn rejection_expiry_and_a_session_ending_are_final() {
    let (app, root, mia, sid) = ready().await;
    // Rejected: final, nothing runs.
    let rejected = ask(&app, &mia, "reboot").await;
    let r = app
        .post(
            &format!("/api/approvals/{rejected}/reject"),
            json!({"reason": "no"}),
            &root,
        )
        .await
        .expect(200);
    assert_eq!(r["status"], "rejected");
    assert_eq!(r["reason"], "no");
    app.post(
        &format!("/api/approvals/{rejected}/approve"),
        json!({}),
        &root,
    )
    .await
    .expect_error(409, "conflict");
    assert!(approval(&app, &mia, &rejected).await["command"]
        .get("exec_job")
        .is_none());

    // Expired by the scheduler.
    let late = ask(&app, &mia, "shutdown -h now").await;
    let expires = approval(&app, &mia, &late).await["command"]["expires_at"].clone();
    let at = chrono::DateTime::parse_from_rfc3339(expires.as_str().unwrap()).unwrap();
    let ttl = at.timestamp() - chrono::Utc::now().timestamp();
    assert!(
        (14 * 60..=15 * 60).contains(&ttl),
        "15 minutes by default, got {ttl}s"
    );
    let past = (chrono::Utc::now() - chrono::Duration::seconds(1)).timestamp_micros();
    sqlx::query("UPDATE command_approvals SET expires_at = ? WHERE id = ?")
        .bind(past)
        .bind(&late)
        .execute(&app.raw)
        .await
        .unwrap();
    gatehouse::core::scheduler::run_due(&app.state)
        .await
        .unwrap();
    assert_eq!(approval(&app, &mia, &late).await["status"], "expired");
    app.post(&format!("/api/approvals/{late}/approve"), json!({}), &root)
        .await
        .expect_error(409, "conflict");
    // Past its time but not yet swept: deciding finds it expired all the same.
    let later = ask(&app, &mia, "halt").await;
    sqlx::query("UPDATE command_approvals SET expires_at = ? WHERE id = ?")
        .bind(past)
        .bind(&later)
        .execute(&app.raw)
        .await
        .unwrap();
    app.post(&format!("/api/approvals/{later}/approve"), json!({}), &root)
        .await
        .expect_error(409, "conflict");
    assert_eq!(approval(&app, &mia, &later).await["status"], "expired");
    assert_eq!(
        audit(&app, &root, "command_approval.expired").await.len(),
        2
    );

    // The session ends first: what waits lapses with it.
    let waiting = ask(&app, &mia, "poweroff").await;
    app.post(
        &format!("/api/work-sessions/{sid}/complete"),
        json!({}),
        &mia,
    )
    .await
    .expect(200);
    assert_eq!(approval(&app, &mia, &waiting).await["status"], "lapsed");
    app.post(
        &format!("/api/approvals/{waiting}/approve"),
        json!({}),
        &root,
    )
    .await
    .expect_error(409, "conflict");
    let started = audit(&app, &root, "exec.started").await;
    assert!(started.is_empty(), "{started:?}");
}
