//! The approvals queue in the browser: a member's extension past the approved window becomes a
//! request, the approver works down the queue with the keyboard (focus follows to the next
//! request), and the member's page shows the outcome without a reload.

use crate::console::Console;
use crate::websh_session;
use fantoccini::key::Key;
use gatehouse_e2e::browser::run_ui_test;
use gatehouse_e2e::Api;
use gatehouse_shared::work_session::Status;
use std::time::Duration;

#[tokio::test]
async fn console_extension_request_is_decided_from_the_keyboard_and_the_member_sees_it() {
    let cx = Console::start(&[("mia", "member")], &[]).await;
    cx.add_server("web-01").await;
    cx.grant("mia", "web-01").await;
    let mia = Api::login(&cx.server.base, "mia").await;
    let active = cx
        .active_session_of(&mia, "patch kernels", &["websh"])
        .await;
    let id = active.id;
    let expires = active.expires_at.expect("expires_at");

    let member = cx.signed_in("mia").await;
    let approver = cx.signed_in("ops").await;
    run_ui_test(
        "console_extension_request_is_decided_from_the_keyboard_and_the_member_sees_it",
        &cx.driver,
        async {
            member.goto(&format!("/sessions/{id}")).await;
            member.select("select[name=extend_by]", "1800").await;
            member.click("[data-action=extend]").await;
            // Read by selector, not through a held element: a live update may redraw the notice.
            let text = member.text("[data-testid=pending-extension]").await;
            assert!(text.contains("waiting for an approver"), "{text}");
            assert!(text.contains("30m"), "{text}");
            // Nothing moved yet.
            assert_eq!(cx.get_session(id).await.expires_at, Some(expires));
            // A second request, newer, so the queue holds two.
            let other = mia
                .client
                .create_work_session(&websh_session("rotate certs"))
                .await
                .expect("a second request");
            let other_id = other.id;
            member.mark_page().await;

            approver.goto("/approvals").await;
            approver.wait_count("[data-testid=approval-card]", 2).await;
            let first = approver
                .attrs("[data-testid=approval-card]", "data-kind")
                .await;
            assert_eq!(first, ["extension", "work_session"]);
            let extension_card = approver
                .attrs("[data-testid=approval-card]", "data-id")
                .await[0]
                .clone();
            assert!(approver
                .text("[data-testid=extension-ask]")
                .await
                .contains("30m"));
            // j selects the first request and focuses it; a approves it.
            approver.press("j").await;
            assert_eq!(
                approver.focused_id().await,
                format!("approval-{extension_card}")
            );
            approver.press("a").await;
            approver.wait_count("[data-testid=approval-card]", 1).await;
            // Focus moved on to the request that took its place.
            let focused = format!("approval-{other_id}");
            gatehouse_e2e::eventually(
                "focus on the next request",
                Duration::from_secs(5),
                || async { (approver.focused_id().await == focused).then_some(()) },
            )
            .await;
            // r, then Enter, rejects it.
            approver.press("r").await;
            approver.wait_for("[data-action=confirm-reject]").await;
            approver.press(&char::from(Key::Enter).to_string()).await;
            approver.wait_for("[data-testid=no-approvals]").await;

            // The member's page follows: the request is gone and the expiry moved by 30 minutes.
            member.wait_gone("[data-testid=pending-extension]").await;
            member.assert_not_reloaded().await;
            let after = cx.get_session(id).await;
            let now = after.expires_at.expect("expires_at");
            assert_eq!((now - expires).num_seconds(), 1800);
            assert_eq!(cx.get_session(other_id).await.status, Status::Rejected);
        },
    )
    .await;
}
