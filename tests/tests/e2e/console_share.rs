//! A shared terminal in two browsers: the owner shares a read-only link from the console, a
//! guest with no account joins it by URL and password (after one wrong password), watches the
//! owner's output live while their own keystrokes never reach the shell, shows up in the owner's
//! participants, and sees the link end within seconds of the owner revoking it.

use crate::console::Console;
use fantoccini::key::Key;
use gatehouse_e2e::browser::{run_ui_test, Browser};
use gatehouse_e2e::shell_user;
use std::time::{Duration, Instant};

/// How soon a guest's page must show that its link was revoked.
const REVOKE_SHOWN_WITHIN: Duration = Duration::from_secs(5);

/// Joins with `password`, trying again (when the button allows it) while the server asks to
/// wait: the wrong password before it starts the link's backoff.
async fn join_after_backoff(guest: &Browser, password: &str) {
    guest.fill("#join-password", password).await;
    for _ in 0..5 {
        guest.click("#join-submit").await;
        // Either the terminal, or the server's "wait", after which the button is enabled again.
        let outcome = gatehouse_e2e::eventually(
            "the join to be answered",
            gatehouse_e2e::browser::WAIT,
            || async {
                if guest.find("#join-readonly-badge").await.is_some() {
                    return Some(true);
                }
                // Any other refusal never turns into this, and times out below.
                guest
                    .find("#join-error[data-error-code=rate_limited]")
                    .await?;
                guest
                    .find("#join-submit:not([disabled])")
                    .await
                    .map(|_| false)
            },
        )
        .await;
        if outcome {
            return;
        }
    }
    panic!("the join was still rate limited after five tries");
}

#[tokio::test]
async fn console_share_read_only_link_joined_then_revoked() {
    let cx = Console::start(&[], &["web-01"]).await;
    let session = cx.session("e2e: share", &["websh"], &["web-01"]).await;
    let id = session.id;
    cx.activate(id).await;
    let owner = cx.signed_in("ops").await;
    // No account and no cookie: a browser of its own that never signs in.
    let guest = cx.browser().await;
    run_ui_test(
        "console_share_read_only_link_joined_then_revoked",
        &cx.driver,
        async {
            let mut websh = format!("/websh?server=web-01&session={id}");
            if let Some(user) = shell_user() {
                websh.push_str(&format!("&user={user}"));
            }
            owner.goto(&websh).await;
            owner
                .wait_for("[data-testid=terminal][data-state=open]")
                .await;

            // A read-only link (the default), for 15 minutes.
            owner.click("#share-button").await;
            assert!(
                owner.is_checked("#share-read-only").await,
                "read-only starts ticked"
            );
            owner.select("#share-expiry", "900").await;
            owner.click("#share-create").await;
            let url = owner.text("#share-url").await;
            let password = owner.text("#share-password").await;
            assert!(!password.trim().is_empty(), "no password shown");
            owner.wait_count(".share-row[data-state=active]", 1).await;
            let link = url::Url::parse(url.trim()).unwrap_or_else(|e| panic!("{url:?}: {e}"));
            assert_eq!(link.path(), "/join", "share url {url}");
            let secret = link.fragment().expect("the secret in the fragment");
            assert!(!secret.is_empty(), "share url {url}");

            // The guest opens the link: nothing about the terminal shows before joining.
            guest.goto(&format!("/join#{secret}")).await;
            guest.wait_for("#join-password").await;
            // Not sent to sign in: a guest has no account.
            assert_eq!(guest.current_url().await.path(), "/join");
            assert_eq!(guest.count("[data-testid=guest-banner]").await, 0);
            guest.fill("#join-name", "carol").await;
            guest.fill("#join-password", "not the password").await;
            guest.click("#join-submit").await;
            let text = guest
                .text("#join-error[data-error-code=unauthenticated]")
                .await;
            assert!(text.contains("wrong password"), "join error {text:?}");
            join_after_backoff(&guest, password.trim()).await;
            guest
                .wait_for("[data-testid=terminal][data-state=open]")
                .await;
            guest
                .wait_text("[data-testid=guest-banner]", "web-01")
                .await;
            guest.wait_text("[data-testid=guest-banner]", "ops").await;

            // The owner sees the guest among the participants.
            owner
                .wait_text(".participant[data-role=guest]", "carol")
                .await;

            // The owner's output reaches the guest live.
            let enter = char::from(Key::Enter);
            owner
                .type_in_terminal(&format!("echo shared-$((6*7)){enter}"))
                .await;
            owner.wait_terminal_line("shared-42").await;
            guest.wait_terminal_line("shared-42").await;
            owner.doc_screenshot("share-owner.png").await;
            guest.doc_screenshot("share-guest.png").await;

            // The guest's keystrokes do not reach the shell: the owner's next command runs on
            // a clean line, and nothing of the guest's shows anywhere.
            guest
                .type_in_terminal(&format!("echo guest-$((5*5)){enter}"))
                .await;
            owner
                .type_in_terminal(&format!("echo after-$((2*3)){enter}"))
                .await;
            owner.wait_terminal_line("after-6").await;
            guest.wait_terminal_line("after-6").await;
            for (who, browser) in [("owner", &owner), ("guest", &guest)] {
                let lines = browser.terminal_lines().await;
                assert!(
                    !lines.iter().any(|l| l.contains("guest-")),
                    "the guest's input reached the shell ({who} sees {lines:?})"
                );
            }

            // Revoking the link ends the guest's view within seconds; the owner's stays.
            owner
                .click(".share-row[data-state=active] .share-revoke")
                .await;
            let revoked_at = Instant::now();
            let ended = "[data-testid=terminal-ended][data-reason=link-ended]";
            guest.wait_for_within(ended, REVOKE_SHOWN_WITHIN).await;
            let text = guest.text(ended).await;
            assert!(
                text.to_lowercase().contains("link"),
                "terminal-ended says {text:?}"
            );
            eprintln!(
                "the guest saw the revocation after {:?}",
                revoked_at.elapsed()
            );
            guest
                .wait_for("[data-testid=terminal][data-state=ended]")
                .await;
            owner.wait_for(".share-row[data-state=revoked]").await;
            owner.wait_gone(".participant[data-role=guest]").await;
            owner
                .wait_for("[data-testid=terminal][data-state=open]")
                .await;

            // The revoked link cannot be joined again; the server's words are shown.
            guest.client.refresh().await.expect("reload the join page");
            guest.fill("#join-password", password.trim()).await;
            guest.click("#join-submit").await;
            guest
                .wait_text("#join-error[data-error-code=not_found]", "revoked")
                .await;
        },
    )
    .await;
}
