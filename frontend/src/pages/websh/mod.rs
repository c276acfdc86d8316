//! Terminals (`/websh`): several live terminals in tabs. `?server=&session=&user=` opens a new
//! tab, `?watch=<terminal id>` watches someone's live terminal read-only (staff); either is
//! then dropped from the address, so a reload does not open another one. The Share panel acts
//! on the active tab. The tabs themselves live at the app level (`terminal::tabs`), so they
//! outlive this page; "My terminals" re-attaches live ones no tab holds (after a reload).
//!
//! A root terminal is opened by the page itself before any tab exists: the gateway may want a
//! fresh one-time code first (step-up), asked for in place and then the open is tried again, so
//! a refused root terminal leaves no tab behind.

mod links;
mod mine;
mod share;
mod tabs;

use crate::api::{self, ApiError};
use crate::components::{ErrorBox, StepUp, StepUpPrompt};
use crate::prefs::FontSizeControl;
use crate::terminal::pane::{Tab, TerminalPane};
use crate::terminal::tabs::use_terminals;
use gatehouse_shared::websh::OpenWebsh;
use gatehouse_shared::WorkSessionId;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use mine::MyTerminals;
use share::SharePanel;
use tabs::{focus_tab, NewTerminal, TabButton};

/// What a new tab needs: where, as whom, under which work session.
#[derive(Clone, Debug, PartialEq)]
struct Target {
    server: String,
    user: Option<String>,
    session: Option<WorkSessionId>,
}

/// The run-as user whose terminals may need a fresh code first.
const ROOT: &str = "root";

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

#[component]
pub fn WebshPage() -> impl IntoView {
    let terminals = use_terminals();
    let (tabs, active) = (terminals.tabs, terminals.active);
    let share_open = RwSignal::new(false);
    let watch_error = RwSignal::new(None::<ApiError>);

    let step_up = StepUp::new();
    let open = move |target: Target| {
        step_up.clear();
        if target.user.as_deref() != Some(ROOT) {
            terminals.open(target.server, target.user, target.session);
            return;
        }
        step_up.run(move || {
            let target = target.clone();
            async move {
                // The real size follows once the stream is open (every connection refits).
                let body = OpenWebsh {
                    server: target.server.clone(),
                    cols: 80,
                    rows: 24,
                    user: target.user.clone(),
                };
                match api::open_websh(target.session, &body).await {
                    Ok(opened) => {
                        terminals.add(|key| {
                            Tab::opened(key, target.server, target.user, target.session, opened.id)
                        });
                        None
                    }
                    Err(e) => Some(e),
                }
            }
        });
    };
    let watch = move |id: uuid::Uuid| {
        if terminals.show(id, true) {
            return;
        }
        leptos::task::spawn_local(async move {
            // The live list says whose terminal it is and where; the address says only its id.
            match api::live_terminals().await {
                Ok(page) => match page.items.iter().find(|t| t.id == id) {
                    Some(live) => terminals.add(|key| Tab::watch(key, live)),
                    None => watch_error.set(Some(ApiError::local(
                        "That terminal is not live any more, or you may not watch it.",
                    ))),
                },
                Err(e) => watch_error.set(Some(e)),
            }
        });
    };
    // Closing one's own tab ends its shell; leaving the page only detaches (resumable).
    // Closing a watch tab only stops watching.
    let close = move |key: u32| terminals.close(key);

    let query = use_query_map();
    let navigate = use_navigate();
    Effect::new(move |_| {
        let (target, watched) = query.with(|q| {
            let target = non_empty(q.get("server")).map(|server| Target {
                server,
                user: non_empty(q.get("user")),
                session: q.get("session").and_then(|s| s.trim().parse().ok()),
            });
            let watched = q
                .get("watch")
                .and_then(|s| s.trim().parse::<uuid::Uuid>().ok());
            (target, watched)
        });
        if target.is_none() && watched.is_none() {
            return;
        }
        if let Some(target) = target {
            open(target);
        } else if let Some(id) = watched {
            watch(id);
        }
        navigate(
            "/websh",
            NavigateOptions {
                replace: true,
                ..Default::default()
            },
        );
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
    // The panel follows the active tab only (not every change to the tab list), so a password
    // shown once is not wiped by an unrelated tab opening in the background. It waits for the
    // terminal to exist, since links and participants belong to it.
    let shared_tab = move || {
        let key = active.get()?;
        share_open
            .get()
            .then(|| tabs.with_untracked(|list| list.iter().find(|t| t.key == key).cloned()))
            .flatten()
            .filter(|t| t.terminal.get().is_some())
    };

    view! {
        <section class="websh-page">
            <div class="terminal-bar">
                <div class="terminal-tabs" role="tablist" aria-label="Terminals" on:keydown=on_key>
                    <For each=move || tabs.get() key=|t| t.key let:tab>
                        <TabButton tab=tab active=active on_close=Callback::new(close) />
                    </For>
                </div>
                <NewTerminal current=current on_open=Callback::new(open) />
                <ShareButton current=current open=share_open />
                <FontSizeControl />
            </div>
            <ErrorBox error=watch_error />
            <StepUpPrompt step_up=step_up />
            <MyTerminals />
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
            <div class="terminal-workspace">
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
                {move || {
                    shared_tab().map(|tab| {
                        view! { <SharePanel tab=tab on_close=Callback::new(move |()| share_open.set(false)) /> }
                    })
                }}
            </div>
        </section>
    }
}

/// Opens and closes the Share panel of the active tab, once its terminal exists. On a watch tab
/// it shows the terminal's links and participants only.
#[component]
fn ShareButton(#[prop(into)] current: Signal<Option<Tab>>, open: RwSignal<bool>) -> impl IntoView {
    let ready = move || {
        current.with(|t| {
            t.as_ref()
                .map(|t| (t.terminal.get().is_some(), t.watching.is_some()))
        })
    };
    move || {
        let (known, watching) = ready()?;
        known.then(|| {
            let label = if watching { "Participants" } else { "Share" };
            view! {
                <button
                    type="button"
                    id="share-button"
                    data-testid="share-button"
                    aria-expanded=move || open.get().to_string()
                    aria-controls="share-panel"
                    class:selected=move || open.get()
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    {label}
                </button>
            }
        })
    }
}
