//! `/device`: where a person approves a `gate` CLI's device sign-in. The page shows what asked
//! (its name), from which address and when, and the code to compare with the terminal, before
//! anything is approved: approving hands that terminal a sign-in as this person.

use crate::api::signins::{decide_device, pending_device};
use crate::api::ApiError;
use crate::components::ErrorBox;
use crate::time::format_at;
use gatehouse_shared::signin::{normalise_user_code, PendingDevice};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;

/// What has been decided on this page.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Decided {
    Approved,
    Denied,
}

#[component]
pub fn DevicePage() -> impl IntoView {
    let query = use_query_map();
    let typed = RwSignal::new(query.with_untracked(|q| q.get("user_code").unwrap_or_default()));
    // The code being looked at: set from the link, or when the person submits one.
    let code = RwSignal::new(normalise_user_code(&typed.get_untracked()));
    let error = RwSignal::new(None::<ApiError>);
    let pending = LocalResource::new(move || {
        let code = code.get();
        async move {
            match code {
                Some(code) => pending_device(&code).await.map(Some),
                None => Ok(None),
            }
        }
    });
    let decided = RwSignal::new(None::<Decided>);
    let busy = RwSignal::new(false);
    let look_up = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        decided.set(None);
        error.set(None);
        code.set(normalise_user_code(&typed.get_untracked()));
        if code.get_untracked().is_none() {
            error.set(Some(ApiError::local(
                "Enter the eight letters the command line shows, such as WDJB-MJHT.",
            )));
        }
    };
    let decide = move |approve: bool| {
        let Some(user_code) = code.get_untracked() else {
            return;
        };
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            match decide_device(user_code, approve).await {
                Ok(()) => {
                    error.set(None);
                    decided.set(Some(if approve {
                        Decided::Approved
                    } else {
                        Decided::Denied
                    }));
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card narrow page-device" data-testid="device-page">
            <h1>"Sign in a command line"</h1>
            {move || match decided.get() {
                Some(Decided::Approved) => view! {
                    <p class="notice" data-testid="device-approved">
                        "Approved. Go back to your terminal: it is signed in as you."
                    </p>
                }.into_any(),
                Some(Decided::Denied) => view! {
                    <p class="notice" data-testid="device-denied">
                        "Denied. The command line was not signed in."
                    </p>
                }.into_any(),
                None => view! {
                    <form on:submit=look_up class="device-code-form">
                        <label for="device-user-code">"Code shown by the command line"</label>
                        <input id="device-user-code" name="user_code" autocomplete="off"
                            autocapitalize="characters" spellcheck="false"
                            prop:value=move || typed.get()
                            on:input=move |ev| typed.set(event_target_value(&ev)) />
                        <button type="submit">"Look up"</button>
                    </form>
                    {move || pending.get().map(|result| match result {
                        Ok(Some(request)) => view! {
                            <Request request decide busy />
                        }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(e) => view! {
                            <p class="error" role="alert" data-testid="device-error">
                                {e.envelope.message}
                            </p>
                        }.into_any(),
                    })}
                }.into_any(),
            }}
            <ErrorBox error=error />
        </section>
    }
}

/// The request's facts and the two decisions.
#[component]
fn Request(
    request: PendingDevice,
    decide: impl Fn(bool) + Copy + Send + Sync + 'static,
    busy: RwSignal<bool>,
) -> impl IntoView {
    view! {
        <div data-testid="device-request">
            <p>"Only approve if you started this sign-in yourself, just now."</p>
            <dl class="fields">
                <dt>"Code"</dt>
                <dd data-testid="device-code">{request.user_code}</dd>
                <dt>"Client"</dt>
                <dd data-testid="device-client">{request.client_name}</dd>
                <dt>"From address"</dt>
                <dd data-testid="device-address">{request.address}</dd>
                <dt>"Asked at"</dt>
                <dd>{format_at(&request.requested_at)}</dd>
                <dt>"Expires at"</dt>
                <dd>{format_at(&request.expires_at)}</dd>
            </dl>
            <div class="actions">
                <button type="button" class="primary" data-action="approve-device"
                    aria-disabled=move || busy.get().to_string()
                    on:click=move |_| decide(true)>"Approve"</button>
                <button type="button" data-action="deny-device"
                    aria-disabled=move || busy.get().to_string()
                    on:click=move |_| decide(false)>"Deny"</button>
            </div>
        </div>
    }
}
