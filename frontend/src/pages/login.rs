//! Sign-in: username and password, then the TOTP code when the account has MFA.

use crate::api::{self, ApiError};
use crate::auth::use_auth;
use crate::components::ErrorBox;
use crate::live::use_live;
use gatehouse_shared::api::LoginRequest;
use gatehouse_shared::ErrorCode;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

/// Where to go after signing in: `?next=` when it is a path on this console, else the list.
fn next_path(next: Option<String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//"))
        .unwrap_or_else(|| "/sessions".to_owned())
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = use_auth();
    let live = use_live();
    let query = use_query_map();
    let navigate = use_navigate();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let otp = RwSignal::new(String::new());
    let needs_otp = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);

    // Someone already signed in (or a fresh install) does not belong here.
    Effect::new({
        let navigate = navigate.clone();
        move || {
            if auth.checked.get() && auth.me.with(Option::is_some) {
                navigate(
                    &next_path(query.with_untracked(|q| q.get("next"))),
                    NavigateOptions::default(),
                );
            } else if auth.setup_needed.get() {
                navigate("/setup", NavigateOptions::default());
            }
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        let request = LoginRequest {
            username: username.get_untracked(),
            password: password.get_untracked(),
            otp: needs_otp
                .get_untracked()
                .then(|| otp.get_untracked().trim().to_owned()),
            ..Default::default()
        };
        spawn_local(async move {
            match api::login(&request).await {
                Ok(_) => {
                    error.set(None);
                    auth.refresh().await;
                    live.connect();
                }
                Err(e) if e.code() == ErrorCode::MfaRequired => {
                    error.set(None);
                    needs_otp.set(true);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };

    view! {
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <form on:submit=submit>
                <label>
                    "Username"
                    <input name="username" autocomplete="username" required autofocus
                        bind:value=username disabled=needs_otp />
                </label>
                <label>
                    "Password"
                    <input name="password" type="password" autocomplete="current-password" required
                        bind:value=password disabled=needs_otp />
                </label>
                <Show when=move || needs_otp.get()>
                    <label>
                        "Code from your authenticator app (or a recovery code)"
                        <input name="otp" autocomplete="one-time-code" maxlength="64"
                            required autofocus bind:value=otp />
                    </label>
                </Show>
                <ErrorBox error=error />
                <button type="submit" class="primary" disabled=busy>
                    {move || if needs_otp.get() { "Verify" } else { "Sign in" }}
                </button>
            </form>
        </section>
    }
}
