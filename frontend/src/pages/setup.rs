//! First-run set-up: creates the first superuser, then signs in as them.

use crate::api::{self, ApiError};
use crate::auth::use_auth;
use crate::components::ErrorBox;
use crate::live::use_live;
use gatehouse_shared::api::{LoginRequest, SetupRequest};
use gatehouse_shared::user::MIN_PASSWORD_LEN;
use gatehouse_shared::{ErrorCode, ErrorEnvelope};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

#[component]
pub fn SetupPage() -> impl IntoView {
    let auth = use_auth();
    let live = use_live();
    let navigate = use_navigate();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);

    Effect::new({
        let navigate = navigate.clone();
        move || {
            if auth.checked.get() && !auth.setup_needed.get() {
                let to = if auth.me.with(Option::is_some) {
                    "/account"
                } else {
                    "/login"
                };
                navigate(to, NavigateOptions::default());
            }
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if password.get_untracked() != confirm.get_untracked() {
            error.set(Some(ApiError {
                status: 400,
                envelope: ErrorEnvelope::new(ErrorCode::ValidationError, "the passwords differ")
                    .with_field("confirm", "the passwords differ"),
            }));
            return;
        }
        let body = SetupRequest {
            username: username.get_untracked(),
            password: password.get_untracked(),
        };
        spawn_local(async move {
            let login = LoginRequest {
                username: body.username.clone(),
                password: body.password.clone(),
                ..Default::default()
            };
            let result = match api::setup(&body).await {
                Ok(_) => api::login(&login).await.map(|_| ()),
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => {
                    error.set(None);
                    auth.refresh().await;
                    live.connect();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };

    view! {
        <section class="card narrow">
            <h1>"Set up Gatehouse"</h1>
            <p>"Create the first superuser. You can enrol an authenticator app right after."</p>
            <form on:submit=submit>
                <label>
                    "Username"
                    <input name="username" autocomplete="username" required autofocus bind:value=username />
                </label>
                <label>
                    {format!("Password (at least {MIN_PASSWORD_LEN} characters)")}
                    <input name="password" type="password" autocomplete="new-password" required
                        minlength=MIN_PASSWORD_LEN.to_string() bind:value=password />
                </label>
                <label>
                    "Repeat the password"
                    <input name="confirm" type="password" autocomplete="new-password" required bind:value=confirm />
                </label>
                <ErrorBox error=error />
                <button type="submit" class="primary">"Create and sign in"</button>
            </form>
        </section>
    }
}
