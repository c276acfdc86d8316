//! The command page: one command on two servers of the active work session, each server's
//! output, exit code and duration shown as its run ends, and nothing offered without a session
//! that allows commands.

use crate::console::Console;
use gatehouse_e2e::browser::run_ui_test;

#[tokio::test]
async fn console_exec_runs_one_command_on_two_servers() {
    let cx = Console::start(&[], &["web-01", "web-02"]).await;
    let browser = cx.signed_in("ops").await;
    run_ui_test(
        "console_exec_runs_one_command_on_two_servers",
        &cx.driver,
        async {
            // No work session yet: the page says what is needed instead of a form.
            browser.goto("/exec").await;
            browser.wait_for("[data-testid=exec-needs-session]").await;
            assert_eq!(browser.count("[data-testid=exec-form]").await, 0);

            let s = cx
                .session("check disk", &["command"], &["web-01", "web-02"])
                .await;
            let id = s.id;
            cx.activate(id).await;
            // The browser's own sign-in selects it.
            browser.goto(&format!("/sessions/{id}")).await;
            browser.click("button[data-action=use]").await;
            browser.wait_gone("button[data-action=use]").await;
            browser.goto("/exec").await;
            browser.wait_for("[data-testid=exec-form]").await;
            for server in ["web-01", "web-02"] {
                assert!(
                    browser
                        .is_checked(&format!("input[name=server][value={server}]"))
                        .await,
                    "{server} starts chosen"
                );
            }
            if let Some(user) = gatehouse_e2e::shell_user() {
                browser.fill("input[name=run_as]", user).await;
            }
            browser
                .fill(
                    "input[name=command]",
                    "echo out-$((6*7)); echo err-line >&2; exit 3",
                )
                .await;
            browser.click("button[data-action=run]").await;
            for server in ["web-01", "web-02"] {
                let run = format!("[data-testid=exec-run][data-server={server}]");
                browser
                    .wait_for(&format!("{run}[data-status=failed]"))
                    .await;
                let text = browser.text(&run).await;
                assert!(text.contains("exit 3"), "{server}: {text}");
                assert_eq!(
                    browser.text(&format!("{run} [data-testid=stdout]")).await,
                    "out-42"
                );
                assert_eq!(
                    browser.text(&format!("{run} [data-testid=stderr]")).await,
                    "err-line"
                );
            }
            // The same job through the API.
            let job_id = browser.attrs("[data-testid=exec-runs]", "data-job").await;
            let job = cx
                .api()
                .client
                .exec_job(job_id[0].parse().expect("a job id"))
                .await
                .expect("the job");
            assert_eq!(job.runs.len(), 2, "{job:?}");
            let audit = cx.api().audit("exec.started").await;
            assert_eq!(audit.len(), 1, "{audit:?}");
        },
    )
    .await;
}
