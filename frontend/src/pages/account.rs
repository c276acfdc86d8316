//! The signed-in user's own account: who they are, TOTP enrolment and their API tokens.

use crate::api::{self, ApiError};
use crate::auth::use_auth;
use crate::components::qr::QrCodeSvg;
use crate::components::ErrorBox;
use crate::pages::admin::form::{focus_when_rendered, CopyButton, FieldError};
use crate::time::{format_at, now};
use gatehouse_shared::api::TotpEnrollment;
use gatehouse_shared::gate::AuthMethod;
use gatehouse_shared::token::{ApiToken, CreateApiToken, CreatedApiToken, MAX_TOKEN_DAYS};
use leptos::html::Button;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <div class="page-account">
            <h1>"Your account"</h1>
            <Profile />
            <MfaSection />
            <TokensSection />
        </div>
    }
}

/// Name, role and how the caller signed in.
#[component]
fn Profile() -> impl IntoView {
    let auth = use_auth();
    // Each fact reads the context on its own, so a `whoami` refresh updates text in place.
    let fact = move |f: fn(&gatehouse_shared::api::WhoAmI) -> String| {
        move || auth.me.with(|me| me.as_ref().map(f).unwrap_or_default())
    };
    view! {
        <section class="card admin-section" aria-labelledby="profile-heading">
            <h2 id="profile-heading">"Profile"</h2>
            <dl class="fields">
                <dt>"Username"</dt>
                <dd data-testid="account-username">{fact(|m| m.user.username.clone())}</dd>
                <dt>"Role"</dt>
                <dd data-testid="account-role">{fact(|m| m.user.role.as_str().to_owned())}</dd>
                <dt>"E-mail"</dt>
                <dd>{fact(|m| m.user.email.clone().unwrap_or_else(|| "—".to_owned()))}</dd>
                <dt>"Two-factor sign-in"</dt>
                <dd data-testid="account-mfa">
                    {fact(|m| if m.user.mfa_enabled { "on" } else { "off" }.to_owned())}
                </dd>
                <dt>"Signed in with"</dt>
                <dd>
                    {fact(|m| match m.auth_method {
                        AuthMethod::Password => "password".to_owned(),
                        AuthMethod::ApiToken => "an API token".to_owned(),
                    })}
                </dd>
                <dt>"Member since"</dt>
                <dd>{fact(|m| m.user.created_at.as_ref().map(format_at).unwrap_or_default())}</dd>
            </dl>
        </section>
    }
}

/// TOTP enrolment: start, scan or type the secret, confirm with a code.
#[component]
fn MfaSection() -> impl IntoView {
    let auth = use_auth();
    let enrolment = RwSignal::new(None::<TotpEnrollment>);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    // Set once confirmation succeeded, so the result shows even before `whoami` answers again.
    let confirmed = RwSignal::new(false);
    let enabled = Memo::new(move |_| {
        confirmed.get()
            || auth
                .me
                .with(|me| me.as_ref().is_some_and(|m| m.user.mfa_enabled))
    });

    let start = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            match api::totp_enroll().await {
                Ok(e) => {
                    error.set(None);
                    enrolment.set(Some(e));
                }
                // Refused without a recent sign-in (step-up) or when already enrolled: the
                // server's message says which.
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };

    let on_confirmed = move || {
        confirmed.set(true);
        enrolment.set(None);
        spawn_local(auth.refresh());
    };

    view! {
        <section class="card admin-section" aria-labelledby="mfa-heading">
            <h2 id="mfa-heading">"Two-factor sign-in (TOTP)"</h2>
            <Show
                when=move || enabled.get()
                fallback=move || {
                    view! {
                        <p>
                            "Protect this account with a code from an authenticator app. "
                            "Once it is on, signing in asks for the code."
                        </p>
                        <Show when=move || enrolment.with(Option::is_none)>
                            <button type="button" class="primary" data-testid="mfa-enrol"
                                aria-disabled=move || busy.get().to_string() on:click=start>
                                "Set up an authenticator app"
                            </button>
                        </Show>
                        <ErrorBox error=error />
                        {move || {
                            enrolment
                                .get()
                                .map(|e| view! { <Enrolment enrolment=e on_confirmed=on_confirmed /> })
                        }}
                    }
                }
            >
                <p class="notice-ok" data-testid="mfa-enabled">
                    "Two-factor sign-in is on: signing in asks for a code from your authenticator app."
                </p>
            </Show>
        </section>
    }
}

/// The secret as a QR code and as text, and the form that confirms it with a first code.
#[component]
fn Enrolment(
    enrolment: TotpEnrollment,
    on_confirmed: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let otp = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let code = otp.get_untracked().trim().to_owned();
        busy.set(true);
        spawn_local(async move {
            match api::totp_confirm(code).await {
                Ok(()) => on_confirmed(),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <div class="enrolment">
            <div data-testid="totp-qr" class="qr-box">
                <QrCodeSvg data=enrolment.otpauth_uri label="QR code for your authenticator app" />
            </div>
            <div>
                <p>"Scan the code with your authenticator app, or type this secret into it:"</p>
                <p class="secret-line">
                    <code data-testid="totp-secret">{enrolment.secret.clone()}</code>
                    <CopyButton text=enrolment.secret what="secret" />
                </p>
                <form data-testid="mfa-confirm" on:submit=submit>
                    <label>
                        "Code from your authenticator app"
                        <input name="otp" inputmode="numeric" autocomplete="one-time-code"
                            pattern="[0-9]{6}" maxlength="6" required bind:value=otp />
                        <FieldError error=error field="otp" />
                    </label>
                    <ErrorBox error=error />
                    <button type="submit" class="primary" aria-disabled=move || busy.get().to_string()>"Turn on"</button>
                </form>
            </div>
        </div>
    }
}

/// The caller's API tokens: list, create (secret shown once), revoke.
#[component]
fn TokensSection() -> impl IntoView {
    let tokens = LocalResource::new(api::tokens);
    let created = RwSignal::new(None::<CreatedApiToken>);
    let status = move || match tokens.get() {
        None => Some(view! { <p class="loading">"Loading tokens…"</p> }.into_any()),
        Some(Err(e)) => Some(view! { <ErrorBox error=Signal::stored(Some(e)) /> }.into_any()),
        Some(Ok(page)) if page.items.is_empty() => {
            Some(view! { <p class="empty">"No API tokens yet."</p> }.into_any())
        }
        Some(Ok(_)) => None,
    };
    let items = move || {
        tokens
            .get()
            .and_then(Result::ok)
            .map(|page| page.items)
            .unwrap_or_default()
    };
    view! {
        <section class="card admin-section" aria-labelledby="tokens-heading">
            <h2 id="tokens-heading">"API tokens"</h2>
            <p class="hint">
                "For scripts and the command line. A token acts as you; it is shown once, when created."
            </p>
            {status}
            <Show when=move || !items().is_empty()>
                <TokensTable items=items />
            </Show>
            {move || {
                created
                    .get()
                    .map(|t| view! { <NewToken token=t on_done=move || created.set(None) /> })
            }}
            <CreateTokenForm on_created=move |t| {
                created.set(Some(t));
                tokens.refetch();
            } />
        </section>
    }
}

#[component]
fn TokensTable(items: impl Fn() -> Vec<ApiToken> + Send + Sync + 'static) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="list">
                <caption class="visually-hidden">"Your API tokens"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"State"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                // Keyed by id, so rows (and keyboard focus in them) survive a refetch.
                <tbody>
                    <For each=items key=|t| t.id let:token>
                        <TokenRow token=token />
                    </For>
                </tbody>
            </table>
        </div>
    }
}

/// Whether a token still works, in one word.
fn token_state(revoked: bool, expired: bool) -> &'static str {
    if revoked {
        "revoked"
    } else if expired {
        "expired"
    } else {
        "active"
    }
}

#[component]
fn TokenRow(token: ApiToken) -> impl IntoView {
    // Revoking updates the row in place (no refetch), so focus can stay on it.
    let revoked = RwSignal::new(token.revoked);
    let expired = token.expires_at.is_some_and(|at| at <= now());
    let state = move || token_state(revoked.get(), expired);
    let row_id = token.id.to_string();
    let expires = token
        .expires_at
        .as_ref()
        .map(format_at)
        .unwrap_or_else(|| "never".to_owned());
    let last_used = token
        .last_used_at
        .as_ref()
        .map(format_at)
        .unwrap_or_else(|| "never".to_owned());
    let badge_class = move || format!("badge token-{}", state());
    view! {
        <tr data-testid="token-row" data-token-state=state data-token-id=row_id
            tabindex="-1">
            <td>{token.name.clone()}</td>
            <td>{format_at(&token.created_at)}</td>
            <td>{expires}</td>
            <td>{last_used}</td>
            <td><span class=badge_class>{state}</span></td>
            <td>
                <Show when=move || !revoked.get()>
                    <RevokeButton token=token.clone() on_revoked=move || revoked.set(true) />
                </Show>
            </td>
        </tr>
    }
}

/// "Revoke", then a confirm step; focus follows the buttons so the keyboard never loses its place.
#[component]
fn RevokeButton(
    token: ApiToken,
    on_revoked: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let ask_ref = NodeRef::<Button>::new();
    let confirm_ref = NodeRef::<Button>::new();
    let focus_later = move |target: NodeRef<Button>| {
        // After the swap has rendered.
        request_animation_frame(move || {
            if let Some(button) = target.get_untracked() {
                let _ = button.focus();
            }
        });
    };
    let id = token.id.to_string();
    let revoke = move |_| {
        let id = id.clone();
        spawn_local(async move {
            match api::revoke_token(&id).await {
                Ok(()) => {
                    on_revoked();
                    // The buttons vanish with the revoked state; keep the keyboard on the row.
                    focus_when_rendered(format!("tr[data-token-id=\"{id}\"]"));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let name = token.name;
    view! {
        <Show
            when=move || confirming.get()
            fallback=move || {
                view! {
                    <button type="button" data-testid="token-revoke" node_ref=ask_ref
                        on:click=move |_| {
                            confirming.set(true);
                            focus_later(confirm_ref);
                        }>
                        "Revoke"
                    </button>
                }
            }
        >
            <span class="confirm">
                {format!("Revoke {name}? Scripts using it stop working. ")}
                <button type="button" class="danger" data-testid="token-revoke-confirm"
                    node_ref=confirm_ref on:click=revoke.clone()>
                    "Revoke"
                </button>
                <button type="button" on:click=move |_| {
                    confirming.set(false);
                    focus_later(ask_ref);
                }>"Cancel"</button>
            </span>
        </Show>
        <ErrorBox error=error />
    }
}

/// The new token's secret, shown once.
#[component]
fn NewToken(
    token: CreatedApiToken,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <div class="secret-box" role="status">
            <p>
                <strong>{format!("Token {} created. ", token.name)}</strong>
                "Copy it now: it is not shown again."
            </p>
            <p class="secret-line">
                <code data-testid="new-token">{token.token.clone()}</code>
                <CopyButton text=token.token what="token" />
            </p>
            <button type="button" on:click=move |_| on_done()>"Done"</button>
        </div>
    }
}

#[component]
fn CreateTokenForm(
    on_created: impl Fn(CreatedApiToken) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let days = RwSignal::new("90".to_owned());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let days_value = days.get_untracked();
        let days_value = days_value.trim();
        let body = CreateApiToken {
            name: name.get_untracked().trim().to_owned(),
            // Empty means the server's default lifetime; the input is numeric, so a value that
            // does not parse was refused by the browser already.
            expires_in_days: days_value.parse().ok(),
        };
        busy.set(true);
        spawn_local(async move {
            match api::create_token(&body).await {
                Ok(token) => {
                    error.set(None);
                    name.set(String::new());
                    on_created(token);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="admin-form" data-testid="create-token" on:submit=submit>
            <h3>"Create a token"</h3>
            <div class="form-row">
                <label>
                    "Name"
                    <input name="name" placeholder="ci-deploy" autocomplete="off" required
                        maxlength="100" bind:value=name />
                    <FieldError error=error field="name" />
                </label>
                <label>
                    {format!("Expires in (days, 1 to {MAX_TOKEN_DAYS})")}
                    <input name="expires_in_days" type="number" min="1"
                        max=MAX_TOKEN_DAYS.to_string() bind:value=days />
                    <FieldError error=error field="expires_in_days" />
                </label>
            </div>
            <ErrorBox error=error />
            <button type="submit" class="primary" aria-disabled=move || busy.get().to_string()>"Create token"</button>
        </form>
    }
}
