//! The approver's queue: pending requests, oldest first, decided in one click or one key.
//!
//! Keys: `j`/`k` move between requests, `a` approves the selected one, `r` starts rejecting it.
//! New requests arrive through the live-update push without a reload.

use crate::api;
use crate::components::decision::DecisionForm;
use crate::components::session_bits::time_left_text;
use crate::components::{ErrorBox, ScopeList, ServerList};
use crate::live::use_live;
use crate::time::format_at;
use gatehouse_shared::{WorkSession, WorkSessionId};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let live = use_live();
    let reload = RwSignal::new(0u32);
    let queue = LocalResource::new(move || {
        live.version.track();
        reload.track();
        async move {
            let mut page = api::work_sessions("?status=pending&user=all&limit=500").await?;
            page.items.sort_by_key(|s| s.created_at);
            Ok::<_, api::ApiError>(page.items)
        }
    });
    let selected = RwSignal::new(None::<WorkSessionId>);
    let decided = Callback::new(move |_: WorkSession| reload.update(|n| *n += 1));

    // j/k move the selection through the queue.
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        let typing = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if typing || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let step: isize = match ev.key().as_str() {
            "j" => 1,
            "k" => -1,
            _ => return,
        };
        let Some(Ok(items)) = queue.get_untracked() else {
            return;
        };
        let ids: Vec<WorkSessionId> = items.iter().map(|s| s.id).collect();
        let at = selected
            .get_untracked()
            .and_then(|id| ids.iter().position(|x| *x == id));
        let next = match at {
            Some(i) => (i as isize + step).clamp(0, ids.len() as isize - 1) as usize,
            None => 0,
        };
        if let Some(id) = ids.get(next) {
            selected.set(Some(*id));
            focus_card(*id);
        }
    });
    on_cleanup(move || handle.remove());

    view! {
        <section class="page">
            <div class="page-head">
                <h1>"Approvals"</h1>
                <p class="hint">"j / k: next / previous · a: approve · r: reject"</p>
            </div>
            {move || match queue.get() {
                None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorBox error=Signal::derive(move || Some(e.clone())) /> }.into_any(),
                Some(Ok(items)) if items.is_empty() => {
                    view! { <p class="empty" data-testid="no-approvals">"Nothing waits for a decision."</p> }.into_any()
                }
                Some(Ok(items)) => {
                    if selected.get_untracked().is_none_or(|id| !items.iter().any(|s| s.id == id)) {
                        selected.set(items.first().map(|s| s.id));
                    }
                    items
                        .into_iter()
                        .map(|session| view! { <ApprovalCard session=session selected=selected on_done=decided /> })
                        .collect_view()
                        .into_any()
                }
            }}
        </section>
    }
}

/// Moves keyboard focus to a card so the selection is visible and scrolled into view.
fn focus_card(id: WorkSessionId) {
    let element = document().get_element_by_id(&format!("approval-{id}"));
    if let Some(el) =
        element.and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
    {
        let _ = el.focus();
    }
}

#[component]
fn ApprovalCard(
    session: WorkSession,
    selected: RwSignal<Option<WorkSessionId>>,
    on_done: Callback<WorkSession>,
) -> impl IntoView {
    let id = session.id;
    let is_selected = Signal::derive(move || selected.get() == Some(id));
    let window = time_left_text(&session);
    let purpose = session.purpose.clone();
    let meta = format!(
        "{} · requested {}",
        session.requested_by.username,
        format_at(&session.created_at)
    );
    let servers = session.servers.clone();
    let scopes = session.scopes.clone();
    view! {
        <article
            class="card approval"
            class:selected=is_selected
            id=format!("approval-{id}")
            tabindex="0"
            data-testid="approval-card"
            data-id=id.to_string()
            on:focusin=move |_| selected.set(Some(id))
        >
            <header>
                <A href=format!("/sessions/{id}") attr:class="purpose">{purpose}</A>
                <span class="meta">{meta}</span>
            </header>
            <p>
                <ServerList servers=servers />
                " · "
                <ScopeList scopes=scopes />
                " · "
                {window}
            </p>
            <DecisionForm session=session on_done=on_done selected=is_selected />
        </article>
    }
}
