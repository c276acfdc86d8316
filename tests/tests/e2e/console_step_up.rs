//! Step-up in place for a root terminal, against a real root agent: a member whose sign-in never
//! proved a code asks for a root terminal, the console asks for the code right there (and no
//! terminal opens without it), and with a valid code the terminal opens as root.

use crate::console::Console;
use crate::session_request;
use fantoccini::key::Key;
use gatehouse_e2e::browser::{enrol_totp, run_ui_test, totp_code, totp_step_now};
use gatehouse_e2e::Api;
use gatehouse_shared::work_session::CreateWorkSession;
use gatehouse_shared::WorkSessionId;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

/// A console whose member `mia` (signed in through the API) holds an active session of `scope`
/// and `sudo` on web-01 that declared a lone `*`, so root is hers once she proves a code.
async fn mia_with_root_session(purpose: &str, scope: &str) -> (Console, Api, WorkSessionId) {
    let cx = Console::start(&[("mia", "member")], &["web-01"]).await;
    cx.grant("mia", "web-01").await;
    let mia = Api::login(&cx.server.base, "mia").await;
    let request = CreateWorkSession {
        purpose: purpose.to_owned(),
        sudo_commands: vec!["*".to_owned()],
        ..session_request(&[scope, "sudo"], &["web-01"])
    };
    let id = cx.active_session(&mia, &request).await.id;
    (cx, mia, id)
}

#[tokio::test]
async fn console_root_terminal_asks_for_a_code_in_place_then_opens_as_root() {
    // Never skipped: run the tests as root (as CI does), since a root terminal needs the agent to run as root.
    assert!(
        gatehouse_e2e::is_root(),
        "this test needs root: a root terminal needs the agent to run as root"
    );
    let (cx, mia, id) = mia_with_root_session("fix the disk", "websh").await;

    // Signed in before enrolling: this sign-in has never proved a code.
    let member = cx.signed_in("mia").await;
    let (secret, confirm_step) = enrol_totp(&mia).await;

    run_ui_test(
        "console_root_terminal_asks_for_a_code_in_place_then_opens_as_root",
        &cx.driver,
        async {
            member
                .goto(&format!("/websh?server=web-01&session={id}&user=root"))
                .await;
            let prompt = "[data-testid=step-up]";
            member.wait_for(&format!("{prompt} input[name=otp]")).await;
            // Without the code nothing opened: no tab, no terminal, none live on the gateway.
            assert_eq!(member.count("[data-testid=terminal-tab]").await, 0);
            assert_eq!(member.count("[data-testid=terminal]").await, 0);
            let live = mia.client.live_terminals().await.expect("live terminals");
            assert!(live.items.is_empty(), "{live:?}");

            // A wrong code is said at the field, and still nothing opens.
            member
                .fill_and_enter(&format!("{prompt} input[name=otp]"), "12345x")
                .await;
            member
                .wait_text(
                    &format!("{prompt} .field-error[data-field=otp]"),
                    "not right",
                )
                .await;
            assert_eq!(member.count("[data-testid=terminal-tab]").await, 0);

            let step = (confirm_step + 1).max(totp_step_now());
            member
                .fill_and_enter(
                    &format!("{prompt} input[name=otp]"),
                    &totp_code(&secret, step),
                )
                .await;
            member
                .wait_for("[data-testid=terminal][data-state=open]")
                .await;
            member.wait_gone(prompt).await;
            assert_eq!(member.count("[data-testid=terminal-tab]").await, 1);
            let tab = member.text("[data-testid=terminal-tab]").await;
            assert!(tab.contains("root@web-01"), "{tab}");

            member.wait_terminal_prompt().await;
            member
                .type_in_terminal(&format!("id -u{}", char::from(Key::Enter)))
                .await;
            member.wait_terminal_line("0").await;
            let live = mia.client.live_terminals().await.expect("live terminals");
            assert_eq!(live.items[0].run_as.as_deref(), Some("root"), "{live:?}");
        },
    )
    .await;
}

#[tokio::test]
async fn console_files_as_root_ask_for_a_code_in_place_then_list_and_upload() {
    // Never skipped: run the tests as root (as CI does), since files as root need a root agent.
    assert!(
        gatehouse_e2e::is_root(),
        "this test needs root: files as root need the agent to run as root"
    );
    let (cx, mia, id) = mia_with_root_session("read root's notes", "webftp").await;
    // A folder only root reads.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("notes.txt"), "root only\n").expect("write");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let local = tempfile::tempdir().expect("tempdir");
    let upload = local.path().join("from-mia.txt");
    std::fs::write(&upload, "uploaded as root\n").expect("write");

    let member = cx.signed_in("mia").await;
    let (secret, confirm_step) = enrol_totp(&mia).await;

    run_ui_test(
        "console_files_as_root_ask_for_a_code_in_place_then_list_and_upload",
        &cx.driver,
        async {
            member
                .goto(&format!(
                    "/files?server=web-01&session={id}&user=root&path={}",
                    dir.path().display()
                ))
                .await;
            let prompt = "[data-testid=step-up]";
            member.wait_for(&format!("{prompt} input[name=otp]")).await;
            assert_eq!(member.count("[data-testid=file-row]").await, 0);
            let step = (confirm_step + 1).max(totp_step_now());
            member
                .fill_and_enter(
                    &format!("{prompt} input[name=otp]"),
                    &totp_code(&secret, step),
                )
                .await;
            member
                .wait_for("[data-testid=file-row][data-name='notes.txt']")
                .await;
            member.wait_gone(prompt).await;
            // Proved just now: an upload goes straight through, written as root.
            member
                .wait_for("input[type=file][data-testid=upload-input]")
                .await
                .send_keys(&upload.display().to_string())
                .await
                .expect("choose the file");
            member
                .wait_for("[data-testid=upload-row][data-name='from-mia.txt'][data-state=done]")
                .await;
            let written = dir.path().join("from-mia.txt");
            assert_eq!(
                std::fs::read_to_string(&written).expect("uploaded"),
                "uploaded as root\n"
            );
            assert_eq!(written.metadata().expect("stat").uid(), 0);
        },
    )
    .await;
}
