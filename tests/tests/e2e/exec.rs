//! One command across two agents, each with its own exit code, behind the gate.

use crate::Fixture;
use serde_json::json;

#[tokio::test]
async fn exec_fans_out_and_reports_each_exit_code() {
    let fx = Fixture::start(&["web-01", "web-02"]).await;
    fx.session(&["command", "sudo"], &["web-01", "web-02"])
        .await;
    // Both agents share this machine: the first to create the marker exits 0, the other 5. The
    // commands run as the caller's own account, so the marker's directory is open to it.
    let markers = fx.dir.path().join("markers");
    std::fs::create_dir(&markers).unwrap();
    std::fs::set_permissions(
        &markers,
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let marker = markers.join("taken");
    let command = format!(
        "echo out-$((40+2)); echo err-line >&2; mkdir {} 2>/dev/null && exit 0 || exit 5",
        marker.display()
    );
    let job = fx
        .api
        .post(
            "/api/exec?wait=true",
            json!({"servers": ["web-01", "web-02"], "command": command, "timeout_secs": 30}),
        )
        .await;
    let runs = job["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    let mut codes: Vec<i64> = runs
        .iter()
        .map(|r| r["exit_code"].as_i64().unwrap())
        .collect();
    codes.sort();
    assert_eq!(codes, [0, 5]);
    for run in runs {
        assert_eq!(run["stdout"], "out-42\n");
        assert_eq!(run["stderr"], "err-line\n");
        assert!(run["duration_ms"].as_u64().is_some());
        let expected = if run["exit_code"] == 0 {
            "succeeded"
        } else {
            "failed"
        };
        assert_eq!(run["status"], expected);
    }
    let again = fx
        .api
        .get(&format!("/api/exec/{}", job["id"].as_str().unwrap()))
        .await;
    assert_eq!(again, job);

    // A timeout kills the command and says so.
    let slow = fx
        .api
        .post(
            "/api/exec?wait=true",
            json!({"servers": ["web-01"], "command": "sleep 30", "timeout_secs": 1}),
        )
        .await;
    assert_eq!(slow["runs"][0]["status"], "timed_out");

    // A server outside the session: nothing runs at all.
    let (status, body) = fx
        .api
        .call(
            reqwest::Method::POST,
            "/api/exec",
            Some(json!({"servers": ["web-01", "db-09"], "command": "true"})),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(body["error_code"], "work_session_server_not_allowed");

    // Run-as another user: a root agent drops privileges in the child; an unprivileged one says
    // clearly that it cannot.
    let as_nobody = fx
        .api
        .post(
            "/api/exec?wait=true",
            json!({"servers": ["web-01"], "command": "id -un", "user": "nobody"}),
        )
        .await;
    let run = &as_nobody["runs"][0];
    let agent_is_root = gatehouse_e2e::is_root();
    if agent_is_root {
        assert_eq!(run["stdout"], "nobody\n", "{run}");
    } else {
        assert_eq!(run["status"], "error");
        assert!(
            run["error"].as_str().unwrap().contains("can only run as"),
            "{run}"
        );
    }

    let audit = fx.api.get("/api/audit?action=exec.run&limit=500").await;
    assert_eq!(audit["total"], 4);
}
