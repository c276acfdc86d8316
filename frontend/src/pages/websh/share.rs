//! The Share panel of a terminal tab: a form that creates a link (read-only or not, how long it
//! lasts), the new link's URL and password shown once, the terminal's links, and who is in the
//! terminal now, with "Remove" on guests.

use super::links::ShareLinks;
use crate::api::{self, ApiError};
use crate::components::ErrorBox;
use crate::pages::admin::form::CopyButton;
use crate::terminal::flow::Phase;
use crate::terminal::pane::Tab;
use crate::terminal::participants::ParticipantList;
use crate::time::format_at;
use gatehouse_shared::share::{CreateShare, ShareCreated, DEFAULT_EXPIRY_SECS};
use gatehouse_shared::ParticipantId;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The lifetimes offered (seconds, label); the server accepts 5 minutes to 3 hours.
const EXPIRIES: [(u64, &str); 6] = [
    (300, "5 minutes"),
    (900, "15 minutes"),
    (1800, "30 minutes"),
    (3600, "1 hour"),
    (7200, "2 hours"),
    (10800, "3 hours"),
];

#[component]
pub fn SharePanel(tab: Tab, on_close: Callback<()>) -> impl IntoView {
    let Some(id) = tab.terminal.get_untracked() else {
        return view! { <aside class="share-panel" id="share-panel"></aside> }.into_any();
    };
    let owner = tab.watching.is_none();
    let phase = RwSignal::from(tab.phase.clone());
    let participants = RwSignal::from(tab.participants.clone());
    // Bumped after a change made here, so the links list refetches at once.
    let refresh = RwSignal::new(0u32);
    let remove_error = RwSignal::new(None::<ApiError>);
    let remove = Callback::new(move |participant: ParticipantId| {
        spawn_local(async move {
            // The stream pushes the new participant list; only a failure needs showing.
            let result = api::remove_participant(id, participant).await;
            remove_error.set(result.err());
        });
    });
    // The stream pushes the list on attach and on every change; until it has said anything
    // (still connecting), the list is read once.
    if participants.with_untracked(Vec::is_empty) {
        spawn_local(async move {
            if let Ok(page) = api::participants(id).await {
                participants.try_update(|list| {
                    if list.is_empty() {
                        *list = page.items;
                    }
                });
            }
        });
    }
    let live = move || !phase.with(Phase::is_final);
    let title = if owner {
        "Share this terminal"
    } else {
        "Links and participants"
    };
    view! {
        <aside class="share-panel" id="share-panel" aria-labelledby="share-heading">
            <div class="share-head">
                <h2 id="share-heading">{title}</h2>
                <button type="button" class="link" aria-label="Close the share panel"
                    on:click=move |_| on_close.run(())>
                    "Close"
                </button>
            </div>
            <Show when=move || owner && live()>
                <CreateShareForm id=id on_created=Callback::new(move |()| refresh.update(|n| *n += 1)) />
            </Show>
            <ShareLinks id=id refresh=refresh changes=Signal::derive(move || participants.with(Vec::len)) />
            <ParticipantList items=participants on_remove=remove />
            <ErrorBox error=remove_error />
        </aside>
    }
    .into_any()
}

/// "Read-only", the lifetime, "Create link"; then the link and its password, once.
#[component]
fn CreateShareForm(id: uuid::Uuid, on_created: Callback<()>) -> impl IntoView {
    let read_only = RwSignal::new(true);
    let expiry = RwSignal::new(DEFAULT_EXPIRY_SECS);
    let created = RwSignal::new(None::<ShareCreated>);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let submit = move |ev: web_sys::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let body = CreateShare {
            read_only: read_only.get_untracked(),
            expires_in_secs: Some(expiry.get_untracked()),
        };
        spawn_local(async move {
            match api::create_share(id, &body).await {
                Ok(share) => {
                    error.set(None);
                    created.set(Some(share));
                    on_created.run(());
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let pick = move |ev: leptos::ev::Event| {
        if let Ok(secs) = event_target_value(&ev).parse::<u64>() {
            expiry.set(secs);
        }
    };
    view! {
        <form class="share-form" on:submit=submit>
            <label class="check">
                <input type="checkbox" id="share-read-only" name="read_only" bind:checked=read_only />
                "Read-only (guests watch, they cannot type)"
            </label>
            <label>
                "Link expires after"
                <select id="share-expiry" name="expires_in_secs" on:change=pick>
                    {EXPIRIES
                        .iter()
                        .map(|(secs, label)| {
                            view! {
                                <option value=secs.to_string() selected=*secs == DEFAULT_EXPIRY_SECS>
                                    {*label}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <button type="submit" id="share-create" class="primary"
                aria-disabled=move || busy.get().to_string()>
                "Create link"
            </button>
        </form>
        <ErrorBox error=error />
        {move || {
            created
                .get()
                .map(|share| view! { <NewShare share=share on_done=move || created.set(None) /> })
        }}
    }
}

/// The link and its password: the only time the password is shown.
#[component]
fn NewShare(
    share: ShareCreated,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let access = if share.read_only {
        "Read-only"
    } else {
        "Guests can type"
    };
    view! {
        <div class="secret-box share-created" role="status" data-testid="share-created"
            data-share-id=share.id.to_string()>
            <p>
                <strong>"Link created. "</strong>
                "The password is shown only now: copy it, and send it apart from the link."
            </p>
            <p class="secret-line">
                <span class="secret-label">"Link"</span>
                <code id="share-url" data-testid="share-url">{share.url.clone()}</code>
                <CopyButton text=share.url what="link" />
            </p>
            <p class="secret-line">
                <span class="secret-label">"Password"</span>
                <code id="share-password" data-testid="share-password">{share.password.clone()}</code>
                <CopyButton text=share.password what="password" />
            </p>
            <p class="hint">{format!("{access}; expires {}.", format_at(&share.expires_at))}</p>
            <button type="button" on:click=move |_| on_done()>"Done"</button>
        </div>
    }
}
