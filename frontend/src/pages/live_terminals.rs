//! Live terminals (`/live`): oversight for staff and superusers, who see every live terminal
//! (a member sees only their own): whose, where, under which work session, who is in it; with
//! "Watch" (read-only, the owner is told) and "Terminate" after a confirmation; and the live
//! tunnels (staff: everyone's) with their connections and bytes, each with "End".

use crate::api::{self, ApiError};
use crate::auth::use_auth;
use crate::components::ErrorBox;
use crate::live::use_live;
use crate::time::format_at;
use gatehouse_shared::share::LiveTerminal;
use leptos::html::Button;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

#[component]
pub fn LiveTerminalsPage() -> impl IntoView {
    let live = use_live();
    // Bumped after a terminate here, so the row goes at once.
    let refresh = RwSignal::new(0u32);
    let terminals = LocalResource::new(move || {
        live.version.track();
        refresh.track();
        async move { api::live_terminals().await }
    });
    view! {
        <section class="page page-live">
            <div class="page-head">
                <h1>"Live terminals"</h1>
                <button type="button" on:click=move |_| refresh.update(|n| *n += 1)>"Refresh"</button>
            </div>
            {move || match terminals.get() {
                None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorBox error=Signal::derive(move || Some(e.clone())) /> }.into_any(),
                Some(Ok(page)) if page.items.is_empty() => {
                    view! { <p class="empty" data-testid="live-empty">"No terminal is open right now."</p> }
                        .into_any()
                }
                Some(Ok(page)) => view! {
                    <div class="table-wrap">
                        <table class="list live-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Owner"</th>
                                    <th scope="col">"Server"</th>
                                    <th scope="col">"Run as"</th>
                                    <th scope="col">"Work session"</th>
                                    <th scope="col">"Since"</th>
                                    <th scope="col">"Participants"</th>
                                    <th scope="col">"Links"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {page
                                    .items
                                    .into_iter()
                                    .map(|terminal| view! { <LiveRow terminal=terminal refresh=refresh /> })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                    .into_any(),
            }}
            <h2>"Live tunnels"</h2>
            <crate::components::tunnels::TunnelTable work_session=None />
        </section>
    }
}

#[component]
fn LiveRow(terminal: LiveTerminal, refresh: RwSignal<u32>) -> impl IntoView {
    let auth = use_auth();
    let id = terminal.id;
    // A terminal an API token opened rides on no work session.
    let session = terminal.work_session.map(|s| s.to_string());
    let short: Option<String> = session.as_ref().map(|s| s.chars().take(8).collect());
    let names: Vec<String> = terminal
        .participants
        .iter()
        .map(|p| p.name.clone())
        .collect();
    // Watching is for oversight; a member's own terminal is already in their tabs.
    let watch = auth
        .is_staff()
        .then(|| format!("/websh?watch={id}"))
        .map(|href| {
            view! {
                <A href=href attr:class="button live-watch" attr:data-testid="live-watch">"Watch"</A>
            }
        });
    view! {
        <tr class="live-row" data-testid="live-row" data-id=id.to_string()
            data-owner=terminal.owner.username.clone() data-server=terminal.server.clone()>
            <td>{terminal.owner.username.clone()}</td>
            <td>{terminal.server.clone()}</td>
            <td>{terminal.run_as.clone().unwrap_or_else(|| "default".to_owned())}</td>
            <td>
                {match (session, short) {
                    (Some(session), Some(short)) => view! {
                        <A href=format!("/sessions/{session}") attr:class="mono">{short}</A>
                    }.into_any(),
                    _ => view! { <span class="muted">"API token"</span> }.into_any(),
                }}
            </td>
            <td class="nowrap">{format_at(&terminal.started_at)}</td>
            <td class="wrap live-participants">{names.join(", ")}</td>
            <td class="num">{terminal.active_shares}</td>
            <td class="row-actions nowrap">
                {watch}
                <TerminateButton id=id owner=terminal.owner.username.clone() server=terminal.server.clone() refresh=refresh />
            </td>
        </tr>
    }
}

/// "Terminate", then a confirm step; focus follows the buttons so the keyboard keeps its place.
#[component]
fn TerminateButton(
    id: uuid::Uuid,
    owner: String,
    server: String,
    refresh: RwSignal<u32>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let ask_ref = NodeRef::<Button>::new();
    let confirm_ref = NodeRef::<Button>::new();
    let focus_later = move |target: NodeRef<Button>| {
        request_animation_frame(move || {
            if let Some(button) = target.get_untracked() {
                let _ = button.focus();
            }
        });
    };
    let terminate = move |_| {
        spawn_local(async move {
            match api::terminate_websh(id).await {
                Ok(()) => refresh.update(|n| *n += 1),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let question = format!("End {owner}'s shell on {server}? Everyone in it is disconnected. ");
    view! {
        <Show
            when=move || confirming.get()
            fallback=move || {
                view! {
                    <button type="button" class="live-terminate" data-testid="live-terminate"
                        node_ref=ask_ref
                        on:click=move |_| {
                            confirming.set(true);
                            focus_later(confirm_ref);
                        }>
                        "Terminate"
                    </button>
                }
            }
        >
            <span class="confirm">
                {question.clone()}
                <button type="button" class="danger live-terminate-confirm"
                    data-testid="live-terminate-confirm" node_ref=confirm_ref on:click=terminate>
                    "Terminate"
                </button>
                <button type="button" class="live-terminate-cancel" on:click=move |_| {
                    confirming.set(false);
                    focus_later(ask_ref);
                }>"Cancel"</button>
            </span>
        </Show>
        <ErrorBox error=error />
    }
}
