//! Accounts upkeep and the server page in the console: a staff member with TOTP resets a
//! member's password, passes the step-up prompt in place, and reads the one-time password; the
//! member signs in with it and must choose a new one (with errors at the field, cleared when
//! fixed) before anything else; then, fresh, the staff member removes another member's MFA.
//! A server's own page shows its status and its Terminal and Files actions, with recent
//! activity for staff only. On the Account page a wrong current password is one error at its
//! field, a new API token asks for a code in place, and recovery codes are shown once and sign
//! in.

use crate::console::Console;
use crate::refused;
use gatehouse_e2e::browser::{enrol_totp, run_ui_test, totp_code, totp_step_now};
use gatehouse_e2e::{Api, PASSWORD};
use gatehouse_shared::settings::SettingsPatch;

#[tokio::test]
async fn console_staff_resets_a_password_behind_step_up_and_the_member_chooses_a_new_one() {
    let cx = Console::start(
        &[("sam", "staff"), ("mia", "member"), ("max", "member")],
        &[],
    )
    .await;
    // Max has TOTP, so his row offers "Reset MFA".
    let max = Api::login(&cx.server.base, "max").await;
    enrol_totp(&max).await;
    // Signed in before enrolling: this sign-in has never proved a code, so the reset asks.
    let staff = cx.signed_in("sam").await;
    let member = cx.browser().await;
    run_ui_test(
        "console_staff_resets_a_password_behind_step_up_and_the_member_chooses_a_new_one",
        &cx.driver,
        async {
            staff.goto("/admin").await;
            let row = "[data-testid=user-row][data-username=mia]";
            let reset = async || {
                staff
                    .click(&format!("{row} button[data-action=reset-password]"))
                    .await;
                staff
                    .wait_text(&format!("{row} [role=alert]"), "one-time password")
                    .await;
                staff
                    .click(&format!("{row} button[data-action=confirm-reset]"))
                    .await;
            };
            // Without TOTP, the console says so in words and points at the Account page.
            reset().await;
            let refusal = format!("{row} [data-error-code=mfa_enrolment_required]");
            staff.wait_text(&refusal, "authenticator app").await;
            assert_eq!(
                staff.count(&format!("{refusal} a[href='/account']")).await,
                1
            );

            // Sam enrols (elsewhere), then tries again.
            let sam = Api::login(&cx.server.base, "sam").await;
            let (secret, confirm_step) = enrol_totp(&sam).await;
            reset().await;
            staff.wait_gone(&refusal).await;

            // The server wants a fresh code: the prompt appears in the row. A wrong code is an
            // error at the field, gone as soon as the field is edited.
            let prompt = format!("{row} [data-testid=step-up]");
            staff
                .fill_and_enter(&format!("{prompt} input[name=otp]"), "12345x")
                .await;
            staff
                .wait_text(
                    &format!("{prompt} .field-error[data-field=otp]"),
                    "not right",
                )
                .await;
            let step = (confirm_step + 1).max(totp_step_now());
            staff
                .fill_and_enter(
                    &format!("{prompt} input[name=otp]"),
                    &totp_code(&secret, step),
                )
                .await;
            let one_time = staff
                .text("[data-testid=one-time-password]")
                .await
                .trim()
                .to_owned();
            assert!(one_time.len() >= 12, "one-time password {one_time:?}");
            assert!(staff
                .text("[data-testid=reset-notice]")
                .await
                .contains("not shown again"));
            assert_eq!(staff.count(&prompt).await, 0);
            assert_eq!(
                staff
                    .count(&format!("{row} button[data-action=reset-mfa]"))
                    .await,
                0,
                "Reset MFA is offered only to someone who has MFA"
            );

            // Sam's sign-in is fresh now: removing Max's MFA asks for no code.
            let max_row = "[data-testid=user-row][data-username=max]";
            staff
                .click(&format!("{max_row} button[data-action=reset-mfa]"))
                .await;
            staff
                .click(&format!("{max_row} button[data-action=confirm-reset]"))
                .await;
            staff
                .wait_text("[data-testid=mfa-reset-done]", "removed for max")
                .await;
            staff.wait_for(&format!("{max_row} td.mfa-off")).await;

            // Mia signs in with it and is made to choose a new password before anything else.
            member.sign_in("mia", &one_time).await;
            member
                .wait_for("[data-testid=forced-password-change]")
                .await;
            member.goto("/servers").await;
            member
                .wait_for("[data-testid=forced-password-change]")
                .await;
            let form = "[data-testid=change-password]";
            member
                .fill(&format!("{form} input[name=current]"), &one_time)
                .await;
            member
                .fill(
                    &format!("{form} input[name=new]"),
                    "mia's very own passphrase",
                )
                .await;
            member
                .fill(
                    &format!("{form} input[name=repeat]"),
                    "mia's very own passphras",
                )
                .await;
            member.click(&format!("{form} button[type=submit]")).await;
            let mismatch = format!("{form} .field-error[data-field=repeat]");
            member.wait_text(&mismatch, "does not match").await;
            assert_eq!(member.count(&format!("{form} .field-error")).await, 1);
            member
                .fill(
                    &format!("{form} input[name=repeat]"),
                    "mia's very own passphrase",
                )
                .await;
            member.wait_gone(&mismatch).await;
            member.click(&format!("{form} button[type=submit]")).await;
            member
                .wait_gone("[data-testid=forced-password-change]")
                .await;
            member.wait_text("h1", "Servers").await;

            // The new password is the one that works now; neither old one does.
            for password in [one_time.as_str(), PASSWORD] {
                let old = refused(cx.try_login("mia", password).await);
                assert_eq!(old.status, 401, "signing in with {password:?}");
            }
            cx.try_login("mia", "mia's very own passphrase")
                .await
                .expect("signing in with the new password");
        },
    )
    .await;
}

#[tokio::test]
async fn console_server_page_shows_status_and_actions_and_activity_for_staff() {
    let cx = Console::start(&[("mia", "member")], &["web-01"]).await;
    cx.grant("mia", "web-01").await;
    let admin = cx.signed_in("ops").await;
    let member = cx.signed_in("mia").await;
    run_ui_test(
        "console_server_page_shows_status_and_actions_and_activity_for_staff",
        &cx.driver,
        async {
            admin.goto("/servers").await;
            admin
                .click("[data-testid=server-row][data-name=web-01] [data-testid=server-link]")
                .await;
            let url = admin
                .wait_url("the server's page", |u| u.path().starts_with("/servers/"))
                .await;
            let id = url.path().trim_start_matches("/servers/").to_owned();
            admin.wait_text("[data-testid=server-name]", "web-01").await;
            admin
                .wait_for("[data-testid=server-status][data-connected=true]")
                .await;
            let terminal = admin
                .wait_for("[data-testid=server-terminal]")
                .await
                .attr("href")
                .await
                .expect("href")
                .expect("a link");
            assert!(
                terminal.starts_with("/websh?server=web-01"),
                "Terminal goes to {terminal}"
            );
            let files = admin
                .wait_for("[data-testid=server-files]")
                .await
                .attr("href")
                .await
                .expect("href")
                .expect("a link");
            assert!(
                files.starts_with("/files?server=web-01"),
                "Files goes to {files}"
            );
            // Staff read what happened there: the agent's registration at least.
            admin
                .wait_text("[data-testid=server-activity]", "agent.")
                .await;
            admin.click("[data-testid=server-terminal]").await;
            admin.wait_path("/websh").await;

            // A member sees the server and its actions, but no audit section.
            member.goto(&format!("/servers/{id}")).await;
            member
                .wait_for("[data-testid=server-status][data-connected=true]")
                .await;
            member.wait_for("[data-testid=server-terminal]").await;
            assert_eq!(member.count("#activity-heading").await, 0);
        },
    )
    .await;
}

#[tokio::test]
async fn console_account_page_password_errors_and_recovery_codes() {
    let cx = Console::start(&[("mia", "member")], &[]).await;
    let browser = cx.signed_in("mia").await;
    run_ui_test(
        "console_account_page_password_errors_and_recovery_codes",
        &cx.driver,
        async {
            // A wrong current password is one error, at its field, in words; editing clears it.
            browser.goto("/account").await;
            let form = "[data-testid=change-password]";
            browser
                .fill(
                    &format!("{form} input[name=current]"),
                    "not my password at all",
                )
                .await;
            browser
                .fill(
                    &format!("{form} input[name=new]"),
                    "a fresh passphrase here",
                )
                .await;
            browser
                .fill(
                    &format!("{form} input[name=repeat]"),
                    "a fresh passphrase here",
                )
                .await;
            browser.click(&format!("{form} button[type=submit]")).await;
            let wrong = format!("{form} .field-error[data-field=current]");
            browser.wait_text(&wrong, "not your current password").await;
            assert_eq!(browser.count(&format!("{form} .field-error")).await, 1);
            assert_eq!(browser.count(&format!("{form} .error")).await, 0);
            browser
                .fill(&format!("{form} input[name=current]"), PASSWORD)
                .await;
            browser.wait_gone(&wrong).await;

            // With TOTP on, recovery codes are made behind the step-up prompt and shown once.
            let mia = Api::login(&cx.server.base, "mia").await;
            let (secret, confirm_step) = enrol_totp(&mia).await;
            browser.goto("/account").await;
            // This sign-in has not proved a code yet: a new API token asks for one in place.
            browser
                .fill("[data-testid=create-token] input[name=name]", "ci")
                .await;
            browser
                .click("[data-testid=create-token] button[type=submit]")
                .await;
            let step = (confirm_step + 1).max(totp_step_now());
            browser
                .fill_and_enter(
                    "[data-testid=create-token] [data-testid=step-up] input[name=otp]",
                    &totp_code(&secret, step),
                )
                .await;
            browser.wait_for("[data-testid=new-token]").await;
            browser.wait_gone("[data-testid=step-up]").await;
            // Now fresh, so the recovery codes come without asking again.
            browser.click("[data-testid=make-recovery-codes]").await;
            browser
                .wait_count("[data-testid=recovery-codes] li", 10)
                .await;
            let codes = browser.texts("[data-testid=recovery-codes] li").await;
            assert_eq!(
                browser
                    .count("button[aria-label='Copy recovery codes']")
                    .await,
                1
            );

            // A recovery code signs in where the authenticator's code is asked for.
            let other = cx.browser().await;
            other.goto("/login").await;
            other.fill("input[name=username]", "mia").await;
            other.fill("input[name=password]", PASSWORD).await;
            other.click("button[type=submit]").await;
            other.fill("input[name=otp]", codes[0].trim()).await;
            other.click("button[type=submit]").await;
            other
                .wait_url("signed in with a recovery code", |u| u.path() != "/login")
                .await;
            other.wait_for("[data-testid=sign-out]").await;
        },
    )
    .await;
}

#[tokio::test]
async fn console_requires_enrolment_first_when_the_workspace_says_so() {
    let cx = Console::start(&[("mia", "member")], &[]).await;
    // `ops` turns it on (and would have to enrol next, like everyone).
    cx.api()
        .update_settings(SettingsPatch {
            require_mfa_enrolment: Some(true),
            ..SettingsPatch::default()
        })
        .await;
    let browser = cx.signed_in("mia").await;
    run_ui_test(
        "console_requires_enrolment_first_when_the_workspace_says_so",
        &cx.driver,
        async {
            // Whatever page is asked for, only the enrolment shows.
            browser.goto("/sessions").await;
            browser.wait_for("[data-testid=forced-mfa-enrolment]").await;
            assert_eq!(browser.count("[data-testid=new-session]").await, 0);
            browser.click("[data-testid=mfa-enrol]").await;
            let secret = browser.text("[data-testid=totp-secret]").await;
            browser
                .fill_and_enter(
                    "[data-testid=mfa-confirm] input[name=otp]",
                    &totp_code(secret.trim(), totp_step_now()),
                )
                .await;
            // Enrolled: the console lets the person through to the page they asked for.
            browser
                .wait_gone("[data-testid=forced-mfa-enrolment]")
                .await;
            browser.goto("/account").await;
            browser.wait_for("[data-testid=mfa-enabled]").await;
        },
    )
    .await;
}
