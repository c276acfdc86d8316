//! A terminal's links (`GET /api/websh/{id}/shares`): who may type, when each expires, its
//! state, and "Revoke" on the usable ones. Never a secret or password: the server keeps only
//! their hashes.

use crate::api::{self, ApiError};
use crate::components::ErrorBox;
use crate::live::use_live;
use crate::time::{format_at, now};
use chrono::{DateTime, Utc};
use gatehouse_shared::share::ShareInfo;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// A link's state in one word (`data-state`); the first that applies wins, so a revoked link
/// that has also expired reads "revoked".
pub fn share_state(info: &ShareInfo, now: DateTime<Utc>) -> &'static str {
    if info.revoked_at.is_some() {
        "revoked"
    } else if info.locked {
        "locked"
    } else if info.expires_at <= now || !info.active {
        "expired"
    } else {
        "active"
    }
}

/// The list; refetched on `refresh`, on live updates, and when `changes` (the number of
/// participants) moves, since a guest joining or leaving can change a link's counters.
#[component]
pub fn ShareLinks(
    id: uuid::Uuid,
    refresh: RwSignal<u32>,
    #[prop(into)] changes: Signal<usize>,
) -> impl IntoView {
    let live = use_live();
    let links = LocalResource::new(move || {
        live.version.track();
        refresh.track();
        changes.track();
        async move { api::shares(id).await }
    });
    let error = RwSignal::new(None::<ApiError>);
    let revoke = Callback::new(move |share| {
        spawn_local(async move {
            let result = api::revoke_share(id, share).await;
            error.set(result.err());
            refresh.update(|n| *n += 1);
        });
    });
    view! {
        <section class="share-links" aria-labelledby="share-links-heading">
            <h2 id="share-links-heading">"Links"</h2>
            {move || match links.get() {
                None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorBox error=Signal::derive(move || Some(e.clone())) /> }.into_any(),
                Some(Ok(page)) if page.items.is_empty() => {
                    view! { <p class="empty">"No links yet."</p> }.into_any()
                }
                Some(Ok(page)) => {
                    let at = now();
                    view! {
                        <ul class="share-list">
                            {page
                                .items
                                .into_iter()
                                .map(|info| view! { <ShareRow info=info now=at revoke=revoke /> })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }
            }}
            <ErrorBox error=error />
        </section>
    }
}

#[component]
fn ShareRow(
    info: ShareInfo,
    now: DateTime<Utc>,
    revoke: Callback<gatehouse_shared::ShareId>,
) -> impl IntoView {
    let state = share_state(&info, now);
    let access = if info.read_only {
        "read-only"
    } else {
        "read-write"
    };
    let id = info.id;
    let failures = (info.failed_attempts > 0).then(|| {
        let n = info.failed_attempts;
        let text = if n == 1 {
            "1 wrong password".to_owned()
        } else {
            format!("{n} wrong passwords")
        };
        view! { <span class="share-failures">{text}</span> }
    });
    view! {
        <li class="share-row" data-testid="share-row" data-share-id=id.to_string() data-state=state>
            <span class=format!("badge share-{state}")>{state}</span>
            <span class="share-access">{access}</span>
            <span class="share-expires">{format!("expires {}", format_at(&info.expires_at))}</span>
            {failures}
            {(state == "active").then(|| {
                view! {
                    <button type="button" class="share-revoke" data-testid="share-revoke"
                        on:click=move |_| revoke.run(id)>
                        "Revoke"
                    </button>
                }
            })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_shared::ShareId;

    fn info(revoked: bool, locked: bool, expires_in: i64, active: bool) -> ShareInfo {
        let at = DateTime::<Utc>::default();
        ShareInfo {
            id: ShareId::new(),
            websh: uuid::Uuid::nil(),
            read_only: true,
            created_by: "ops".into(),
            created_at: at,
            expires_at: at + chrono::Duration::seconds(expires_in),
            revoked_at: revoked.then_some(at),
            failed_attempts: 0,
            locked,
            active,
        }
    }

    #[test]
    fn states_in_order_of_precedence() {
        let at = DateTime::<Utc>::default();
        assert_eq!(share_state(&info(false, false, 60, true), at), "active");
        assert_eq!(share_state(&info(false, false, 0, true), at), "expired");
        assert_eq!(share_state(&info(false, true, 60, false), at), "locked");
        assert_eq!(share_state(&info(true, true, -5, false), at), "revoked");
        // The server's word wins over a clock that runs behind.
        assert_eq!(share_state(&info(false, false, 60, false), at), "expired");
    }
}
