//! Device sign-in in the console: a command line asks to sign in; the person follows the link
//! (signing in to the console on the way), sees the client's name, address and code, and
//! approves; the command line's next poll gets a `cli` sign-in. The Account page lists it with
//! the browser's, and ending it there signs the command line out. A code typed by hand and
//! denied gives the command line `access_denied`.

use crate::console::Console;
use gatehouse_e2e::browser::run_ui_test;
use gatehouse_e2e::{eventually, PASSWORD};
use serde_json::{json, Value};
use std::time::Duration;

/// Asks to sign in as a command line would: no sign-in, just a name.
async fn ask(http: &reqwest::Client, base: &str, name: &str) -> Value {
    let r = http
        .post(format!("{base}/api/auth/device"))
        .json(&json!({"client_name": name}))
        .send()
        .await
        .expect("device request");
    assert_eq!(r.status(), 200);
    r.json().await.expect("device body")
}

/// One poll: (status, body).
async fn poll(http: &reqwest::Client, base: &str, device: &Value) -> (u16, Value) {
    let r = http
        .post(format!("{base}/api/auth/device/token"))
        .json(&json!({"device_code": device["device_code"]}))
        .send()
        .await
        .expect("poll");
    (r.status().as_u16(), r.json().await.expect("poll body"))
}

async fn whoami_status(http: &reqwest::Client, base: &str, secret: &str) -> u16 {
    http.get(format!("{base}/api/auth/whoami"))
        .bearer_auth(secret)
        .send()
        .await
        .expect("whoami")
        .status()
        .as_u16()
}

#[tokio::test]
async fn console_device_sign_in_is_approved_listed_and_ended_and_another_denied() {
    let cx = Console::start(&[("mia", "member")], &[]).await;
    let base = cx.server.base.clone();
    let http = reqwest::Client::new();
    let device = ask(&http, &base, "gate on ci-box").await;
    let user_code = device["user_code"].as_str().expect("user_code").to_owned();
    let link =
        url::Url::parse(device["verification_uri_complete"].as_str().expect("uri")).expect("a URL");
    let (status, body) = poll(&http, &base, &device).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("authorization_pending"))
    );

    let browser = cx.browser().await;
    run_ui_test(
        "console_device_sign_in_is_approved_listed_and_ended_and_another_denied",
        &cx.driver,
        async {
            // Not signed in yet: the link goes through sign-in and comes back to the request.
            browser
                .goto(&format!(
                    "{}?{}",
                    link.path(),
                    link.query().unwrap_or_default()
                ))
                .await;
            browser.wait_path("/login").await;
            browser.fill("input[name=username]", "mia").await;
            browser.fill("input[name=password]", PASSWORD).await;
            browser.click("button[type=submit]").await;
            browser.wait_path("/device").await;
            browser.wait_for("[data-testid=device-request]").await;
            assert_eq!(browser.text("[data-testid=device-code]").await, user_code);
            assert_eq!(
                browser.text("[data-testid=device-client]").await,
                "gate on ci-box"
            );
            assert_eq!(
                browser.text("[data-testid=device-address]").await,
                "127.0.0.1"
            );
            browser.click("[data-action=approve-device]").await;
            browser.wait_for("[data-testid=device-approved]").await;

            let (status, token) = poll(&http, &base, &device).await;
            assert_eq!(status, 200, "{token}");
            let secret = token["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned();
            let me: Value = http
                .get(format!("{base}/api/auth/whoami"))
                .bearer_auth(&secret)
                .send()
                .await
                .expect("whoami")
                .json()
                .await
                .expect("body");
            assert_eq!(me["auth_method"], "cli");
            assert_eq!(me["user"]["username"], "mia");

            // Listed beside the browser's own sign-in; ending it signs the command line out.
            browser.goto("/account").await;
            let cli_row = "[data-testid=signin-row][data-client=cli]";
            browser.wait_text(cli_row, "gate on ci-box").await;
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
            eventually(
                "the command line to be signed out",
                Duration::from_secs(5),
                || async { (whoami_status(&http, &base, &secret).await == 401).then_some(()) },
            )
            .await;

            // A code typed by hand, in lower case, and denied.
            let second = ask(&http, &base, "gate on laptop").await;
            let typed = second["user_code"].as_str().expect("code").to_lowercase();
            browser.goto("/device").await;
            browser.fill("#device-user-code", &typed).await;
            browser.click(".device-code-form button[type=submit]").await;
            browser
                .wait_text("[data-testid=device-client]", "gate on laptop")
                .await;
            browser.click("[data-action=deny-device]").await;
            browser.wait_for("[data-testid=device-denied]").await;
            let (status, body) = poll(&http, &base, &second).await;
            assert_eq!(
                (status, body["error_code"].as_str()),
                (400, Some("access_denied"))
            );

            // A code that names nothing is said so, in words.
            browser.goto("/device?user_code=BCDF-GHJK").await;
            browser
                .wait_text("[data-testid=device-error]", "not found")
                .await;
        },
    )
    .await;
}
