//! The work-session list: the filter bar round-trips through the URL, and purposes are text.

use crate::console::Console;
use crate::{session_request, websh_session};
use gatehouse_client::api::sessions::SessionDecision;
use gatehouse_e2e::browser::{run_ui_test, Browser};
use gatehouse_shared::work_session::{ApproveWorkSession, CreateWorkSession};
use std::collections::BTreeSet;

const ROW: &str = "[data-testid=session-row]";

async fn row_ids(browser: &Browser) -> BTreeSet<String> {
    browser.attrs(ROW, "data-id").await.into_iter().collect()
}

fn ids<S: AsRef<str>>(list: &[S]) -> BTreeSet<String> {
    list.iter().map(|s| s.as_ref().to_owned()).collect()
}

#[tokio::test]
async fn console_filter_bar_url_round_trip() {
    let cx = Console::start(&[], &["web-01"]).await;
    let web = cx.session("deploy web", &["websh"], &["web-01"]).await;
    let keys = cx.session("rotate keys", &["command"], &["web-01"]).await;
    let db = cx.session("deploy db", &["websh"], &["web-01"]).await;
    // One of them active, the other two approved (a superuser's own requests are).
    cx.activate(web.id).await;
    let [web, keys, db] = [&web, &keys, &db].map(|s| s.id.to_string());

    let first = cx.signed_in("ops").await;
    let second = cx.signed_in("ops").await;
    run_ui_test("console_filter_bar_url_round_trip", &cx.driver, async {
        // By default the list shows one's own sessions that are not finished.
        first.goto("/sessions").await;
        first.wait_for("[data-testid=filter-bar]").await;
        for status in ["pending", "approved", "active"] {
            assert!(
                first
                    .is_checked(&format!("input[name=status][value={status}]"))
                    .await,
                "{status} not ticked by default"
            );
        }
        for status in ["completed", "expired", "revoked", "rejected", "cancelled"] {
            assert!(
                !first
                    .is_checked(&format!("input[name=status][value={status}]"))
                    .await,
                "{status} ticked by default"
            );
        }
        first.wait_count(ROW, 3).await;
        assert_eq!(row_ids(&first).await, ids(&[&web, &keys, &db]));

        // Unticking "approved" and "pending" applies at once and shows in the URL.
        first.click("input[name=status][value=approved]").await;
        first.wait_count(ROW, 1).await;
        assert_eq!(row_ids(&first).await, ids(&[&web]));
        first.click("input[name=status][value=pending]").await;
        first.wait_count(ROW, 1).await;
        assert_eq!(
            first.attrs(ROW, "data-status").await,
            vec!["active".to_owned()]
        );
        assert_eq!(first.query_param("status").await.as_deref(), Some("active"));
        assert_eq!(first.query_param("user").await.as_deref(), Some("me"));

        // Ticking "approved" again.
        first.click("input[name=status][value=approved]").await;
        first.wait_count(ROW, 3).await;
        assert_eq!(row_ids(&first).await, ids(&[&web, &keys, &db]));
        let status = first.query_param("status").await.unwrap_or_default();
        let mut statuses: Vec<&str> = status.split(',').collect();
        statuses.sort_unstable();
        assert_eq!(statuses, ["active", "approved"], "URL status={status}");

        // Purpose text, on Enter.
        first.fill_and_enter("input[name=q]", "deploy").await;
        first.wait_count(ROW, 2).await;
        assert_eq!(row_ids(&first).await, ids(&[&web, &db]));
        let mut purposes = first.texts(&format!("{ROW} [data-testid=purpose]")).await;
        purposes.sort();
        assert_eq!(purposes, ["deploy db", "deploy web"]);
        assert_eq!(first.query_param("q").await.as_deref(), Some("deploy"));
        first.doc_screenshot("sessions.png").await;

        // The same URL in another browser (its own sign-in) shows the same rows and filters.
        let url = first.path_and_query().await;
        assert!(url.starts_with("/sessions?"), "{url}");
        second.goto(&url).await;
        second.wait_for("[data-testid=filter-bar]").await;
        second.wait_count(ROW, 2).await;
        assert_eq!(row_ids(&second).await, ids(&[&web, &db]));
        assert!(second.is_checked("input[name=status][value=active]").await);
        assert!(
            second
                .is_checked("input[name=status][value=approved]")
                .await
        );
        assert!(!second.is_checked("input[name=status][value=pending]").await);
        let q = second
            .wait_for("input[name=q]")
            .await
            .prop("value")
            .await
            .expect("value");
        assert_eq!(q.as_deref(), Some("deploy"));
        assert_eq!(second.path_and_query().await, url);
    })
    .await;
}

#[tokio::test]
async fn console_purpose_renders_as_text() {
    const PURPOSE: &str = "<img src=x onerror=alert(1)>";
    let cx = Console::start(&[], &["web-01"]).await;
    let id = cx.session(PURPOSE, &["websh"], &["web-01"]).await.id;
    assert_eq!(cx.get_session(id).await.purpose, PURPOSE);
    let browser = cx.signed_in("ops").await;
    run_ui_test("console_purpose_renders_as_text", &cx.driver, async {
        for (page, purpose) in [
            (
                "/sessions?status=all".to_owned(),
                format!("{ROW}[data-id='{id}'] [data-testid=purpose]"),
            ),
            (
                format!("/sessions/{id}"),
                "[data-testid=session-detail] [data-testid=purpose]".to_owned(),
            ),
        ] {
            browser.goto(&page).await;
            browser.wait_text(&purpose, "onerror").await;
            assert_eq!(browser.text(&purpose).await, PURPOSE, "on {page}");
            assert_eq!(browser.count(&format!("{ROW} img")).await, 0, "on {page}");
            assert_eq!(
                browser.count("img[src=x], [onerror]").await,
                0,
                "markup from the purpose on {page}"
            );
            // Let an image error for `x` happen: had the page made that image, its handler
            // would have run by the time ours has.
            let loaded = browser
                .client
                .execute_async(
                    "const done = arguments[0]; const i = new Image();\
                     i.onload = () => done('loaded'); i.onerror = () => done('error'); i.src = 'x';",
                    vec![],
                )
                .await
                .unwrap_or_else(|e| panic!("on {page} (a dialog open?): {e}"));
            assert!(loaded.is_string());
            assert_eq!(browser.alert_text().await, None, "a dialog opened on {page}");
        }
    })
    .await;
}

#[tokio::test]
async fn console_default_list_shows_my_pending_request_and_follows_its_approval() {
    let cx = Console::start(&[("mia", "member")], &["web-01"]).await;
    cx.grant("mia", "web-01").await;
    // Someone else's session, which Mia's default list does not show.
    let other = cx.session("not mine", &["websh"], &["web-01"]).await;
    let mia = gatehouse_e2e::Api::login(&cx.server.base, "mia").await;
    let mine = mia
        .client
        .create_work_session(&CreateWorkSession {
            purpose: "rotate logs".to_owned(),
            ..session_request(&["websh"], &["web-01"])
        })
        .await
        .expect("a request");
    let id = mine.id;
    let browser = cx.signed_in("mia").await;
    run_ui_test(
        "console_default_list_shows_my_pending_request_and_follows_its_approval",
        &cx.driver,
        async {
            browser.goto("/sessions").await;
            let row = format!("{ROW}[data-id='{id}']");
            browser
                .wait_for(&format!("{row}[data-status=pending]"))
                .await;
            assert_eq!(row_ids(&browser).await, ids(&[id.to_string()]));
            assert!(!row_ids(&browser).await.contains(&other.id.to_string()));
            browser.mark_page().await;
            cx.api()
                .client
                .approve_work_session(id, &ApproveWorkSession::default())
                .await
                .expect("approved");
            // The row changes by itself, without a reload, and a notice says who decided.
            browser
                .wait_for(&format!("{row}[data-status=approved]"))
                .await;
            browser
                .wait_text(
                    "[data-testid=decision-notice][data-kind=approved]",
                    "approved by ops",
                )
                .await;
            browser.assert_not_reloaded().await;

            // A decision made while the console was closed is told on the next visit; the one
            // already shown is not told again.
            let second = mia
                .client
                .create_work_session(&websh_session("second ask"))
                .await
                .expect("a second request")
                .id;
            browser
                .client
                .goto("about:blank")
                .await
                .expect("leave the console");
            cx.api()
                .client
                .decide_work_session(
                    second,
                    SessionDecision::Reject,
                    Some("not this week".to_owned()),
                )
                .await
                .expect("rejected");
            browser.goto("/sessions").await;
            browser
                .wait_text(
                    "[data-testid=decision-notice][data-kind=rejected]",
                    "not this week",
                )
                .await;
            assert_eq!(
                browser
                    .count("[data-testid=decision-notice][data-kind=approved]")
                    .await,
                0
            );
        },
    )
    .await;
}
