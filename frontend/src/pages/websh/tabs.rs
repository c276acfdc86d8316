//! The tab bar's pieces: one button per tab (select, close) and the form that opens another
//! terminal under the current tab's work session.

use super::{non_empty, Target};
use crate::api;
use crate::components::RunAsField;
use crate::live::use_live;
use crate::terminal::flow::Phase;
use crate::terminal::pane::Tab;
use gatehouse_shared::{Scope, Status};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

pub fn focus_tab(key: u32) {
    let button = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(&format!("terminal-tab-{key}")))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(button) = button {
        let _ = button.focus();
    }
}

/// One tab: select it, or close it (which closes its terminal).
#[component]
pub fn TabButton(
    tab: Tab,
    active: RwSignal<Option<u32>>,
    on_close: Callback<u32>,
) -> impl IntoView {
    let key = tab.key;
    let phase = RwSignal::from(tab.phase.clone());
    let selected = move || active.get() == Some(key);
    // A mouse click hands the keyboard to the terminal; Enter/Space (detail 0) keeps it on the
    // tab, for whoever navigates by keyboard.
    let select = move |ev: web_sys::MouseEvent| {
        if ev.detail() > 0 {
            if let Some(button) = ev
                .current_target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = button.blur();
            }
        }
        active.set(Some(key));
    };
    let place = match &tab.user {
        Some(user) => format!("{user}@{}", tab.server),
        None => tab.server.clone(),
    };
    let watching = tab.watching.is_some();
    let confirm_text = format!(
        "End the shell on {place}? Anything running in it stops. (Leaving the page instead keeps it.)"
    );
    // A watch tab says so, and closing it only stops watching.
    let (label, close_label) = match &tab.watching {
        Some(owner) => (
            format!("{owner}: {place} (watching)"),
            format!("Stop watching {owner}'s terminal on {}", tab.server),
        ),
        None => (place, format!("Close the terminal on {}", tab.server)),
    };
    view! {
        <span class="terminal-tab" class:selected=selected>
            <button
                role="tab"
                id=format!("terminal-tab-{key}")
                aria-selected=move || selected().to_string()
                aria-controls=format!("terminal-panel-{key}")
                tabindex=move || if selected() { "0" } else { "-1" }
                data-testid="terminal-tab"
                data-server=tab.server.clone()
                data-watching=tab.watching.is_some().to_string()
                data-state=move || phase.with(Phase::as_str)
                on:click=select
            >
                <span class="terminal-dot" aria-hidden="true"></span>
                {label}
            </button>
            <button
                class="terminal-tab-close"
                data-testid="terminal-tab-close"
                aria-label=close_label
                title="Close"
                on:click=move |_| {
                    // Closing one's own live terminal ends its shell: ask first.
                    let live = !watching && !phase.with_untracked(Phase::is_final);
                    let sure = !live
                        || web_sys::window()
                            .and_then(|w| w.confirm_with_message(&confirm_text).ok())
                            .unwrap_or(false);
                    if sure {
                        on_close.run(key);
                    }
                }
            >
                "×"
            </button>
        </span>
    }
}

/// Opens another tab under the current tab's work session, on any of its servers; offered only
/// while that session is active and includes terminals.
#[component]
pub fn NewTerminal(
    #[prop(into)] current: Signal<Option<Tab>>,
    on_open: Callback<Target>,
) -> impl IntoView {
    let live = use_live();
    // Not from a watch tab: its work session is someone else's.
    let session_id = move || {
        current.with(|t| {
            t.as_ref()
                .filter(|t| t.watching.is_none())
                .and_then(|t| t.session)
        })
    };
    let servers = LocalResource::new(move || {
        live.version.track();
        let id = session_id();
        async move {
            let Some(id) = id else {
                return Vec::new();
            };
            match api::work_session(&id.to_string()).await {
                Ok(s) if s.status == Status::Active && s.has_scope(Scope::Websh) => {
                    s.servers.into_iter().map(|s| s.name).collect()
                }
                _ => Vec::new(),
            }
        }
    });
    let names = move || servers.get().unwrap_or_default();
    let server = RwSignal::new(String::new());
    let user = RwSignal::new(String::new());
    // The select shows the first server until one is picked.
    let chosen_server = move || {
        let picked = server.get();
        let names = names();
        if names.contains(&picked) {
            picked
        } else {
            names.first().cloned().unwrap_or_default()
        }
    };
    let submit = move |ev: web_sys::SubmitEvent| {
        ev.prevent_default();
        let names = servers.get_untracked().unwrap_or_default();
        // The select shows the first server until one is picked.
        let picked = server.get_untracked();
        let chosen = names
            .iter()
            .find(|n| **n == picked)
            .or_else(|| names.first())
            .cloned();
        if let Some(chosen) = chosen {
            on_open.run(Target {
                server: chosen,
                user: non_empty(Some(user.get_untracked())),
                session: current.with_untracked(|t| {
                    t.as_ref()
                        .filter(|t| t.watching.is_none())
                        .and_then(|t| t.session)
                }),
            });
        }
    };
    // Rendered once and kept while the list refreshes, so typing in it is never interrupted.
    view! {
        <Show when=move || !names().is_empty()>
            <form class="terminal-new" data-testid="terminal-new" on:submit=submit>
                <label>
                    "Server "
                    <select on:change=move |ev| server.set(event_target_value(&ev))
                    >
                        <For each=names key=|n| n.clone() let:name>
                            <option value=name.clone()>{name.clone()}</option>
                        </For>
                    </select>
                </label>
                <RunAsField server=Signal::derive(chosen_server) user=user />
                <button type="submit">"New terminal"</button>
            </form>
        </Show>
    }
}
