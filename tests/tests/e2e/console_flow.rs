//! The whole work-session flow in two browsers: a member requests, a superuser narrows and
//! approves, the member opens a terminal, the superuser revokes and the terminal ends.

use crate::console::Console;
use fantoccini::key::Key;
use gatehouse_e2e::browser::run_ui_test;
use gatehouse_shared::{Scope, Status, WorkSessionId};
use std::time::{Duration, Instant};

/// How soon an open terminal must show that its work session was revoked.
const REVOKE_SHOWN_WITHIN: Duration = Duration::from_secs(5);

#[tokio::test]
async fn console_request_approve_narrow_websh_revoke() {
    let cx = Console::start(&[("alice", "member")], &["web-01"]).await;
    cx.grant("alice", "web-01").await;
    let member = cx.signed_in("alice").await;
    let approver = cx.signed_in("ops").await;
    run_ui_test(
        "console_request_approve_narrow_websh_revoke",
        &cx.driver,
        async {
            // The member requests websh + command on web-01.
            member.goto("/sessions/new").await;
            member
                .fill("textarea[name=purpose]", "e2e: restart nginx on web-01")
                .await;
            member.click("input[name=scope][value=websh]").await;
            member.click("input[name=scope][value=command]").await;
            member.click("input[name=server][value=web-01]").await;
            assert!(member.is_checked("input[name=scope][value=websh]").await);
            assert!(member.is_checked("input[name=scope][value=command]").await);
            assert!(member.is_checked("input[name=server][value=web-01]").await);
            member.click("button[type=submit]").await;
            let url = member
                .wait_url("the new session's page", |u| {
                    u.path().starts_with("/sessions/") && u.path() != "/sessions/new"
                })
                .await;
            let id: WorkSessionId = url
                .path()
                .trim_start_matches("/sessions/")
                .parse()
                .expect("a session id");
            let requested = cx.get_session(id).await;
            assert_eq!(requested.status, Status::Pending, "{requested:?}");
            assert_eq!(requested.purpose, "e2e: restart nginx on web-01");
            assert_eq!(requested.requested_by.username, "alice");
            member
                .wait_for("[data-testid=session-detail][data-status=pending]")
                .await;
            member.mark_page().await;

            // The superuser sees the request with everything ticked, narrows it, approves.
            approver.goto("/approvals").await;
            let card = format!("[data-testid=approval-card][data-id='{id}']");
            approver.wait_for(&card).await;
            // The navigation and the page title count the request waiting.
            approver.wait_text("[data-testid=pending-count]", "1").await;
            assert_eq!(
                approver.js("return document.title;", vec![]).await,
                "(1) Gatehouse"
            );
            for value in ["websh", "command"] {
                assert!(
                    approver
                        .is_checked(&format!("{card} input[name=scope][value={value}]"))
                        .await,
                    "scope {value} should start ticked"
                );
            }
            assert!(
                approver
                    .is_checked(&format!("{card} input[name=server][value=web-01]"))
                    .await
            );
            approver
                .click(&format!("{card} input[name=scope][value=command]"))
                .await;
            assert!(
                !approver
                    .is_checked(&format!("{card} input[name=scope][value=command]"))
                    .await
            );
            approver
                .click(&format!("{card} button[data-action=approve]"))
                .await;
            approver.wait_gone(&card).await;
            approver.wait_gone("[data-testid=pending-count]").await;

            // The member's page follows by itself.
            member
                .wait_for("[data-testid=session-detail][data-status=approved]")
                .await;
            member.assert_not_reloaded().await;
            let approved = cx.get_session(id).await;
            assert_eq!(approved.status, Status::Approved, "{approved:?}");
            assert_eq!(approved.scopes, [Scope::Websh], "not narrowed");
            assert_eq!(approved.servers[0].name, "web-01");
            let approved_by = approved.approved_by.as_ref().map(|u| u.username.as_str());
            assert_eq!(approved_by, Some("ops"), "{approved:?}");

            // The member activates it; the page offers a terminal on web-01.
            member.click("button[data-action=activate]").await;
            member
                .wait_for("[data-testid=session-detail][data-status=active]")
                .await;
            let link = member
                .wait_for("[data-testid=open-websh][data-server=web-01]")
                .await;
            let href = link.attr("href").await.expect("href").unwrap_or_default();
            assert!(
                href.starts_with("/websh?")
                    && href.contains("server=web-01")
                    && href.contains(&id.to_string()),
                "open-websh link: {href}"
            );
            assert_eq!(cx.get_session(id).await.status, Status::Active);

            // A terminal, as the unprivileged test user when running as root.
            let mut websh = format!("/websh?server=web-01&session={id}");
            if let Some(user) = gatehouse_e2e::shell_user() {
                websh.push_str(&format!("&user={user}"));
            }
            member.goto(&websh).await;
            member
                .wait_for("[data-testid=terminal][data-state=open]")
                .await;
            member
                .type_in_terminal(&format!("echo hello{}", char::from(Key::Enter)))
                .await;
            // The output line itself, not only the echoed command.
            member.wait_terminal_line("hello").await;
            member.doc_screenshot("websh.png").await;

            // The superuser revokes; the member's terminal says so within seconds.
            approver.goto(&format!("/sessions/{id}")).await;
            approver
                .wait_for("[data-testid=session-detail][data-status=active]")
                .await;
            approver.click("button[data-action=revoke]").await;
            approver
                .fill("input[name=reason]", "e2e: work is done")
                .await;
            approver.click("button[data-action=confirm-revoke]").await;
            let revoked_at = Instant::now();
            member
                .wait_for_within("[data-testid=terminal-ended]", REVOKE_SHOWN_WITHIN)
                .await;
            let text = member.text("[data-testid=terminal-ended]").await;
            assert!(
                text.to_lowercase().contains("revoked"),
                "terminal-ended says {text:?}"
            );
            eprintln!(
                "terminal showed the revocation after {:?}",
                revoked_at.elapsed()
            );
            member
                .wait_for("[data-testid=terminal][data-state=ended]")
                .await;
            approver
                .wait_for("[data-testid=session-detail][data-status=revoked]")
                .await;
            assert_eq!(cx.get_session(id).await.status, Status::Revoked);

            // The member's page of the session says why it ended and offers to ask again with
            // the same fields.
            member.goto(&format!("/sessions/{id}")).await;
            member
                .wait_text("[data-testid=ended-notice]", "Revoked by ops")
                .await;
            let text = member.text("[data-testid=ended-notice]").await;
            assert!(text.contains("e2e: work is done"), "ended notice: {text:?}");
            member.click("[data-testid=request-again]").await;
            member.wait_path("/sessions/new").await;
            let purpose = member
                .wait_for("textarea[name=purpose]")
                .await
                .prop("value")
                .await
                .expect("value");
            assert_eq!(purpose.as_deref(), Some("e2e: restart nginx on web-01"));
            assert!(member.is_checked("input[name=scope][value=websh]").await);
            assert!(!member.is_checked("input[name=scope][value=command]").await);
            member.wait_for("input[name=server][value=web-01]").await;
            assert!(member.is_checked("input[name=server][value=web-01]").await);
        },
    )
    .await;
}
