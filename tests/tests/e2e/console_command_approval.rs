//! A root command outside the session's declared ones, from the exec page: refused, asked for
//! with "Ask for approval", shown waiting; a superuser approves it from the queue, where it is
//! shown exactly as asked; the member's page then shows its output. Against a real root agent.

use crate::console::Console;
use crate::session_request;
use gatehouse_e2e::browser::run_ui_test;
use gatehouse_e2e::Api;
use gatehouse_shared::approval::ApprovalStatus;
use gatehouse_shared::settings::SettingsPatch;
use gatehouse_shared::work_session::CreateWorkSession;

#[tokio::test]
async fn console_root_command_is_approved_from_the_queue_and_its_output_shown() {
    // Never skipped: run the tests as root (as CI does), since running as root needs the agent to run as root.
    assert!(
        gatehouse_e2e::is_root(),
        "this test needs root: running as root needs the agent to run as root"
    );
    let cx = Console::start(&[("mia", "member")], &["web-01"]).await;
    // The step-up has its own test; here root needs no code.
    cx.api()
        .update_settings(SettingsPatch {
            require_mfa_for_root: Some(false),
            ..SettingsPatch::default()
        })
        .await;
    cx.grant("mia", "web-01").await;
    let mia = Api::login(&cx.server.base, "mia").await;
    let request = CreateWorkSession {
        purpose: "check services".to_owned(),
        sudo_commands: vec!["systemctl status *".to_owned()],
        ..session_request(&["command"], &["web-01"])
    };
    let id = cx.active_session(&mia, &request).await.id;

    let member = cx.signed_in("mia").await;
    let approver = cx.signed_in("ops").await;
    run_ui_test(
        "console_root_command_is_approved_from_the_queue_and_its_output_shown",
        &cx.driver,
        async {
            // The browser's own sign-in selects the session.
            member.goto(&format!("/sessions/{id}")).await;
            member.click("button[data-action=use]").await;
            member.wait_gone("button[data-action=use]").await;
            member.goto("/exec").await;
            member.wait_for("[data-testid=exec-form]").await;
            member.fill("input[name=command]", "id -u").await;
            member.fill("input[name=run_as]", "root").await;
            member.click("button[data-action=run]").await;
            member
                .wait_for("[data-error-code=sudo_command_not_allowed]")
                .await;
            member.wait_for("[data-testid=ask-approval]").await;
            assert_eq!(member.count("[data-testid=exec-runs]").await, 0);

            member.click("button[data-action=request-approval]").await;
            let pending = "[data-testid=command-approval][data-status=pending]";
            member.wait_for(pending).await;
            let approval = member.attrs(pending, "data-id").await.remove(0);
            let words = member.text(pending).await;
            assert!(words.contains("Waiting for an approver"), "{words}");
            assert_eq!(member.count("[data-testid=ask-approval]").await, 0);
            // Nothing ran while it waits.
            let started = cx.api().audit("exec.started").await;
            assert!(started.is_empty(), "{started:?}");

            approver.goto("/approvals").await;
            let card =
                format!("[data-testid=approval-card][data-kind=command][data-id='{approval}']");
            approver.wait_for(&card).await;
            assert_eq!(
                approver
                    .text(&format!("{card} [data-testid=command-argv]"))
                    .await,
                "id -u"
            );
            assert_eq!(
                approver
                    .text(&format!("{card} [data-testid=command-user]"))
                    .await,
                "root"
            );
            assert_eq!(
                approver
                    .text(&format!("{card} [data-testid=command-servers]"))
                    .await,
                "web-01"
            );
            let head = approver.text(&format!("{card} header")).await;
            assert!(head.contains("mia"), "{head}");
            assert!(head.contains("check services"), "{head}");
            approver
                .click(&format!("{card} button[data-action=approve-extension]"))
                .await;
            approver.wait_gone(&card).await;

            // The member's page follows the approval to the command's output.
            member
                .wait_for("[data-testid=command-approval][data-status=approved]")
                .await;
            let run = "[data-testid=exec-run][data-server=web-01][data-status=succeeded]";
            member.wait_for(run).await;
            assert_eq!(
                member
                    .text(&format!("{run} [data-testid=stdout]"))
                    .await
                    .trim(),
                "0"
            );
            let view = mia
                .client
                .approval(approval.parse().expect("an approval id"))
                .await
                .expect("the approval");
            assert_eq!(view.status, ApprovalStatus::Approved, "{view:?}");
            let decided_by = view.decided_by.as_ref().map(|u| u.username.as_str());
            assert_eq!(decided_by, Some("ops"), "{view:?}");
        },
    )
    .await;
}
