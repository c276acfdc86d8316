//! Root in a work session with declared root commands, against a real root agent: a declared
//! command runs as root, another is refused, and one approved by a superuser runs once, as
//! root, with its output kept for the requester.

use crate::Fixture;
use gatehouse_e2e::{eventually, Api, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

/// A member granted web-01 with an approved, selected session declaring `sudo` commands.
async fn member(fx: &Fixture, username: &str, sudo: &[&str]) -> Api {
    let user = fx
        .api
        .post(
            "/api/users",
            json!({"username": username, "password": PASSWORD, "role": "member"}),
        )
        .await;
    let id = user["id"].as_str().expect("user id");
    let (status, body) = fx
        .api
        .call(
            Method::POST,
            &format!("/api/users/{id}/servers"),
            Some(json!({"pattern": "web-01"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let member = Api::login(&fx.server.base, username).await;
    let session = member
        .post(
            "/api/work-sessions",
            json!({"purpose": "restart", "scopes": ["command"], "servers": ["web-01"],
                   "duration_secs": 3600, "sudo_commands": sudo}),
        )
        .await;
    assert_eq!(session["scopes"], json!(["command", "sudo"]), "{session}");
    let sid = session["id"].as_str().expect("session id");
    fx.api
        .post(&format!("/api/work-sessions/{sid}/approve"), json!({}))
        .await;
    member
        .post(&format!("/api/work-sessions/{sid}/use"), json!({}))
        .await;
    member
}

async fn exec_root(api: &Api, command: &str, extra: Value) -> (u16, Value) {
    let mut body = json!({"servers": ["web-01"], "command": command, "user": "root",
                          "timeout_secs": 30});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    api.call(Method::POST, "/api/exec?wait=true", Some(body))
        .await
}

#[tokio::test]
async fn declared_root_commands_run_and_an_approved_one_runs_once() {
    // Never skipped: run the tests as root (as CI does), since running as root needs the agent to run as root.
    assert!(
        gatehouse_e2e::is_root(),
        "this test needs root: running as root needs the agent to run as root"
    );
    let fx = Fixture::start(&["web-01"]).await;
    // Step-up has its own tests; here root needs no code.
    let (status, body) = fx
        .api
        .call(
            Method::PATCH,
            "/api/settings",
            Some(json!({"require_mfa_for_root": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mia = member(&fx, "mia", &["id -un"]).await;

    let (status, job) = exec_root(&mia, "id -un", json!({})).await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(job["runs"][0]["stdout"], "root\n", "{job}");

    let (status, refused) = exec_root(&mia, "id -u", json!({})).await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["error_code"], "sudo_command_not_allowed");

    // With standard input it could not wait: it would run when approved, with nobody attached.
    let (status, body) = exec_root(
        &mia,
        "id -u",
        json!({"request_approval": true, "stdin": true}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["fields"][0]["field"], "request_approval", "{body}");

    let (status, pending) = exec_root(&mia, "id -u", json!({"request_approval": true})).await;
    assert_eq!(status, 202, "{pending}");
    assert_eq!(pending["exit_code"], 4);
    let approval = pending["approval_id"].as_str().unwrap().to_owned();
    // Nothing ran while it waits.
    let started = fx.api.get("/api/audit?action=exec.started&limit=500").await;
    assert_eq!(started["total"], 1, "{started}");

    let decided = fx
        .api
        .post(&format!("/api/approvals/{approval}/approve"), json!({}))
        .await;
    assert_eq!(decided["status"], "approved", "{decided}");
    let job = decided["command"]["exec_job"].as_str().unwrap().to_owned();
    let ran = eventually(
        "the approved command's end",
        Duration::from_secs(30),
        || {
            let (mia, job) = (&mia, &job);
            async move {
                let got = mia.get(&format!("/api/exec/{job}")).await;
                (got["runs"][0]["status"] != "running").then_some(got)
            }
        },
    )
    .await;
    assert_eq!(ran["runs"][0]["status"], "succeeded", "{ran}");
    assert_eq!(ran["runs"][0]["stdout"], "0\n", "{ran}");
    // Approving again runs nothing.
    let (status, again) = fx
        .api
        .call(
            Method::POST,
            &format!("/api/approvals/{approval}/approve"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 409, "{again}");
    let started = fx.api.get("/api/audit?action=exec.started&limit=500").await;
    assert_eq!(started["total"], 2, "{started}");
    let view = mia.get(&format!("/api/approvals/{approval}")).await;
    assert_eq!(view["command"]["exec_job"], job.as_str(), "{view}");
}
