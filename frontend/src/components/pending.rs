//! The Approvals link with the number of requests waiting, also shown in the page title, so an
//! approver on another tab sees that someone is waiting. Follows the live updates.

use crate::api;
use crate::live::use_live;
use leptos::prelude::*;
use leptos_router::components::A;

/// The page title without a count.
const TITLE: &str = "Gatehouse";

#[component]
pub fn ApprovalsLink() -> impl IntoView {
    let live = use_live();
    let pending = LocalResource::new(move || {
        live.version.track();
        async move {
            api::work_sessions("?status=pending&user=all&limit=1")
                .await
                .map(|page| page.total)
                .unwrap_or(0)
        }
    });
    let count = move || pending.get().unwrap_or(0);
    Effect::new(move || {
        let n = count();
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(&if n > 0 {
                format!("({n}) {TITLE}")
            } else {
                TITLE.to_owned()
            });
        }
    });
    on_cleanup(|| {
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(TITLE);
        }
    });
    view! {
        <A href="/approvals">
            "Approvals"
            <Show when=move || { count() > 0 }>
                <span class="count" data-testid="pending-count" aria-label="requests waiting">
                    {count}
                </span>
            </Show>
        </A>
    }
}
