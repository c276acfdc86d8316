//! Step-up MFA in place: an action the server refuses with `mfa_step_up_required` asks for a
//! code right where it was started, proves it (`POST /api/auth/mfa/verify`) and runs the action
//! again, so the person never loses their place. Every gated action uses it the same way:
//!
//! ```ignore
//! let step_up = StepUp::new();
//! let go = move |_| step_up.run(move || async move { api::something().await.err() });
//! view! { <button on:click=go>"Do it"</button> <StepUpPrompt step_up=step_up /> }
//! ```
//!
//! A refusal met outside `run` (a listing that loaded by itself, a save that handles its own
//! conflicts) is handed over with [`StepUp::refused`], which asks for the code without trying
//! the action once more first.
//!
//! `mfa_enrolment_required` (no TOTP at all) is said in words, with a link to the Account page
//! where it is set up; any other refusal shows as the usual error box.

use crate::api::{self, ApiError};
use crate::components::ErrorBox;
use gatehouse_shared::ErrorCode;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// One try of the gated action: `None` when it worked, else the server's refusal.
type Attempt = Rc<dyn Fn() -> Pin<Box<dyn Future<Output = Option<ApiError>>>>>;

/// The state of one gated action: whether a code is being asked for, the last refusal, and
/// the attempt to run again once the code is proved.
#[derive(Clone, Copy)]
pub struct StepUp {
    asking: RwSignal<bool>,
    error: RwSignal<Option<ApiError>>,
    busy: RwSignal<bool>,
    attempt: StoredValue<Option<Attempt>, LocalStorage>,
}

impl StepUp {
    pub fn new() -> Self {
        Self {
            asking: RwSignal::new(false),
            error: RwSignal::new(None),
            busy: RwSignal::new(false),
            attempt: StoredValue::new_local(None),
        }
    }

    /// Runs `attempt` (which calls the API and handles its success itself); if the server wants
    /// a fresh code first, asks for it and runs `attempt` again after.
    pub fn run<F, Fut>(self, attempt: F)
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Option<ApiError>> + 'static,
    {
        let attempt: Attempt = Rc::new(move || Box::pin(attempt()));
        self.attempt.set_value(Some(attempt));
        self.retry();
    }

    /// Takes over a refusal the caller met itself: asks for the code (and runs `attempt` once
    /// it is proved) or says to set up TOTP. False, and nothing done, for any other refusal,
    /// which stays the caller's to show.
    pub fn refused<F, Fut>(self, e: &ApiError, attempt: F) -> bool
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Option<ApiError>> + 'static,
    {
        if wants_step_up(e) {
            let attempt: Attempt = Rc::new(move || Box::pin(attempt()));
            self.attempt.set_value(Some(attempt));
            self.error.set(None);
            self.asking.set(true);
            true
        } else if e.code() == ErrorCode::MfaEnrolmentRequired {
            self.attempt.set_value(None);
            self.asking.set(false);
            self.error.set(Some(e.clone()));
            true
        } else {
            false
        }
    }

    /// Whether the step-up deals with `e` itself (a code wanted, or TOTP to set up first).
    pub fn takes(e: &ApiError) -> bool {
        wants_step_up(e) || e.code() == ErrorCode::MfaEnrolmentRequired
    }

    /// True while the action (or its retry) is in flight.
    pub fn busy(self) -> bool {
        self.busy.get()
    }

    /// Forgets a refusal shown and any code being asked for (a new, unrelated action starts).
    pub fn clear(self) {
        self.asking.set(false);
        self.error.set(None);
        self.attempt.set_value(None);
    }

    fn retry(self) {
        let Some(attempt) = self.attempt.get_value() else {
            return;
        };
        if self.busy.get_untracked() {
            return;
        }
        self.busy.set(true);
        spawn_local(async move {
            let outcome = attempt().await;
            self.busy.set(false);
            match outcome {
                None => {
                    self.asking.set(false);
                    self.error.set(None);
                    self.attempt.set_value(None);
                }
                Some(e) if wants_step_up(&e) => {
                    self.error.set(None);
                    self.asking.set(true);
                }
                Some(e) => {
                    self.asking.set(false);
                    self.error.set(Some(e));
                }
            }
        });
    }

    fn cancel(self) {
        self.asking.set(false);
        self.attempt.set_value(None);
    }
}

/// Whether a refusal asks for a fresh code: `mfa_step_up_required`, or the older step-up checks
/// (new API tokens), which stay `forbidden` but name the verify endpoint as the way out.
fn wants_step_up(e: &ApiError) -> bool {
    e.code() == ErrorCode::MfaStepUpRequired
        || e.envelope
            .next_actions
            .iter()
            .any(|a| a == "POST /api/auth/mfa/verify")
}

impl Default for StepUp {
    fn default() -> Self {
        Self::new()
    }
}

/// The code prompt (while asked for) and the action's refusal, if any.
#[component]
pub fn StepUpPrompt(step_up: StepUp) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let code_error = RwSignal::new(None::<&'static str>);
    let verifying = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if verifying.get_untracked() {
            return;
        }
        let otp = code.get_untracked().trim().to_owned();
        if otp.is_empty() {
            code_error.set(Some("Enter the code your authenticator app shows now."));
            return;
        }
        verifying.set(true);
        spawn_local(async move {
            match api::mfa_verify(otp).await {
                Ok(_) => {
                    code.set(String::new());
                    code_error.set(None);
                    step_up.asking.set(false);
                    step_up.retry();
                }
                Err(e) if e.field("otp").is_some() => code_error.set(Some(
                    "That code is not right or was already used; wait for the next one.",
                )),
                Err(e) => {
                    step_up.asking.set(false);
                    step_up.error.set(Some(e));
                }
            }
            verifying.set(false);
        });
    };
    let refusal = move || {
        step_up.error.get().map(|e| {
            if e.code() == ErrorCode::MfaEnrolmentRequired {
                view! {
                    <div class="error" role="alert" data-error-code="mfa_enrolment_required">
                        "This needs two-factor sign-in, which your account does not have yet. "
                        "Set up an authenticator app on your "
                        <A href="/account">"Account page"</A>
                        ", then try again."
                    </div>
                }
                .into_any()
            } else {
                view! { <ErrorBox error=Signal::stored(Some(e)) /> }.into_any()
            }
        })
    };
    view! {
        <Show when=move || step_up.asking.get()>
            <form class="step-up inline" data-testid="step-up" role="group"
                aria-label="Confirm it is you" on:submit=submit>
                <label>
                    "Confirm it is you: a code from your authenticator app (or a recovery code)"
                    <input name="otp" autocomplete="one-time-code" autofocus required
                        maxlength="64" prop:value=code
                        on:input=move |ev| {
                            code.set(event_target_value(&ev));
                            code_error.set(None);
                        } />
                    {move || code_error.get().map(|m| view! {
                        <span class="field-error" data-field="otp">{m}</span>
                    })}
                </label>
                <button type="submit" class="primary" aria-disabled=move || verifying.get().to_string()>
                    "Confirm"
                </button>
                <button type="button" on:click=move |_| step_up.cancel()>"Cancel"</button>
            </form>
        </Show>
        {refusal}
    }
}

/// A form's call as a step-up attempt: success goes to `ok`; field errors stay with the form
/// (`error`, shown under their fields); anything else is returned for the step-up to ask for a
/// code or to show.
pub fn fields_at_form<T>(
    result: Result<T, ApiError>,
    error: RwSignal<Option<ApiError>>,
    ok: impl FnOnce(T),
) -> Option<ApiError> {
    match result {
        Ok(value) => {
            ok(value);
            None
        }
        Err(e) if !e.envelope.fields.is_empty() => {
            error.set(Some(e));
            None
        }
        Err(e) => Some(e),
    }
}
