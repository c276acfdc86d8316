//! Terminals outlive the page that shows them: a member's shell keeps running while they look at
//! other pages and comes back in its tab, and after a reload "My terminals" re-attaches it, the
//! same shell (same process) with its earlier output replayed.

use crate::console::Console;
use fantoccini::key::Key;
use gatehouse_e2e::browser::{run_ui_test, Browser};
use gatehouse_e2e::{eventually, Api};
use std::time::Duration;

/// The shell's process id, as it prints it (`echo pid-$$` shows `pid-<n>` on a line of its own).
async fn shell_pid(browser: &Browser, round: usize) -> String {
    let marker = format!("pid{round}-");
    browser
        .type_in_terminal(&format!("echo {marker}$${}", char::from(Key::Enter)))
        .await;
    eventually("the shell's pid", Duration::from_secs(10), || async {
        browser.terminal_lines().await.into_iter().find_map(|line| {
            let rest = line.trim().strip_prefix(&marker)?;
            (!rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit())).then(|| rest.to_owned())
        })
    })
    .await
}

#[tokio::test]
async fn console_terminals_survive_navigation_and_reload() {
    let cx = Console::start(&[("mia", "member")], &["web-01"]).await;
    cx.grant("mia", "web-01").await;
    let mia = Api::login(&cx.server.base, "mia").await;
    let id = cx.active_session_of(&mia, "tail logs", &["websh"]).await.id;

    let member = cx.signed_in("mia").await;
    run_ui_test(
        "console_terminals_survive_navigation_and_reload",
        &cx.driver,
        async {
            member
                .goto(&format!("/websh?server=web-01&session={id}"))
                .await;
            member
                .wait_for("[data-testid=terminal][data-state=open]")
                .await;
            member.wait_terminal_prompt().await;
            member
                .type_in_terminal(&format!("echo marker-$((6*7)){}", char::from(Key::Enter)))
                .await;
            member.wait_terminal_line("marker-42").await;
            let pid = shell_pid(&member, 1).await;

            // Away to the sessions list and back, inside the app: the tab is still there, on the
            // same shell, with its screen.
            member.mark_page().await;
            member.click(".nav a[href='/sessions']").await;
            member.wait_for("[data-testid=session-row]").await;
            assert_eq!(member.count("[data-testid=terminal]").await, 0);
            member.click(".nav a[href='/websh']").await;
            member
                .wait_for("[data-testid=terminal][data-state=open]")
                .await;
            member.wait_terminal_line("marker-42").await;
            assert_eq!(shell_pid(&member, 2).await, pid);
            member.assert_not_reloaded().await;
            // Nothing to re-attach: the one live terminal is in its tab.
            assert_eq!(member.count("[data-testid=my-terminal]").await, 0);

            // A reload forgets the tabs, not the shell: "My terminals" offers it back.
            member.goto("/websh").await;
            member.wait_for("[data-testid=my-terminal]").await;
            assert_eq!(member.count("[data-testid=terminal]").await, 0);
            member
                .click("[data-testid=my-terminal] [data-action=attach]")
                .await;
            member
                .wait_for("[data-testid=terminal][data-state=open]")
                .await;
            member.wait_terminal_line("marker-42").await;
            assert_eq!(shell_pid(&member, 3).await, pid);
            member.wait_gone("[data-testid=my-terminal]").await;

            // One terminal all along.
            let live = mia.client.live_terminals().await.expect("live terminals");
            assert_eq!(live.items.len(), 1, "{live:?}");
        },
    )
    .await;
}
