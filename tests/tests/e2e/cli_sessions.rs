//! Work sessions through `gate`: a request is pending (exit 4); `--wait` follows the server's
//! pushes while a superuser approves (exit 0, and `--use` selects it) or rejects it (exit 6);
//! a gate denial is exit 3 with one JSON envelope on stderr and nothing on stdout; the audit
//! log read back with filters.

use crate::{api_token, Fixture};
use gatehouse_e2e::gate::Gate;
use gatehouse_shared::server::CreateServer;
use serde_json::Value;

/// A work-session request on web-01 (the other tests of `gate` sign-ins reuse it).
pub const CREATE: &[&str] = &[
    "work-session",
    "create",
    "--purpose",
    "rotate the logs",
    "--scope",
    "command",
    "--server",
    "web-01",
    "--expires-in",
    "1h",
];

/// `ops` and the member `mia` (granted web-01), each signed in to their own `gate`.
async fn people(fx: &Fixture) -> (Gate, Gate) {
    let web = CreateServer {
        name: "web-01".to_owned(),
        platform: None,
        groups: None,
    };
    fx.api.client.create_server(&web).await.expect("a server");
    let mia = fx.member("mia", "web-01").await;
    let mut gates = Vec::new();
    for api in [&fx.api, &mia] {
        let (secret, _) = api_token(api, "cli").await;
        let gate = Gate::new();
        let login = gate.run(&["login", &fx.server.base, "-t", &secret]).await;
        assert_eq!(login.code, 0, "{login:?}");
        gates.push(gate);
    }
    let mia = gates.pop().unwrap();
    (gates.pop().unwrap(), mia)
}

/// The session id in gate's "Work session ID is waiting for approval…" line.
fn id_in(line: &str) -> String {
    line.split_whitespace().nth(2).expect("an id").to_owned()
}

#[tokio::test]
async fn a_request_is_pending_then_wait_follows_the_approval_or_the_rejection() {
    let fx = Fixture::start(&[]).await;
    let (ops, mia) = people(&fx).await;

    // Without --wait: the request is made and pending (exit 4); its data is on stdout.
    let mut args = vec!["--json"];
    args.extend(CREATE);
    let pending = mia.run(&args).await;
    assert_eq!(pending.code, 4, "{pending:?}");
    let session = pending.json();
    assert_eq!(session["status"], "pending");
    let error = pending.error_json();
    assert_eq!(error["exit_code"], 4);
    assert_eq!(error["error_code"], "pending_approval");
    assert_eq!(
        error["next_actions"][0],
        format!(
            "gate work-session describe {}",
            session["id"].as_str().unwrap()
        )
    );

    // With --wait: gate follows the request while a superuser approves it.
    let mut args = CREATE.to_vec();
    args.extend(["--wait", "--use"]);
    let (waiting, line) = mia.start_until(&args, "waiting for approval").await;
    let id = id_in(&line);
    let approve = ops
        .run(&["work-session", "approve", &id, "--reason", "go"])
        .await;
    assert_eq!(approve.code, 0, "{approve:?}");
    let approved = waiting.finish().await;
    assert_eq!(approved.code, 0, "{approved:?}");
    assert!(approved.stdout.contains("approved"), "{approved:?}");
    assert_eq!(mia.config()["profiles"]["default"]["use"], id.as_str());
    // The selected session is the one later calls use: activate it without naming it.
    let active = mia.run(&["--json", "work-session", "activate"]).await;
    assert_eq!(active.code, 0, "{active:?}");
    assert_eq!(active.json()["id"], id.as_str());
    assert_eq!(active.json()["status"], "active");
    let current = mia.run(&["--json", "session", "current"]).await;
    assert_eq!(current.json()["id"], id.as_str(), "{current:?}");

    // A rejection while waiting is exit 6 (do not retry), with the reason.
    let (waiting, line) = mia
        .start_until(&[CREATE, &["--wait"]].concat(), "waiting for approval")
        .await;
    let rejected_id = id_in(&line);
    let reject = ops
        .run(&[
            "work-session",
            "reject",
            &rejected_id,
            "--reason",
            "not today",
        ])
        .await;
    assert_eq!(reject.code, 0, "{reject:?}");
    let rejected = waiting.finish().await;
    assert_eq!(rejected.code, 6, "{rejected:?}");
    assert!(rejected.stderr.contains("rejected"), "{rejected:?}");
    assert!(rejected.stderr.contains("not today"), "{rejected:?}");

    // The queue shows both decisions; waiting on a decided one answers at once.
    let queue = ops
        .run(&["--json", "approval", "ls", "--status", "all"])
        .await;
    assert_eq!(queue.code, 0, "{queue:?}");
    let queue = queue.json();
    let statuses: Vec<&str> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.contains(&"approved") && statuses.contains(&"rejected"),
        "{statuses:?}"
    );
    let decided = mia
        .run(&["approval", "describe", &rejected_id, "--wait"])
        .await;
    assert_eq!(decided.code, 6, "{decided:?}");

    // A --wait that runs out while the request is still pending is exit 4.
    let timed_out = mia
        .run(&[CREATE, &["--wait", "--wait-approval", "1s"]].concat())
        .await;
    assert_eq!(timed_out.code, 4, "{timed_out:?}");
}

#[tokio::test]
async fn a_gate_denial_is_exit_3_with_one_envelope_on_stderr_and_nothing_on_stdout() {
    let fx = Fixture::start(&[]).await;
    let (_, mia) = people(&fx).await;
    // mia's token holds no ACL rule: the gate refuses before anything runs.
    let denied = mia.run(&["--json", "exec", "web-01", "--", "true"]).await;
    assert_eq!(denied.code, 3, "{denied:?}");
    assert_eq!(denied.stdout, "");
    let error = denied.error_json();
    assert_eq!(error["ok"], false);
    assert_eq!(error["error_code"], "token_acl_denied");
    assert_eq!(error["exit_code"], 3);
    assert!(
        error["message"].as_str().unwrap().contains("web-01"),
        "{error}"
    );
    // As a table the same refusal is readable lines on stderr, still nothing on stdout.
    let denied = mia.run(&["exec", "web-01", "--", "true"]).await;
    assert_eq!(denied.code, 3, "{denied:?}");
    assert_eq!(denied.stdout, "");
    assert!(
        denied.stderr.contains("token_acl_denied (exit 3)"),
        "{denied:?}"
    );
}

#[tokio::test]
async fn the_audit_log_reads_back_with_filters_verifies_and_exports() {
    let fx = Fixture::start(&[]).await;
    let (ops, mia) = people(&fx).await;
    let created = mia.run(&[&["--json"], CREATE].concat()).await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let other = mia.run(&[&["--json"], CREATE].concat()).await;
    assert_eq!(other.code, 4, "{other:?}");

    let events = |run: gatehouse_e2e::gate::Run| -> Vec<Value> {
        assert_eq!(run.code, 0, "{run:?}");
        run.json().as_array().expect("a list").clone()
    };
    let by_mia = events(
        ops.run(&[
            "--json",
            "audit",
            "--user",
            "mia",
            "--action",
            "work_session.*",
        ])
        .await,
    );
    assert_eq!(by_mia.len(), 2, "{by_mia:?}");
    assert!(
        by_mia
            .iter()
            .all(|e| e["actor"] == "mia"
                && e["action"].as_str().unwrap().starts_with("work_session."))
    );
    let of_one = events(ops.run(&["--json", "audit", "--work-session", &id]).await);
    assert!(!of_one.is_empty());
    assert!(
        of_one.iter().all(|e| e["work_session"] == id.as_str()),
        "{of_one:?}"
    );
    let last = events(ops.run(&["--json", "audit", "--tail", "1"]).await);
    assert_eq!(last.len(), 1);
    let all = events(ops.run(&["--json", "audit"]).await);
    assert_eq!(last[0], *all.last().unwrap(), "--tail shows the newest");
    assert!(events(ops.run(&["--json", "audit", "--since", "1h"]).await).len() == all.len());
    assert!(events(
        ops.run(&["--json", "audit", "--since", "2099-01-01T00:00:00Z"])
            .await
    )
    .is_empty());
    let table = ops
        .run(&["audit", "--user", "mia", "--action", "work_session.*"])
        .await;
    assert_eq!(table.code, 0, "{table:?}");
    assert_eq!(table.stdout.lines().count(), 3, "{table:?}");

    let verify = ops.run(&["--json", "audit", "verify"]).await;
    assert_eq!(verify.code, 0, "{verify:?}");
    assert_eq!(verify.json()["ok"], true);
    let export = ops.run(&["audit", "export"]).await;
    assert_eq!(export.code, 0, "{export:?}");
    let lines: Vec<Value> = export
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), all.len());

    // The audit log is for staff: a member is refused by the server (exit 1, not the gate's 3).
    let refused = mia.run(&["--json", "audit"]).await;
    assert_eq!(refused.code, 1, "{refused:?}");
    assert_eq!(refused.error_json()["error_code"], "forbidden");
}

#[tokio::test]
async fn an_extension_waits_for_a_superuser_and_approval_describe_wait_follows_it() {
    let fx = Fixture::start(&[]).await;
    let (ops, mia) = people(&fx).await;
    let created = mia.run(&[&["--json"], CREATE].concat()).await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(ops.run(&["work-session", "approve", &id]).await.code, 0);
    let active = mia.run(&["work-session", "activate", &id]).await;
    assert_eq!(active.code, 0, "{active:?}");

    // Past the (zero) self-extension allowance an extension is a request: exit 4, and the
    // approval to follow is on stdout.
    let extend = |by: &'static str| {
        let (mia, id) = (&mia, id.clone());
        async move {
            let run = mia
                .run(&["--json", "work-session", "extend", &id, "--by", by])
                .await;
            assert_eq!(run.code, 4, "{run:?}");
            assert_eq!(run.error_json()["exit_code"], 4);
            let pending = run.json();
            assert_eq!(pending["kind"], "extension");
            pending["approval_id"].as_str().unwrap().to_owned()
        }
    };
    let approval = extend("30m").await;
    let (waiting, _) = mia
        .start_until(
            &["approval", "describe", &approval, "--wait"],
            "waiting for a superuser",
        )
        .await;
    let approve = ops.run(&["approval", "approve", &approval]).await;
    assert_eq!(approve.code, 0, "{approve:?}");
    let approved = waiting.finish().await;
    assert_eq!(approved.code, 0, "{approved:?}");
    assert!(approved.stdout.contains("approved"), "{approved:?}");

    let approval = extend("1h").await;
    let (waiting, _) = mia
        .start_until(
            &["approval", "describe", &approval, "--wait"],
            "waiting for a superuser",
        )
        .await;
    let reject = ops
        .run(&["approval", "reject", &approval, "--reason", "enough"])
        .await;
    assert_eq!(reject.code, 0, "{reject:?}");
    let rejected = waiting.finish().await;
    assert_eq!(rejected.code, 6, "{rejected:?}");
    assert!(rejected.stderr.contains("enough"), "{rejected:?}");
}
