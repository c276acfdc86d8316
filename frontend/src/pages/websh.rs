//! Terminals (`/websh`): several live terminals in tabs. `?server=&session=&user=` opens a new
//! tab and is then dropped from the address, so a reload does not open another terminal.

use crate::api;
use crate::live::use_live;
use crate::terminal::flow::Phase;
use crate::terminal::pane::{Tab, TerminalPane};
use gatehouse_shared::{Scope, Status, WorkSessionId};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use wasm_bindgen::JsCast;

/// What a new tab needs: where, as whom, under which work session.
#[derive(Clone, Debug, PartialEq)]
struct Target {
    server: String,
    user: Option<String>,
    session: Option<WorkSessionId>,
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

#[component]
pub fn WebshPage() -> impl IntoView {
    let tabs = RwSignal::new(Vec::<Tab>::new());
    let active = RwSignal::new(None::<u32>);
    let next_key = StoredValue::new(0u32);

    let open = move |target: Target| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        tabs.update(|list| {
            list.push(Tab {
                key,
                server: target.server,
                user: target.user,
                session: target.session,
                phase: ArcRwSignal::new(Phase::Connecting),
                terminal: ArcRwSignal::new(None),
            })
        });
        active.set(Some(key));
    };
    let close = move |key: u32| {
        let mut neighbour = None;
        tabs.update(|list| {
            if let Some(i) = list.iter().position(|t| t.key == key) {
                let tab = list.remove(i);
                // Closing a tab ends its shell; leaving the page only detaches (resumable).
                if let Some(id) = tab.terminal.get_untracked() {
                    leptos::task::spawn_local(async move {
                        let _ = api::terminate_websh(id).await;
                    });
                }
                neighbour = list.get(i.min(list.len().saturating_sub(1))).map(|t| t.key);
            }
        });
        if active.get_untracked() == Some(key) {
            active.set(neighbour);
        }
    };

    let query = use_query_map();
    let navigate = use_navigate();
    Effect::new(move |_| {
        let target = query.with(|q| {
            non_empty(q.get("server")).map(|server| Target {
                server,
                user: non_empty(q.get("user")),
                session: q.get("session").and_then(|s| s.trim().parse().ok()),
            })
        });
        if let Some(target) = target {
            open(target);
            navigate(
                "/websh",
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });

    // Arrow keys move between tabs, as in any tab list; focus follows, so the next arrow key
    // still reaches the tab list rather than the newly shown shell.
    let on_key = move |ev: web_sys::KeyboardEvent| {
        let step: isize = match ev.key().as_str() {
            "ArrowRight" => 1,
            "ArrowLeft" => -1,
            _ => return,
        };
        let keys: Vec<u32> = tabs.with_untracked(|list| list.iter().map(|t| t.key).collect());
        let Some(i) = active
            .get_untracked()
            .and_then(|k| keys.iter().position(|x| *x == k))
        else {
            return;
        };
        let n = keys.len() as isize;
        let Some(next) = keys
            .get((i as isize + step).rem_euclid(n) as usize)
            .copied()
        else {
            return;
        };
        ev.prevent_default();
        focus_tab(next);
        active.set(Some(next));
    };
    // xterm.js is not part of the first download; panels appear once it is loaded.
    let xterm_ready = LocalResource::new(crate::terminal::xterm::load);
    let current = Signal::derive(move || {
        let key = active.get()?;
        tabs.with(|list| list.iter().find(|t| t.key == key).cloned())
    });

    view! {
        <section class="websh-page">
            <div class="terminal-bar">
                <div class="terminal-tabs" role="tablist" aria-label="Terminals" on:keydown=on_key>
                    <For each=move || tabs.get() key=|t| t.key let:tab>
                        <TabButton tab=tab active=active on_close=Callback::new(close) />
                    </For>
                </div>
                <NewTerminal current=current on_open=Callback::new(open) />
            </div>
            <Show when=move || tabs.with(Vec::is_empty)>
                <p class="empty terminal-hint">
                    "No terminal is open. Open one from a "
                    <A href="/sessions">"work session"</A>
                    " or from the "
                    <A href="/servers">"servers list"</A>
                    "."
                </p>
            </Show>
            {move || match xterm_ready.get() {
                Some(Err(e)) => Some(view! { <p class="error" role="alert">{e}</p> }.into_any()),
                _ => None,
            }}
            <div class="terminal-panels">
                <Show when=move || matches!(xterm_ready.get(), Some(Ok(())))>
                <For each=move || tabs.get() key=|t| t.key let:tab>
                    {
                        let key = tab.key;
                        view! { <TerminalPane tab=tab active=Signal::derive(move || active.get() == Some(key)) /> }
                    }
                </For>
                </Show>
            </div>
        </section>
    }
}

fn focus_tab(key: u32) {
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
fn TabButton(tab: Tab, active: RwSignal<Option<u32>>, on_close: Callback<u32>) -> impl IntoView {
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
    let label = match &tab.user {
        Some(user) => format!("{user}@{}", tab.server),
        None => tab.server.clone(),
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
                data-state=move || phase.with(Phase::as_str)
                on:click=select
            >
                <span class="terminal-dot" aria-hidden="true"></span>
                {label}
            </button>
            <button
                class="terminal-tab-close"
                data-testid="terminal-tab-close"
                aria-label=format!("Close the terminal on {}", tab.server)
                title="Close"
                on:click=move |_| on_close.run(key)
            >
                "×"
            </button>
        </span>
    }
}

/// Opens another tab under the current tab's work session, on any of its servers; offered only
/// while that session is active and includes terminals.
#[component]
fn NewTerminal(
    #[prop(into)] current: Signal<Option<Tab>>,
    on_open: Callback<Target>,
) -> impl IntoView {
    let live = use_live();
    let session_id = move || current.with(|t| t.as_ref().and_then(|t| t.session));
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
                session: current.with_untracked(|t| t.as_ref().and_then(|t| t.session)),
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
                <label>
                    "Run as "
                    <input name="run_as" size="10" autocomplete="off" placeholder="default" bind:value=user />
                </label>
                <button type="submit">"New terminal"</button>
            </form>
        </Show>
    }
}
