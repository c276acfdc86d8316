//! Step-up MFA for root: with `require_mfa_for_root` (the default) a root exec, terminal or file
//! operation by a signed-in person needs a code proved within `mfa_timeout_secs` (401
//! `mfa_step_up_required` naming `gate mfa verify`; 403 `mfa_enrolment_required` without TOTP),
//! allowed after `POST /api/auth/mfa/verify`; `sudo_mfa_waiver` waives it only for commands that
//! match the session's declared root commands; other accounts never need it.

mod common;

use common::elevation::{age_mfa, audit, enrol, exec_root, fresh_code, session, settings, setup};
use serde_json::json;

#[tokio::test]
async fn root_exec_needs_a_fresh_code_and_works_after_verify() {
    let (app, root, mia) = setup().await;
    session(
        &app,
        &root,
        &mia,
        &["command", "websh", "webftp", "sudo"],
        &[],
    )
    .await;

    // No TOTP at all: told to enrol.
    let err = exec_root(&app, &mia, "id -un", json!({}))
        .await
        .expect_error(403, "mfa_enrolment_required");
    assert!(
        err["message"].as_str().unwrap().contains("Account page"),
        "{err}"
    );

    let secret = enrol(&app, &mia).await;
    age_mfa(&app, &mia).await;
    let err = exec_root(&app, &mia, "id -un", json!({}))
        .await
        .expect_error(401, "mfa_step_up_required");
    assert_eq!(err["next_actions"][0], "gate mfa verify", "{err}");
    // A root terminal and a root file listing ask the same.
    app.post(
        "/api/websh",
        json!({"server": "web-01", "cols": 80, "rows": 24, "user": "root"}),
        &mia,
    )
    .await
    .expect_error(401, "mfa_step_up_required");
    app.get("/api/files/web-01/list?path=/&user=root", &mia)
        .await
        .expect_error(401, "mfa_step_up_required");
    // Not as root: no step-up (the server has no agent, so the run itself fails later).
    let own = app
        .post(
            "/api/exec",
            json!({"servers": ["web-01"], "command": "id -un"}),
            &mia,
        )
        .await
        .expect(201);
    assert_eq!(own["runs"][0]["server"], "web-01");
    // Each refusal is a gate denial on the audit log.
    let denials = audit(&app, &root, "gate.denied").await;
    assert!(
        denials
            .iter()
            .filter(|d| d["details"]["error_code"] == "mfa_step_up_required")
            .count()
            >= 2,
        "{denials:?}"
    );
    assert!(denials.iter().any(|d| d["details"]["command"] == "id -un"));

    // A wrong code changes nothing; a right one lets it through.
    app.post("/api/auth/mfa/verify", json!({"otp": "000000"}), &mia)
        .await
        .expect_error(400, "validation_error");
    exec_root(&app, &mia, "id -un", json!({}))
        .await
        .expect_error(401, "mfa_step_up_required");
    app.post(
        "/api/auth/mfa/verify",
        json!({"otp": fresh_code(&secret)}),
        &mia,
    )
    .await
    .expect(200);
    let job = exec_root(&app, &mia, "id -un", json!({})).await.expect(201);
    assert!(job["id"].is_string(), "{job}");
}

#[tokio::test]
async fn the_waiver_covers_only_declared_commands_and_the_setting_can_be_off() {
    let (app, root, mia) = setup().await;
    session(
        &app,
        &root,
        &mia,
        &["command", "websh"],
        &["systemctl restart nginx"],
    )
    .await;
    enrol(&app, &mia).await;
    age_mfa(&app, &mia).await;
    settings(&app, &root, json!({"sudo_mfa_waiver": true})).await;

    // A declared command is waived; anything else still needs the code first.
    exec_root(&app, &mia, "systemctl restart nginx", json!({}))
        .await
        .expect(201);
    exec_root(&app, &mia, "systemctl stop nginx", json!({}))
        .await
        .expect_error(401, "mfa_step_up_required");
    // Asking for an approval does not skip the step-up: nobody proves a code when it runs.
    exec_root(
        &app,
        &mia,
        "systemctl stop nginx",
        json!({"request_approval": true}),
    )
    .await
    .expect_error(401, "mfa_step_up_required");
    // A terminal is never waived.
    app.post(
        "/api/websh",
        json!({"server": "web-01", "cols": 80, "rows": 24, "user": "root"}),
        &mia,
    )
    .await
    .expect_error(401, "mfa_step_up_required");

    // With the rule off, root needs no code (the declared commands still hold).
    settings(
        &app,
        &root,
        json!({"sudo_mfa_waiver": false, "require_mfa_for_root": false}),
    )
    .await;
    exec_root(&app, &mia, "systemctl restart nginx", json!({}))
        .await
        .expect(201);
    exec_root(&app, &mia, "systemctl stop nginx", json!({}))
        .await
        .expect_error(403, "sudo_command_not_allowed");
}
