//! The console's first run and sign-in: set-up, TOTP enrolment, sign-out, sign-in with a code.

use crate::console::Console;
use gatehouse_e2e::browser::{run_ui_test, totp_code, totp_step_now};
use gatehouse_e2e::PASSWORD;

#[tokio::test]
async fn console_first_run_setup_and_totp_sign_in() {
    let cx = Console::fresh().await;
    let browser = cx.browser().await;
    run_ui_test(
        "console_first_run_setup_and_totp_sign_in",
        &cx.driver,
        async {
            // A fresh install sends every visitor to set-up.
            browser.goto("/").await;
            browser.wait_path("/setup").await;
            browser.fill("input[name=username]", "admin").await;
            browser.fill("input[name=password]", PASSWORD).await;
            browser.fill("input[name=confirm]", PASSWORD).await;
            browser.click("button[type=submit]").await;
            browser.wait_path("/account").await;

            // Enrol TOTP: the page shows the secret and its QR code; confirm with the current code.
            browser.click("[data-testid=mfa-enrol]").await;
            browser.wait_for("[data-testid=totp-qr]").await;
            let secret = browser.text("[data-testid=totp-secret]").await;
            let secret = secret.trim();
            assert!(
                secret.len() >= 16
                    && secret
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)),
                "[data-testid=totp-secret] should hold exactly the base32 secret, got {secret:?}"
            );
            let confirm_step = totp_step_now();
            browser
                .fill(
                    "[data-testid=mfa-confirm] input[name=otp]",
                    &totp_code(secret, confirm_step),
                )
                .await;
            browser
                .click("[data-testid=mfa-confirm] button[type=submit]")
                .await;
            browser.wait_for("[data-testid=mfa-enabled]").await;

            // Sign out: the console goes back to the sign-in page.
            browser.click("[data-testid=sign-out]").await;
            browser.wait_path("/login").await;

            // A signed-out visit to a page goes to sign-in, which comes back to it afterwards.
            browser.goto("/sessions").await;
            browser.wait_path("/login").await;
            assert_eq!(
                browser.query_param("next").await.as_deref(),
                Some("/sessions")
            );

            // The password alone is not enough any more: the code field appears.
            browser.fill("input[name=username]", "admin").await;
            browser.fill("input[name=password]", PASSWORD).await;
            browser.click("button[type=submit]").await;
            browser.wait_for("input[name=otp]").await;
            assert_eq!(
                browser.current_url().await.path(),
                "/login",
                "signed in without the code"
            );
            // Each step works once: use a later one than the confirmation used (still within ±1).
            let step = (confirm_step + 1).max(totp_step_now());
            browser
                .fill("input[name=otp]", &totp_code(secret, step))
                .await;
            browser.click("button[type=submit]").await;
            browser.wait_path("/sessions").await;
            browser.wait_for("[data-testid=sign-out]").await;
        },
    )
    .await;
}
