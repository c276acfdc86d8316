//! Races against the real server: many clients at once on one shared link's password, and on
//! the last places under a terminal cap. Each outcome is counted exactly, never "about".

use crate::share::share;
use crate::Fixture;
use futures_util::future::join_all;
use gatehouse_client::api::ops::AuditFilter;
use gatehouse_shared::share::CreateShare;
use gatehouse_shared::ErrorCode;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// `POST /api/share/join` without a sign-in; the status and the reply's `error_code`.
async fn join(http: &reqwest::Client, base: &str, secret: &str, password: &str) -> (u16, String) {
    let r = http
        .post(format!("{base}/api/share/join"))
        .json(&json!({"secret": secret, "password": password}))
        .send()
        .await
        .expect("join request");
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let code = body["error_code"].as_str().unwrap_or("").to_owned();
    (status, code)
}

/// Wrong passwords the server counted on the link, from its owner's list.
async fn counted_failures(fx: &Fixture, websh: &str) -> u64 {
    let listed = fx.api.get(&format!("/api/websh/{websh}/shares")).await;
    listed["items"][0]["failed_attempts"]
        .as_u64()
        .expect("failed_attempts")
}

/// Wrong-password join events in the audit log.
async fn audited_wrong_passwords(fx: &Fixture) -> usize {
    let joins = fx.api.get("/api/audit?action=share.join&limit=500").await;
    joins["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| {
            e["details"]["outcome"]["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("wrong_password"))
        })
        .count()
}

#[tokio::test]
async fn parallel_wrong_password_joins_are_counted_exactly_and_lock_at_ten() {
    let fx = Fixture::start_with(&["web-01"], &["--share-backoff-ms", "1"]).await;
    fx.session(&["websh"], &["web-01"]).await;
    let (websh, _) = fx.terminal("web-01").await;
    let link = share(&fx, &websh, CreateShare::default()).await;
    // Many addresses' worth of guesses from one: keep under the per-address limit (20) so the
    // link's own count is what is tested.
    let http = reqwest::Client::new();
    let base = fx.server.base.clone();

    let replies = join_all((0..16).map(|i| {
        let (http, base, secret) = (&http, &base, &link.secret);
        async move { join(http, base, secret, &format!("guess-{i}")).await }
    }))
    .await;
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    for (status, code) in &replies {
        *by_status.entry(*status).or_default() += 1;
        // Every reply is a wrong password, a wait (another attempt in flight, or the backoff),
        // or the lock: nothing else, and never a success.
        match status {
            401 => assert_eq!(code, "unauthenticated"),
            429 => assert_eq!(code, "rate_limited"),
            403 => assert_eq!(code, "forbidden"),
            other => panic!("unexpected {other} {code}"),
        }
    }
    let wrong = by_status.get(&401).copied().unwrap_or(0) as u64;
    assert!(wrong >= 1, "at least one guess is checked: {by_status:?}");
    assert!(wrong <= 10, "the link locks at ten: {by_status:?}");
    assert_eq!(
        counted_failures(&fx, &websh).await,
        wrong,
        "each checked guess counted once, no refused one counted: {by_status:?}"
    );
    assert_eq!(audited_wrong_passwords(&fx).await as u64, wrong);

    // Go on one at a time until the link locks: exactly ten wrong passwords in all.
    let mut total = wrong;
    let mut guess = 100;
    loop {
        guess += 1;
        match join(&http, &base, &link.secret, &format!("guess-{guess}")).await {
            (401, _) => total += 1,
            (429, _) => tokio::task::yield_now().await,
            (403, _) => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(total, 10, "the tenth wrong password locked the link");
    assert_eq!(counted_failures(&fx, &websh).await, 10);
    assert_eq!(audited_wrong_passwords(&fx).await, 10);
    // The right password no longer opens it.
    let (status, code) = join(&http, &base, &link.secret, &link.password).await;
    assert_eq!((status, code.as_str()), (403, "forbidden"));
}

#[tokio::test]
async fn concurrent_opens_never_pass_the_terminal_cap() {
    const CAP: usize = 3;
    let fx = Fixture::start_with(&["web-01"], &["--max-terminals-per-user", "3"]).await;
    fx.session(&["websh"], &["web-01"]).await;

    let replies = join_all((0..10).map(|_| fx.try_terminal("web-01"))).await;
    let opened: Vec<_> = replies.iter().filter_map(|r| r.as_ref().ok()).collect();
    let refused: Vec<_> = replies.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(opened.len(), CAP, "{replies:?}");
    assert_eq!(refused.len(), 10 - CAP, "{replies:?}");
    for e in refused {
        let envelope = e.api().expect("an envelope");
        assert_eq!(
            (envelope.status, envelope.code()),
            (429, Some(ErrorCode::RateLimited)),
            "{e}"
        );
        assert!(envelope.message.contains("per user"), "{e}");
    }
    let ops = &fx.api.client;
    let live = ops.live_terminals().await.expect("the live terminals");
    assert_eq!(live.items.len(), CAP, "{live:?}");
    let opened_events = AuditFilter {
        action: Some("websh.opened".into()),
        limit: Some(100),
        ..AuditFilter::default()
    };
    let audited = ops.audit(&opened_events).await.expect("the audit");
    assert_eq!(
        audited.total, CAP as i64,
        "only the opened ones are audited"
    );

    // Ending one frees its place, and only one.
    ops.close_websh(opened[0].id).await.expect("closed");
    let replies = join_all((0..4).map(|_| fx.try_terminal("web-01"))).await;
    assert_eq!(
        replies.iter().filter(|r| r.is_ok()).count(),
        1,
        "{replies:?}"
    );
    let refused = replies
        .iter()
        .filter_map(|r| r.as_ref().err()?.api())
        .filter(|e| e.status == 429);
    assert_eq!(refused.count(), 3, "{replies:?}");
}
