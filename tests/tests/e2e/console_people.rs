//! People in the console: the users table shows each person's server account and status, and an
//! admin disables a leaver whose terminal is open in another browser; the terminal ends at once
//! and the leaver cannot sign in again.

use crate::console::Console;
use crate::refused;
use fantoccini::key::Key;
use gatehouse_e2e::browser::run_ui_test;
use gatehouse_shared::Status;
use std::time::Duration;

/// How soon the leaver's open terminal must show that it ended.
const CUT_WITHIN: Duration = Duration::from_secs(5);

#[tokio::test]
async fn console_admin_disables_a_leaver_and_their_terminal_ends() {
    let cx = Console::start(&[("leo", "member")], &["web-01"]).await;
    cx.grant("leo", "web-01").await;
    let leaver = cx.signed_in("leo").await;
    let admin = cx.signed_in("ops").await;
    run_ui_test(
        "console_admin_disables_a_leaver_and_their_terminal_ends",
        &cx.driver,
        async {
            // Leo's approved, active session and an open terminal.
            let leo = gatehouse_e2e::Api::login(&cx.server.base, "leo").await;
            let id = cx.active_session_of(&leo, "last day", &["websh"]).await.id;
            let mut websh = format!("/websh?server=web-01&session={id}");
            if let Some(user) = gatehouse_e2e::shell_user() {
                websh.push_str(&format!("&user={user}"));
            }
            leaver.goto(&websh).await;
            leaver
                .wait_for("[data-testid=terminal][data-state=open]")
                .await;
            leaver
                .type_in_terminal(&format!("echo bye{}", char::from(Key::Enter)))
                .await;
            leaver.wait_terminal_line("bye").await;

            // The admin sees Leo's server account and status, and disables him after confirming.
            admin.goto("/admin").await;
            let row = "[data-testid=user-row][data-username=leo]";
            admin.wait_for(&format!("{row}[data-status=active]")).await;
            let users = cx.api().client.users(None).await.expect("the users");
            let account = users
                .items
                .into_iter()
                .find(|u| u.username == "leo")
                .map(|u| u.unix_user)
                .filter(|account| !account.is_empty())
                .expect("leo's account");
            assert!(
                admin.text(row).await.contains(&account),
                "the row names the server account {account}"
            );
            // Not offered against oneself.
            assert_eq!(
                admin
                    .count("[data-testid=user-row][data-username=ops] button[data-action=disable-user]")
                    .await,
                0
            );
            admin
                .click(&format!("{row} button[data-action=disable-user]"))
                .await;
            admin
                .wait_text(&format!("{row} [role=alert]"), "terminals end now")
                .await;
            admin
                .click(&format!("{row} button[data-action=confirm-disable-user]"))
                .await;
            admin.wait_for(&format!("{row}[data-status=disabled]")).await;

            leaver
                .wait_for_within("[data-testid=terminal-ended]", CUT_WITHIN)
                .await;
            let text = leaver
                .text("[data-testid=terminal-ended]")
                .await
                .to_lowercase();
            assert!(text.contains("revoked"), "terminal-ended says {text:?}");
            let session = cx.get_session(id).await;
            assert_eq!(session.status, Status::Revoked);
            assert_eq!(
                session.decision_reason.as_deref(),
                Some("the account was disabled by ops")
            );
            let login = refused(cx.try_login("leo", gatehouse_e2e::PASSWORD).await);
            assert_eq!(login.status, 403);
        },
    )
    .await;
}
