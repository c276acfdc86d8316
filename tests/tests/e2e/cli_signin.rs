//! `gate` signed in as a person (a CLI sign-in, `ghs_…`), not with a token: the device flow
//! approved or denied in the console, `--password` with the one-time code asked for, throttled
//! wrong passwords (exit 5), work sessions a sign-in needs, token rules granted by a superuser
//! through gate, and signing out ending the sign-in on the server.

use crate::cli_sessions::CREATE;
use crate::{api_token, refused, Fixture};
use gatehouse_e2e::browser::{enrol_totp, totp_code, totp_step_now};
use gatehouse_e2e::gate::Gate;
use gatehouse_e2e::{bearer_client, PASSWORD};
use gatehouse_shared::signin::DeviceDecision;
use serde_json::json;

/// `gate login --password -u USER` with the password (and more lines) on stdin.
async fn password_login(
    gate: &Gate,
    fx: &Fixture,
    user: &str,
    lines: &str,
) -> gatehouse_e2e::gate::Run {
    gate.run_stdin(&["login", &fx.server.base, "--password", "-u", user], lines)
        .await
}

#[tokio::test]
async fn the_device_flow_signs_in_once_approved_in_the_console_and_a_denial_is_exit_6() {
    let fx = Fixture::start(&[]).await;
    let gate = Gate::new();
    let (waiting, line) = gate
        .start_until(
            &["login", &fx.server.base, "--no-browser"],
            "shows the code",
        )
        .await;
    let code = line
        .split_whitespace()
        .last()
        .expect("a user code")
        .to_owned();
    fx.api
        .client
        .decide_device(&DeviceDecision {
            user_code: code,
            approve: true,
        })
        .await
        .expect("approved");
    let signed_in = waiting.finish().await;
    assert_eq!(signed_in.code, 0, "{signed_in:?}");
    let profile = &gate.config()["profiles"]["default"];
    assert_eq!(profile["kind"], "cli");
    assert!(
        profile["credential"].as_str().unwrap().starts_with("ghs_"),
        "{profile}"
    );
    let me = gate.run(&["--json", "whoami"]).await;
    assert_eq!(me.code, 0, "{me:?}");
    assert_eq!(me.json()["auth_method"], "cli");
    assert_eq!(me.json()["work_session_required"], true);

    let denied_gate = Gate::new();
    let (waiting, line) = denied_gate
        .start_until(
            &["login", &fx.server.base, "--no-browser"],
            "shows the code",
        )
        .await;
    let code = line.split_whitespace().last().unwrap().to_owned();
    fx.api
        .client
        .decide_device(&DeviceDecision {
            user_code: code,
            approve: false,
        })
        .await
        .expect("denied");
    let denied = waiting.finish().await;
    assert_eq!(denied.code, 6, "{denied:?}");
    assert!(!denied_gate.config_file().exists());
}

#[tokio::test]
async fn a_password_sign_in_asks_for_the_code_needs_sessions_and_logout_ends_it() {
    let fx = Fixture::start(&["web-01"]).await;
    let (totp, enrolled) = enrol_totp(&fx.api).await;
    let gate = Gate::new();
    // Each code works once: sign in with a later step's than the enrolment's.
    let step = totp_step_now().max(enrolled + 1);
    let login = password_login(
        &gate,
        &fx,
        "ops",
        &format!("{PASSWORD}\n{}\n", totp_code(&totp, step)),
    )
    .await;
    assert_eq!(login.code, 0, "{login:?}");
    let secret = gate.config()["profiles"]["default"]["credential"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(secret.starts_with("ghs_"));

    // A sign-in needs a work session: the refusal's next action is a gate command.
    let mut exec = vec!["--json", "exec"];
    if let Some(user) = gatehouse_e2e::shell_user() {
        exec.extend(["-u", user]);
    }
    exec.extend(["web-01", "--", "echo", "hi"]);
    let denied = gate.run(&exec).await;
    assert_eq!(denied.code, 3, "{denied:?}");
    let error = denied.error_json();
    assert_eq!(error["error_code"], "work_session_required");
    assert!(error["next_actions"][0]
        .as_str()
        .unwrap()
        .starts_with("gate work-session create"));
    // A superuser's own request is approved at once; --use makes it this sign-in's session.
    let created = gate.run(&[CREATE, &["--use"]].concat()).await;
    assert_eq!(created.code, 0, "{created:?}");
    let ran = gate.run(&exec[1..]).await;
    assert_eq!(ran.code, 0, "{ran:?}");
    assert_eq!(ran.stdout, "hi\n");

    // Signing out ends the sign-in on the server, not only here.
    let logout = gate.run(&["logout"]).await;
    assert_eq!(logout.code, 0, "{logout:?}");
    let signed_out = bearer_client(&fx.server.base, Some(&secret));
    assert_eq!(refused(signed_out.whoami().await).status, 401);
}

#[tokio::test]
async fn wrong_passwords_are_throttled_and_gate_says_busy_with_exit_5() {
    let fx = Fixture::start(&[]).await;
    let gate = Gate::new();
    let mut codes = Vec::new();
    for _ in 0..50 {
        let run = password_login(&gate, &fx, "ops", "not the password\n").await;
        codes.push(run.code);
        if run.code == 5 {
            assert!(run.stderr.contains("retry after"), "{run:?}");
            break;
        }
        assert_eq!(run.code, 1, "{run:?}");
    }
    assert_eq!(codes.last(), Some(&5), "never throttled: {codes:?}");
    let busy = gate
        .run_stdin(
            &[
                "--json",
                "login",
                &fx.server.base,
                "--password",
                "-u",
                "ops",
            ],
            "x\n",
        )
        .await;
    assert_eq!(busy.code, 5, "{busy:?}");
    let error = busy.error_json();
    assert_eq!(error["error_code"], "rate_limited");
    assert!(error["retry_after_secs"].as_u64().unwrap() >= 1);
    assert!(!gate.config_file().exists());
}

#[tokio::test]
async fn a_superuser_signed_in_with_gate_grants_and_removes_token_rules() {
    let fx = Fixture::start(&[]).await;
    let (_, token_id) = api_token(&fx.api, "ci-deploy").await;
    let token = token_id.to_string();
    let gate = Gate::new();
    let login = password_login(&gate, &fx, "ops", &format!("{PASSWORD}\n")).await;
    assert_eq!(login.code, 0, "{login:?}");

    let add = gate
        .run(&["token", "acl", "servers", "add", "ci-deploy", "web-*"])
        .await;
    assert_eq!(add.code, 0, "{add:?}");
    let rule = add.stdout.trim().to_owned();
    let add = gate
        .run(&[
            "token",
            "acl",
            "commands",
            "add",
            &token,
            "systemctl restart app",
            "-u",
            "*",
        ])
        .await;
    assert_eq!(add.code, 0, "{add:?}");
    let ls = gate
        .run(&["--json", "token", "acl", "servers", "ls", &token])
        .await;
    assert_eq!(ls.json(), json!([{"id": rule, "pattern": "web-*"}]));
    let rm = gate
        .run(&["token", "acl", "servers", "rm", "ci-deploy", &rule])
        .await;
    assert_eq!(rm.code, 0, "{rm:?}");
    let acl = fx.api.client.token_acl(token_id).await.expect("the ACL");
    assert!(acl.servers.is_empty(), "{acl:?}");
    assert_eq!(acl.commands[0].command, "systemctl restart app");
}
