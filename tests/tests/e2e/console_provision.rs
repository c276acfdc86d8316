//! A new member's first day, in the browser, on a root agent that provisions accounts: their
//! first terminal and their first upload run as their own account, created on first use (a
//! locked-password account that joins the ordinary groups the server entry names, never a system
//! group), checked in the shell (`id -un`, `id -Gn`) and on disk (the file's owner).

use crate::console::Console;
use crate::new_member;
use fantoccini::key::Key;
use gatehouse_e2e::browser::run_ui_test;
use gatehouse_e2e::{eventually, shell_user, uid_of, Api};
use gatehouse_shared::server::UpdateServer;
use serde_json::json;
use std::os::unix::fs::MetadataExt;
use std::process::Command;
use std::time::Duration;

/// Removes what the test made on this machine (the account, its home, the group), whatever
/// happens to the test.
struct MachineGuard {
    account: String,
    group: String,
}

impl Drop for MachineGuard {
    fn drop(&mut self) {
        let _ = Command::new("pkill")
            .args(["-KILL", "-u", &self.account])
            .status();
        let _ = Command::new("userdel").args(["-r", &self.account]).status();
        let _ = Command::new("groupdel").arg(&self.group).status();
    }
}

#[tokio::test]
async fn console_new_member_works_as_their_own_provisioned_account() {
    // Never skipped: creating server accounts needs root, so the tests run as root (as CI does).
    assert!(
        shell_user().is_some(),
        "this test needs root: creating server accounts needs root"
    );
    let cx = Console::start_with(&[], &["web-01"], &["--provision-users"]).await;
    let tag = format!("{:x}", std::process::id());
    let group = format!("gh-devs-{tag}");
    let username = format!("newbie{tag}");
    let guard = MachineGuard {
        account: username.clone(),
        group: group.clone(),
    };
    let made = Command::new("groupadd")
        .arg(&group)
        .status()
        .expect("groupadd");
    assert!(made.success(), "groupadd {group}");
    assert_eq!(
        uid_of(&guard.account),
        None,
        "the account must not exist yet"
    );

    // The server entry names an ordinary group and a system one; only the first is joined.
    let ops = &cx.api().client;
    let servers = ops.servers(None).await.expect("the servers");
    let server_id = servers.items[0].id;
    let groups = UpdateServer {
        provision_groups: Some(vec![group.clone(), "users".to_owned()]),
        ..UpdateServer::default()
    };
    ops.update_server(server_id, &groups)
        .await
        .expect("the server entry changed");
    let user = ops
        .create_user(&new_member(&username))
        .await
        .expect("a new member");
    assert_eq!(user.unix_user, username);
    cx.grant(&username, "web-01").await;
    let member_api = Api::login(&cx.server.base, &username).await;
    let id = cx
        .active_session_of(&member_api, "first day", &["websh", "webftp"])
        .await
        .id;

    let upload = tempfile::tempdir().expect("tempdir");
    let local = upload.path().join("notes.txt");
    std::fs::write(&local, b"day one\n").expect("write the file to upload");

    let browser = cx.signed_in(&username).await;
    run_ui_test(
        "console_new_member_works_as_their_own_provisioned_account",
        &cx.driver,
        async {
            // The session page says whom they will be, with nothing to type.
            browser.goto(&format!("/sessions/{id}")).await;
            browser
                .wait_text(
                    "[data-testid=run-as-note]",
                    &format!("your own account, {username}"),
                )
                .await;
            browser
                .click("[data-testid=open-websh][data-server=web-01]")
                .await;
            browser
                .wait_for("[data-testid=terminal][data-state=open]")
                .await;
            browser.wait_terminal_prompt().await;
            browser
                .type_in_terminal(&format!(
                    "echo me=$(id -un) in=$(id -Gn | tr ' ' ,){}",
                    char::from(Key::Enter)
                ))
                .await;
            let line = eventually("id in the terminal", Duration::from_secs(15), || async {
                browser
                    .terminal_lines()
                    .await
                    .into_iter()
                    .find(|l| l.trim_start().starts_with("me="))
            })
            .await;
            assert!(line.contains(&format!("me={username}")), "{line}");
            assert!(
                line.contains(&group),
                "joined the server entry's group: {line}"
            );
            assert!(
                !line.split(['=', ',', ' ']).any(|g| g == "users"),
                "a system group is never joined: {line}"
            );
            let uid = uid_of(&username).expect("the account exists now");
            assert!(uid >= 1000, "a person's account: uid {uid}");

            // Files, as the same account: an upload lands in their home, owned by them.
            browser.goto(&format!("/sessions/{id}")).await;
            browser
                .click("[data-testid=open-files][data-server=web-01]")
                .await;
            browser.wait_path("/files").await;
            let home = format!("/home/{username}");
            browser
                .fill_and_enter("[data-testid=path-form] input[name=path]", &home)
                .await;
            let input = browser
                .wait_for("input[type=file][data-testid=upload-input]")
                .await;
            input
                .send_keys(&local.display().to_string())
                .await
                .expect("choose the file");
            browser
                .wait_for("[data-testid=upload-row][data-state=done]")
                .await;
            let landed = std::path::Path::new(&home).join("notes.txt");
            let meta = std::fs::metadata(&landed).expect("the uploaded file");
            assert_eq!(meta.uid(), uid, "the upload is the member's own file");
            assert_eq!(std::fs::read(&landed).expect("read"), b"day one\n");
        },
    )
    .await;

    // Created once, audited with the group it joined.
    let created = cx.api().audit("agent.user_provisioned").await;
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0].target.as_deref(), Some(username.as_str()));
    assert_eq!(created[0].details["groups"], json!([group]));
    drop(guard);
}
