//! Form errors in the browser: the new-request form says each of the server's complaints once,
//! at its field, in words (no API field names), forgets one as soon as that field is edited,
//! and its time inputs say which zone they are in.

use crate::console::Console;
use gatehouse_e2e::browser::{run_ui_test, Browser};
use serde_json::json;

/// The page's visible text.
async fn page_text(browser: &Browser) -> String {
    browser
        .js("return document.body.innerText;", vec![])
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Sets an input's value and fires `input`, as typing does (datetime-local takes no keys
/// portably).
async fn set_value(browser: &Browser, css: &str, value: &str) {
    browser.wait_for(css).await;
    browser
        .js(
            "const el = document.querySelector(arguments[0]); el.value = arguments[1];\
             el.dispatchEvent(new Event('input', {bubbles: true}));",
            vec![json!(css), json!(value)],
        )
        .await;
}

#[tokio::test]
async fn console_new_request_errors_are_said_once_at_their_fields_in_words() {
    let cx = Console::start(&[], &[]).await;
    cx.add_server("web-01").await;
    let ops = cx.signed_in("ops").await;
    run_ui_test(
        "console_new_request_errors_are_said_once_at_their_fields_in_words",
        &cx.driver,
        async {
            ops.goto("/sessions/new").await;
            ops.wait_for("input[name=server]").await;
            // The times say their zone.
            let text = page_text(&ops).await;
            assert!(text.contains("Start at (your time, UTC"), "{text}");

            // Only spaces for a purpose (the browser's `required` lets them through), no scope,
            // no server: three complaints, each at its field.
            ops.fill("textarea[name=purpose]", "   ").await;
            ops.click("button[type=submit]").await;
            ops.wait_text(
                ".field-error[data-field=purpose]",
                "Declare what you intend to do",
            )
            .await;
            ops.wait_text(
                ".field-error[data-field=scopes]",
                "Ask for at least one scope",
            )
            .await;
            ops.wait_text(
                ".field-error[data-field=servers]",
                "Name at least one server",
            )
            .await;
            let text = page_text(&ops).await.to_lowercase();
            assert_eq!(
                text.matches("declare what you intend to do").count(),
                1,
                "said once: {text}"
            );
            assert_eq!(ops.count("form .error").await, 0, "no second copy in a box");

            // Editing a field forgets its error, and only its error.
            ops.fill("textarea[name=purpose]", "rotate keys").await;
            ops.wait_gone(".field-error[data-field=purpose]").await;
            assert_eq!(ops.count(".field-error[data-field=scopes]").await, 1);
            ops.click("input[name=scope][value=websh]").await;
            ops.wait_gone(".field-error[data-field=scopes]").await;
            ops.click("input[name=server][value=web-01]").await;
            ops.wait_gone(".field-error[data-field=servers]").await;

            // A fixed end in the past: said in words, not as `expires_at`.
            ops.click("input[name=window][value=expiry]").await;
            let text = page_text(&ops).await;
            assert!(text.contains("Expires at (your time, UTC"), "{text}");
            set_value(&ops, "input[name=expires_at]", "2001-01-01T10:00").await;
            ops.click("button[type=submit]").await;
            ops.wait_text(
                ".field-error[data-field=expires_at]",
                "Must be in the future and after the start time",
            )
            .await;
            let text = page_text(&ops).await;
            assert!(!text.contains("expires_at"), "an API field name: {text}");
            assert_eq!(ops.count("form .error").await, 0, "no second copy in a box");
            set_value(&ops, "input[name=expires_at]", "2001-01-01T11:00").await;
            ops.wait_gone(".field-error[data-field=expires_at]").await;
        },
    )
    .await;
}
