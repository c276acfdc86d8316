//! An extension request: what it asks, in words, and the approver's decision on it (approve, or
//! `r` then Enter to reject). Used by the approvals queue and the session page.

use crate::api::{self, ApiError};
use crate::components::decision::DecisionKeys;
use crate::components::ErrorBox;
use crate::time::{format_at, format_duration};
use gatehouse_shared::approval::{Approval, ApprovalKind};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// "by 30m (until 14:30)" or "until 14:30".
pub fn asked(approval: &Approval) -> String {
    let Some(ask) = &approval.extension else {
        return String::new();
    };
    match (ask.duration_secs, ask.expires_at) {
        (Some(secs), _) => {
            let until = approval
                .work_session
                .expires_at
                .map(|at| {
                    format!(
                        " (until {})",
                        format_at(&(at + chrono::Duration::seconds(secs)))
                    )
                })
                .unwrap_or_default();
            format!("by {}{until}", format_duration(secs))
        }
        (None, Some(at)) => format!("until {}", format_at(&at)),
        (None, None) => String::new(),
    }
}

/// True when a key press is meant for a text field rather than a shortcut.
pub fn typing(ev: &web_sys::KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
        .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
        || ev.ctrl_key()
        || ev.meta_key()
        || ev.alt_key()
}

/// Approve/reject for one pending extension; `on_done` runs once the decision landed.
#[component]
pub fn ExtensionDecision(
    approval: Approval,
    #[prop(into)] on_done: Callback<Approval>,
    /// `a` approves and `r` starts rejecting (Enter then confirms) while this is true.
    #[prop(into, optional)]
    selected: Signal<bool>,
) -> impl IntoView {
    let id = approval.id;
    // The same decision serves single root commands; the button says which it approves.
    let approve_label = match approval.kind {
        ApprovalKind::Command => "Approve and run once",
        _ => "Approve extension",
    };
    let reason = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);

    let decide = move |approve: bool| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let why = Some(reason.get_untracked().trim().to_owned()).filter(|r| !r.is_empty());
        spawn_local(async move {
            let result = api::decide_approval(id, approve, why).await;
            busy.set(false);
            match result {
                Ok(done) => {
                    error.set(None);
                    on_done.run(done);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let keys = DecisionKeys::install(selected, move || decide(true));
    let (rejecting, confirm) = (keys.rejecting, keys.confirm);

    view! {
        <div class="decision">
            <label>
                "Reason (optional)"
                <input name="reason" maxlength="1000" bind:value=reason />
            </label>
            <ErrorBox error=error />
            <div class="buttons">
                <button class="primary" data-action="approve-extension" disabled=busy
                    title="Approve (a)" on:click=move |_| decide(true)>{approve_label}</button>
                <Show
                    when=move || rejecting.get()
                    fallback=move || view! {
                        <button class="danger" data-action="reject-extension" disabled=busy
                            title="Reject (r)" on:click=move |_| keys.start_reject()>"Reject"</button>
                    }
                >
                    <button class="danger" data-action="confirm-reject" disabled=busy node_ref=confirm
                        on:click=move |_| decide(false)>"Confirm reject"</button>
                    <button data-action="cancel-reject" on:click=move |_| rejecting.set(false)>"Keep"</button>
                </Show>
            </div>
        </div>
    }
}
