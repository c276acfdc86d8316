//! The signed-in user's own account: who they are, their password (and the forced change
//! after a staff reset), TOTP enrolment, recovery codes, where they are signed in and their API
//! tokens.

use crate::api::{self, ApiError};
use crate::auth::use_auth;
use crate::components::qr::QrCodeSvg;
use crate::components::{fields_at_form, ErrorBox, StepUp, StepUpPrompt};
use crate::pages::admin::form::{CopyButton, FieldError};
use crate::pages::tokens::secret::NewToken;
use crate::pages::tokens::table::{Columns, TokensTable};
use crate::time::format_at;
use gatehouse_shared::api::TotpEnrollment;
use gatehouse_shared::gate::AuthMethod;
use gatehouse_shared::token::{CreateApiToken, CreatedApiToken, MAX_TOKEN_DAYS};
use gatehouse_shared::user::MIN_PASSWORD_LEN;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <div class="page-account">
            <h1>"Your account"</h1>
            <Profile />
            <PasswordSection />
            <MfaSection />
            <RecoveryCodesSection />
            <crate::pages::signins::SigninsSection />
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
                        AuthMethod::Cli => "the gate command line".to_owned(),
                        AuthMethod::ApiToken => "an API token".to_owned(),
                        AuthMethod::ServiceToken => "a service account's token".to_owned(),
                    })}
                </dd>
                <dt>"Member since"</dt>
                <dd>{fact(|m| m.user.created_at.as_ref().map(format_at).unwrap_or_default())}</dd>
            </dl>
        </section>
    }
}

/// Changing one's own password.
#[component]
fn PasswordSection() -> impl IntoView {
    view! {
        <section class="card admin-section" aria-labelledby="password-heading">
            <h2 id="password-heading">"Password"</h2>
            <ChangePasswordForm />
        </section>
    }
}

/// What a person whose password was reset sees in place of every page until they choose a
/// new one: the server refuses everything else for this sign-in anyway.
#[component]
pub fn ForcedPasswordChange() -> impl IntoView {
    view! {
        <section class="card narrow" data-testid="forced-password-change">
            <h1>"Choose a new password"</h1>
            <p>
                "Your password was reset by an administrator. Enter the one-time password you "
                "were given, then choose a new password of your own to continue."
            </p>
            <ChangePasswordForm forced=true />
        </section>
    }
}

/// What a person sees in place of every page while the workspace requires two-factor sign-in
/// and they have not enrolled: the server refuses everything else for this sign-in anyway.
#[component]
pub fn ForcedMfaEnrolment() -> impl IntoView {
    view! {
        <section class="card narrow" data-testid="forced-mfa-enrolment">
            <h1>"Set up two-factor sign-in"</h1>
            <p>
                "This workspace requires a code from an authenticator app at sign-in. Set one up "
                "now to continue; until then nothing else is available."
            </p>
            <MfaSection />
        </section>
    }
}

/// Current, new and repeated password. Errors are shown once, under their field, in words,
/// and go away as soon as that field is edited. With `forced` (after a staff reset), success
/// reloads who is signed in, which lets the console past the forced form.
#[component]
fn ChangePasswordForm(#[prop(optional)] forced: bool) -> impl IntoView {
    let auth = use_auth();
    let live = crate::live::use_live();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let current_error = RwSignal::new(None::<String>);
    let new_error = RwSignal::new(None::<String>);
    let repeat_error = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<ApiError>);
    let done = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (old, fresh) = (current.get_untracked(), new.get_untracked());
        let mut ok = true;
        if old.is_empty() {
            current_error.set(Some("Enter your current password.".to_owned()));
            ok = false;
        }
        if fresh.chars().count() < MIN_PASSWORD_LEN {
            new_error.set(Some(format!(
                "The new password needs at least {MIN_PASSWORD_LEN} characters."
            )));
            ok = false;
        } else if repeat.get_untracked() != fresh {
            repeat_error.set(Some("This does not match the new password.".to_owned()));
            ok = false;
        }
        if !ok {
            return;
        }
        busy.set(true);
        done.set(false);
        spawn_local(async move {
            match api::change_password(old, fresh).await {
                Ok(()) => {
                    error.set(None);
                    for field in [current, new, repeat] {
                        field.set(String::new());
                    }
                    done.set(true);
                    if forced {
                        auth.refresh().await;
                        // The event stream was refused until now.
                        live.connect();
                    }
                }
                Err(e) if !e.envelope.fields.is_empty() => {
                    if e.field("current").is_some() {
                        current_error.set(Some("That is not your current password.".to_owned()));
                    }
                    if let Some(message) = e.field("new") {
                        new_error.set(Some(format!("The new password {message}.")));
                    }
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let field = move |label: &'static str,
                      name: &'static str,
                      autocomplete: &'static str,
                      value: RwSignal<String>,
                      message: RwSignal<Option<String>>| {
        view! {
            <label>
                {label}
                <input name=name type="password" autocomplete=autocomplete prop:value=value
                    aria-invalid=move || message.with(Option::is_some).to_string()
                    on:input=move |ev| {
                        value.set(event_target_value(&ev));
                        message.set(None);
                        done.set(false);
                    } />
                {move || message.get().map(|m| view! {
                    <span class="field-error" data-field=name>{m}</span>
                })}
            </label>
        }
    };
    view! {
        <form class="admin-form" data-testid="change-password" on:submit=submit>
            <div class="form-row">
                {field("Current password", "current", "current-password", current, current_error)}
                {field("New password", "new", "new-password", new, new_error)}
                {field("New password again", "repeat", "new-password", repeat, repeat_error)}
            </div>
            <ErrorBox error=error />
            <Show when=move || done.get()>
                <p class="notice-ok" role="status" data-testid="password-changed">
                    "Password changed. Your other sign-ins have ended."
                </p>
            </Show>
            <button type="submit" class="primary" aria-disabled=move || busy.get().to_string()>
                "Change password"
            </button>
        </form>
    }
}

/// Recovery codes: ten one-time codes for when the authenticator is lost, shown once.
#[component]
fn RecoveryCodesSection() -> impl IntoView {
    let auth = use_auth();
    let step_up = StepUp::new();
    let codes = RwSignal::new(None::<Vec<String>>);
    let enabled = move || {
        auth.me
            .with(|me| me.as_ref().is_some_and(|m| m.user.mfa_enabled))
    };
    let generate = move |_| {
        step_up.run(move || async move {
            match api::recovery_codes().await {
                Ok(set) => {
                    codes.set(Some(set.codes));
                    None
                }
                Err(e) => Some(e),
            }
        });
    };
    view! {
        <Show when=enabled>
            <section class="card admin-section" aria-labelledby="recovery-heading">
                <h2 id="recovery-heading">"Recovery codes"</h2>
                <p class="hint">
                    "Each code signs you in once in place of an authenticator code, if you lose "
                    "your device. Making a new set replaces any earlier one."
                </p>
                {move || codes.get().map(|list| {
                    let all = list.join("\n");
                    view! {
                        <div class="secret-box" role="status">
                            <p>
                                <strong>"Your recovery codes. "</strong>
                                "Keep them somewhere safe, apart from your device: they are not "
                                "shown again."
                            </p>
                            <ol class="recovery-codes" data-testid="recovery-codes">
                                {list.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
                            </ol>
                            <CopyButton text=all what="recovery codes" />
                            <button type="button" on:click=move |_| codes.set(None)>"Done"</button>
                        </div>
                    }
                })}
                <button type="button" data-testid="make-recovery-codes"
                    aria-disabled=move || step_up.busy().to_string() on:click=generate>
                    "Make new recovery codes"
                </button>
                <StepUpPrompt step_up=step_up />
            </section>
        </Show>
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
                    <ErrorBox error=error at_fields=&["otp"] />
                    <button type="submit" class="primary" aria-disabled=move || busy.get().to_string()>"Turn on"</button>
                </form>
            </div>
        </div>
    }
}

/// The caller's API tokens: list with each one's rules, create (secret shown once), revoke.
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
                "For scripts and the command line. A token acts as you, never beyond what you "
                "may do, and only as its rules allow (a superuser grants them); it is shown once, "
                "when created."
            </p>
            {status}
            <Show when=move || !items().is_empty()>
                <TokensTable items=items caption="Your API tokens" columns=Columns {
                    rules_below: true,
                    revoke: true,
                    ..Columns::default()
                } />
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
fn CreateTokenForm(
    on_created: impl Fn(CreatedApiToken) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let days = RwSignal::new("90".to_owned());
    let error = RwSignal::new(None::<ApiError>);
    // A new token needs a recent code once TOTP is on: asked for in place.
    let step_up = StepUp::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if step_up.busy() {
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
        error.set(None);
        step_up.run(move || {
            let body = body.clone();
            async move {
                fields_at_form(api::create_token(&body).await, error, |token| {
                    name.set(String::new());
                    on_created(token);
                })
            }
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
            <StepUpPrompt step_up=step_up />
            <button type="submit" class="primary" aria-disabled=move || step_up.busy().to_string()>"Create token"</button>
        </form>
    }
}
