//! Device sign-in with the built `gate` and the console in Chromium: `gate login` asks; the
//! person follows the link (signing in to the console on the way), sees the client's name,
//! address and code, and approves; gate's next poll gets a `cli` sign-in. The Account page lists
//! it with the browser's, and ending it there signs gate out. A code typed by hand and denied
//! makes gate exit 6.

use crate::console::Console;
use gatehouse_e2e::browser::run_ui_test;
use gatehouse_e2e::gate::{Gate, Waiting};
use gatehouse_e2e::PASSWORD;

/// `gate login --no-browser` waiting for its device sign-in to be decided, and its user code.
async fn gate_login(gate: &Gate, base: &str) -> (Waiting, String) {
    let (waiting, line) = gate
        .start_until(&["login", base, "--no-browser"], "shows the code")
        .await;
    let code = line
        .split_whitespace()
        .last()
        .expect("a user code")
        .to_owned();
    (waiting, code)
}

#[tokio::test]
async fn console_device_sign_in_is_approved_listed_and_ended_and_another_denied() {
    let cx = Console::start(&[("mia", "member")], &[]).await;
    let base = cx.server.base.clone();
    let gate = Gate::new();
    let (waiting, user_code) = gate_login(&gate, &base).await;

    let browser = cx.browser().await;
    run_ui_test(
        "console_device_sign_in_is_approved_listed_and_ended_and_another_denied",
        &cx.driver,
        async {
            // Not signed in yet: the link goes through sign-in and comes back to the request.
            browser
                .goto(&format!("/device?user_code={user_code}"))
                .await;
            browser.wait_path("/login").await;
            browser.fill("input[name=username]", "mia").await;
            browser.fill("input[name=password]", PASSWORD).await;
            browser.click("button[type=submit]").await;
            browser.wait_path("/device").await;
            browser.wait_for("[data-testid=device-request]").await;
            assert_eq!(browser.text("[data-testid=device-code]").await, user_code);
            let client = browser.text("[data-testid=device-client]").await;
            assert!(client.starts_with("gate on "), "{client}");
            assert_eq!(
                browser.text("[data-testid=device-address]").await,
                "127.0.0.1"
            );
            browser.click("[data-action=approve-device]").await;
            browser.wait_for("[data-testid=device-approved]").await;

            // gate's next poll signs it in, as mia, interactively.
            let signed_in = waiting.finish().await;
            assert_eq!(signed_in.code, 0, "{signed_in:?}");
            let me = gate.run(&["--json", "whoami"]).await;
            assert_eq!(me.code, 0, "{me:?}");
            assert_eq!(me.json()["auth_method"], "cli");
            assert_eq!(me.json()["user"]["username"], "mia");

            // Listed beside the browser's own sign-in; ending it signs the command line out.
            browser.goto("/account").await;
            let cli_row = "[data-testid=signin-row][data-client=cli]";
            browser.wait_text(cli_row, "gate on ").await;
            assert_eq!(
                browser
                    .attrs("[data-testid=signin-row][data-current=true]", "data-client")
                    .await,
                ["browser"]
            );
            browser
                .click(&format!("{cli_row} [data-action=end-signin]"))
                .await;
            browser.wait_gone(cli_row).await;
            let after = gate.run(&["--json", "whoami"]).await;
            assert_eq!(after.code, 1, "{after:?}");
            assert_eq!(after.error_json()["error_code"], "unauthenticated");

            // A code typed by hand, in lower case, and denied: gate exits 6 (do not retry).
            let other = Gate::new();
            let (waiting, code) = gate_login(&other, &base).await;
            browser.goto("/device").await;
            browser
                .fill("#device-user-code", &code.to_lowercase())
                .await;
            browser.click(".device-code-form button[type=submit]").await;
            browser.wait_for("[data-testid=device-request]").await;
            browser.click("[data-action=deny-device]").await;
            browser.wait_for("[data-testid=device-denied]").await;
            let denied = waiting.finish().await;
            assert_eq!(denied.code, 6, "{denied:?}");

            // A code that names nothing is said so, in words.
            browser.goto("/device?user_code=BCDF-GHJK").await;
            browser
                .wait_text("[data-testid=device-error]", "not found")
                .await;
        },
    )
    .await;
}
