//! Only those who may type pace the shell: a read-only guest that stops reading never freezes
//! the owner's terminal or grows the server, and is moved ahead (and told) when it comes back.

use crate::share::{guest, share};
use crate::Fixture;
use gatehouse_e2e::rss_kib;
use gatehouse_e2e::terminal::Term;
use gatehouse_shared::share::CreateShare;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

/// Runs `seq 1 N` in the owner's terminal and reads until its last line and the prompt after.
async fn flood(owner: &mut Term, n: u32, marker: &str) {
    owner
        .type_text(&format!("seq 1 {n}; echo {marker}-$((1+1))\r"))
        .await;
    let done = format!("{marker}-2");
    assert!(
        owner.read_until(WAIT, |t| t.text().contains(&done)).await,
        "the owner's output stopped at byte {}",
        owner.end()
    );
}

#[tokio::test]
async fn a_stalled_read_only_guest_never_holds_the_owner_back() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["websh"], &["web-01"]).await;
    let (id, url) = fx.terminal("web-01").await;
    let mut owner = Term::connect(&url, &fx.api, None).await.expect("owner");
    // Fill the terminal's ring once, so what follows measures growth, not the ring itself.
    flood(&mut owner, 300_000, "warm").await;

    let read_only = CreateShare {
        read_only: true,
        ..CreateShare::default()
    };
    let link = share(&fx, &id, read_only).await;
    let (_, mut stalled) = guest(&fx, &link, "stalled").await;
    let before = rss_kib(fx.server.pid());
    // The guest reads nothing and acknowledges nothing from here on.
    flood(&mut owner, 300_000, "flood").await;
    let growth = rss_kib(fx.server.pid()).saturating_sub(before);
    assert!(
        growth < 2048,
        "server memory grew by {growth} KiB while a guest stalled"
    );

    // The guest comes back: it is moved ahead to what the gateway still holds, told how much it
    // missed, and catches up with the owner.
    stalled.accept_skips = true;
    let end = owner.end();
    assert!(
        stalled.read_until(WAIT, |t| t.end() >= end).await,
        "the guest did not catch up: at {} of {end}",
        stalled.end()
    );
    assert!(stalled.text().contains("flood-2"));
    if stalled.skipped > 0 {
        let told = stalled.messages.iter().any(|m| {
            m["t"] == "notice" && m["text"].as_str().is_some_and(|t| t.contains("too old"))
        });
        assert!(
            told,
            "{} bytes were skipped without a notice",
            stalled.skipped
        );
    }
}
