//! Registration tokens: the one-time secret an agent trades for its own credential.

use super::form::{CopyButton, FieldError};
use crate::api::{self, ApiError};
use crate::components::ErrorBox;
use crate::time::format_at;
use gatehouse_shared::server::{CreateRegistrationToken, RegistrationToken};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// This console's origin, which is also the address agents dial.
fn console_origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// The command to run on the new server.
fn agent_command(token: &str) -> String {
    format!(
        "gatehouse-agent register --server {} --token {token}",
        console_origin()
    )
}

/// A number field's value, or `None` when left empty (the server then uses its default).
fn optional_number(value: &str) -> Result<Option<i64>, ()> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| ())
}

#[component]
pub fn RegistrationSection() -> impl IntoView {
    let expires = RwSignal::new("3600".to_owned());
    let max_uses = RwSignal::new("1".to_owned());
    let error = RwSignal::new(None::<ApiError>);
    let issued = RwSignal::new(None::<RegistrationToken>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        // The inputs are type=number, so the browser has already refused anything unparsable.
        let (Ok(expires_in_secs), Ok(max_uses)) = (
            optional_number(&expires.get_untracked()),
            optional_number(&max_uses.get_untracked()),
        ) else {
            return;
        };
        let body = CreateRegistrationToken {
            expires_in_secs,
            max_uses,
        };
        busy.set(true);
        spawn_local(async move {
            match api::create_registration_token(&body).await {
                Ok(token) => {
                    error.set(None);
                    issued.set(Some(token));
                }
                Err(e) => {
                    issued.set(None);
                    error.set(Some(e));
                }
            }
            busy.set(false);
        });
    };

    view! {
        <section class="card admin-section" id="registration" aria-labelledby="registration-heading">
            <h2 id="registration-heading">"Registration tokens"</h2>
            <p class="hint">
                "An agent registers once with a token, then uses its own credential. "
                "Add " <code>"--name <entry>"</code> " to register into a server entry created above."
            </p>
            <form class="admin-form" data-testid="create-registration-token" on:submit=submit>
                <div class="form-row">
                    <label>
                        "Valid for (seconds, 60 to 2592000)"
                        <input name="expires_in_secs" type="number" min="60" max="2592000"
                            bind:value=expires />
                        <FieldError error=error field="expires_in_secs" />
                    </label>
                    <label>
                        "Uses (1 to 10000)"
                        <input name="max_uses" type="number" min="1" max="10000" bind:value=max_uses />
                        <FieldError error=error field="max_uses" />
                    </label>
                </div>
                <ErrorBox error=error at_fields=&["expires_in_secs", "max_uses"] />
                <button type="submit" class="primary" aria-disabled=move || busy.get().to_string()>"Create registration token"</button>
            </form>
            {move || issued.get().map(|t| view! { <IssuedToken token=t /> })}
        </section>
    }
}

/// The token and the command that uses it, shown once.
#[component]
fn IssuedToken(token: RegistrationToken) -> impl IntoView {
    let command = agent_command(&token.token);
    let uses = if token.max_uses == 1 {
        "once".to_owned()
    } else {
        format!("{} times", token.max_uses)
    };
    view! {
        <div class="secret-box" role="status">
            <p>
                <strong>"Copy it now: it is not shown again. "</strong>
                {format!("Usable {uses}, until {}.", format_at(&token.expires_at))}
            </p>
            <div class="secret-line">
                <span class="secret-label">"Token"</span>
                <code data-testid="registration-token">{token.token.clone()}</code>
                <CopyButton text=token.token what="token" />
            </div>
            <div class="secret-line">
                <span class="secret-label">"On the server, run"</span>
                <code data-testid="registration-command">{command.clone()}</code>
                <CopyButton text=command what="command" />
            </div>
        </div>
    }
}
