//! Joining a shared terminal (`/join#<secret>`), with no account: the link's secret is in the
//! address fragment (which browsers never send to a server), the password is typed here, and
//! the terminal then streams with the ticket the join returned. Not behind sign-in.

mod guest;
mod rejoin;

use crate::api::{self, ApiError};
use gatehouse_shared::share::{JoinShare, Joined, MAX_GUEST_NAME};
use guest::GuestSession;
use leptos::prelude::*;
use leptos::task::spawn_local;
use rejoin::Guest;
use std::rc::Rc;

/// Keeps `waiting` set for `secs` seconds (the server's `retry_after_secs`).
fn hold_back(waiting: RwSignal<bool>, secs: u64) {
    waiting.set(true);
    let ms = u32::try_from(secs.saturating_mul(1000)).unwrap_or(u32::MAX);
    spawn_local(async move {
        gloo_timers::future::TimeoutFuture::new(ms).await;
        waiting.try_set(false);
    });
}

/// The link's secret: the address fragment without its `#`, if there is one.
fn link_secret() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    let raw = hash.trim_start_matches('#').trim();
    // A mail client or chat may have percent-encoded it; an undecodable one is used as it is.
    let secret = js_sys::decode_uri_component(raw)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| raw.to_owned());
    (!secret.is_empty()).then_some(secret)
}

#[component]
pub fn JoinPage() -> impl IntoView {
    let Some(secret) = link_secret() else {
        return view! {
            <section class="page narrow-page join-page">
                <div class="card narrow">
                    <h1>"Join a shared terminal"</h1>
                    <div class="error" role="alert" id="join-incomplete" data-testid="join-incomplete">
                        <strong>"This link is incomplete."</strong>
                        <div class="reason">
                            "The part after # is missing. Ask for the link again and open it whole."
                        </div>
                    </div>
                </div>
            </section>
        }
        .into_any();
    };
    let joined = RwSignal::new(None::<Joined>);
    let guest = StoredValue::new_local(None::<Rc<Guest>>);
    let form_secret = secret.clone();
    let on_joined = Callback::new(move |(answer, password): (Joined, String)| {
        guest.set_value(Some(Rc::new(Guest::new(secret.clone(), password, &answer))));
        joined.set(Some(answer));
    });
    (move || match (joined.get(), guest.get_value()) {
        (Some(answer), Some(guest)) => {
            let guest = StoredValue::new_local(guest);
            view! { <GuestSession joined=answer guest=guest /> }.into_any()
        }
        _ => view! { <JoinForm secret=form_secret.clone() on_joined=on_joined /> }.into_any(),
    })
    .into_any()
}

/// Name and password; shows the server's words on a wrong password, a locked link or the rate
/// limit, and holds "Join" back for as long as the server asked to wait.
#[component]
fn JoinForm(secret: String, on_joined: Callback<(Joined, String)>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let waiting = RwSignal::new(false);
    let submit = move |ev: web_sys::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() || waiting.get_untracked() {
            return;
        }
        // The last answer goes while this one is awaited, so what shows is always current.
        error.set(None);
        let typed = name.get_untracked().trim().to_owned();
        let body = JoinShare {
            secret: secret.clone(),
            password: password.get_untracked(),
            name: (!typed.is_empty()).then_some(typed),
            participant: None,
        };
        busy.set(true);
        spawn_local(async move {
            match api::join_share(&body).await {
                Ok(answer) => {
                    // The form goes; the only copy of the password left is the one kept for
                    // re-joining.
                    password.set(String::new());
                    on_joined.run((answer, body.password));
                }
                Err(e) => {
                    if let Some(secs) = e.envelope.retry_after_secs {
                        hold_back(waiting, secs);
                    }
                    error.set(Some(e));
                    busy.set(false);
                }
            }
        });
    };
    view! {
        <section class="page narrow-page join-page">
            <div class="card narrow">
                <h1>"Join a shared terminal"</h1>
                <p class="hint">
                    "Someone shared a live terminal with you. Enter the password they gave you."
                </p>
                <form on:submit=submit>
                    <label>
                        "Your name (optional)"
                        <input id="join-name" name="name" autocomplete="nickname"
                            maxlength=MAX_GUEST_NAME.to_string() bind:value=name />
                    </label>
                    <label>
                        "Password"
                        <input id="join-password" name="password" type="password" required
                            autocomplete="off" bind:value=password />
                    </label>
                    {move || {
                        error.get().map(|e| {
                            view! {
                                <div class="error" role="alert" id="join-error"
                                    data-testid="join-error" data-error-code=e.code().to_string()>
                                    {e.to_string()}
                                    {e.envelope.retry_after_secs.map(|secs| {
                                        format!(" You can try again in {secs} s.")
                                    })}
                                </div>
                            }
                        })
                    }}
                    <button type="submit" id="join-submit" class="primary"
                        aria-disabled=move || busy.get().to_string() disabled=move || waiting.get()>
                        "Join"
                    </button>
                </form>
            </div>
        </section>
    }
}
