//! Workspace settings (superusers): session limits, self-extension, MFA. Shown in the units
//! people think in (hours, minutes); the server checks every range again and audits each change.

use super::form::FieldError;
use crate::api::{self, ApiError};
use crate::components::ErrorBox;
use gatehouse_shared::settings::{Settings, SettingsPatch};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// One number field in `unit` seconds (3600 for hours, 60 for minutes).
#[derive(Clone, Copy)]
struct Field {
    value: RwSignal<String>,
    unit: i64,
}

impl Field {
    fn new(secs: i64, unit: i64) -> Self {
        let shown = secs as f64 / unit as f64;
        Self {
            value: RwSignal::new(format!("{}", (shown * 100.0).round() / 100.0)),
            unit,
        }
    }

    fn secs(self) -> Option<i64> {
        let value: f64 = self.value.get_untracked().trim().parse().ok()?;
        Some((value * self.unit as f64).round() as i64)
    }
}

#[component]
pub fn SettingsSection() -> impl IntoView {
    let loaded = LocalResource::new(api::settings);
    view! {
        <section id="settings" tabindex="-1" data-testid="settings-section">
            <h2>"Workspace settings"</h2>
            {move || match loaded.get() {
                None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorBox error=Signal::derive(move || Some(e.clone())) /> }.into_any(),
                Some(Ok(settings)) => view! { <SettingsForm settings=settings /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn SettingsForm(settings: Settings) -> impl IntoView {
    let max_session = Field::new(settings.max_session_secs, 3600);
    let self_extend = Field::new(settings.self_extend_secs, 60);
    let mfa_timeout = Field::new(settings.mfa_timeout_secs, 60);
    let cli_ttl = Field::new(settings.cli_signin_ttl_secs, 3600);
    let require_enrolment = RwSignal::new(settings.require_mfa_enrolment);
    let mfa_for_root = RwSignal::new(settings.require_mfa_for_root);
    let waiver = RwSignal::new(settings.sudo_mfa_waiver);
    let error = RwSignal::new(None::<ApiError>);
    let saved = RwSignal::new(false);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let patch = SettingsPatch {
            max_session_secs: max_session.secs(),
            self_extend_secs: self_extend.secs(),
            mfa_timeout_secs: mfa_timeout.secs(),
            cli_signin_ttl_secs: cli_ttl.secs(),
            require_mfa_enrolment: Some(require_enrolment.get_untracked()),
            require_mfa_for_root: Some(mfa_for_root.get_untracked()),
            sudo_mfa_waiver: Some(waiver.get_untracked()),
        };
        busy.set(true);
        saved.set(false);
        spawn_local(async move {
            let result = api::update_settings(&patch).await;
            busy.set(false);
            match result {
                Ok(_) => {
                    error.set(None);
                    saved.set(true);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    // A field's error goes once it is edited.
    let edited = move |_| {
        error.set(None);
        saved.set(false);
    };
    let number = move |label: &'static str,
                       field: Field,
                       name: &'static str,
                       hint: &'static str| {
        view! {
            <label>
                {label}
                <input type="number" min="0" step="any" name=name bind:value=field.value on:input=edited />
                <span class="hint">{hint}</span>
                <FieldError error=error field=name />
            </label>
        }
    };
    view! {
        <form class="settings-form" on:submit=submit>
            {number("Longest work session (hours)", max_session, "max_session_secs", "How long any approved window may be.")}
            {number(
                "Self-extension allowance (minutes)",
                self_extend,
                "self_extend_secs",
                "How much longer a person may make their own session without asking; 0: every extension is a request an approver decides.",
            )}
            {number("MFA step-up lasts (minutes)", mfa_timeout, "mfa_timeout_secs", "From 1 minute to 24 hours.")}
            {number("Command-line sign-ins last (hours)", cli_ttl, "cli_signin_ttl_secs", "")}
            <label class="check">
                <input type="checkbox" name="require_mfa_enrolment" bind:checked=require_enrolment on:change=edited />
                "Everyone must enrol an authenticator"
            </label>
            <label class="check">
                <input type="checkbox" name="require_mfa_for_root" bind:checked=mfa_for_root on:change=edited />
                "Work as root needs a recent MFA code"
            </label>
            <label class="check">
                <input type="checkbox" name="sudo_mfa_waiver" bind:checked=waiver on:change=edited />
                "Root commands a session declared in advance skip that code"
            </label>
            <ErrorBox error=Signal::derive(move || error.get().filter(|e| e.envelope.fields.is_empty())) />
            <div class="buttons">
                <button class="primary" type="submit" disabled=busy>"Save settings"</button>
                <Show when=move || saved.get()>
                    <span role="status" data-testid="settings-saved">"Saved."</span>
                </Show>
            </div>
        </form>
    }
}
