//! New request: purpose, scopes, servers and a window; errors are shown at their fields.

use crate::api::{self, ApiError};
use crate::components::ErrorBox;
use crate::pages::admin::form::{clear_field, FieldError};
use crate::time::{parse_local_input, your_time};
use gatehouse_shared::work_session::{CreateWorkSession, MAX_PURPOSE_LEN};
use gatehouse_shared::Scope;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

/// The durations offered, in seconds, with their labels.
const DURATIONS: [(i64, &str); 7] = [
    (900, "15 minutes"),
    (1800, "30 minutes"),
    (3600, "1 hour"),
    (7200, "2 hours"),
    (4 * 3600, "4 hours"),
    (8 * 3600, "8 hours"),
    (24 * 3600, "24 hours"),
];

/// The fields this form shows errors at; the error box says only what is left.
const AT_FIELDS: &[&str] = &[
    "purpose",
    "scopes",
    "servers",
    "duration_secs",
    "expires_at",
    "starts_at",
    "sudo_commands",
    "tunnel_ports",
];

#[component]
pub fn NewSessionPage() -> impl IntoView {
    let navigate = use_navigate();
    let servers = LocalResource::new(|| api::servers(""));
    // "Request again" comes here with the ended session's fields in the query.
    let query = use_query_map().get_untracked();
    let text = |key: &str| query.get(key).unwrap_or_default();
    let list = |key: &str| -> Vec<String> {
        text(key)
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let purpose = RwSignal::new(text("purpose"));
    let scopes = RwSignal::new(
        list("scopes")
            .iter()
            .filter_map(|s| s.parse::<Scope>().ok())
            .collect::<Vec<Scope>>(),
    );
    let chosen = RwSignal::new(list("servers"));
    let use_expiry = RwSignal::new(false);
    let duration = RwSignal::new(
        text("duration")
            .parse::<i64>()
            .map(|d| d.to_string())
            .unwrap_or_else(|_| "3600".to_owned()),
    );
    let expires_at = RwSignal::new(String::new());
    let starts_at = RwSignal::new(String::new());
    // Root commands, one per line; declaring any adds the sudo scope on the server.
    let sudo_commands = RwSignal::new(String::new());
    // Ports tunnels may reach, separated by commas or spaces; declaring any limits tunnels to them.
    let tunnel_ports = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let absolute = use_expiry.get_untracked();
        let body = CreateWorkSession {
            purpose: purpose.get_untracked().trim().to_owned(),
            scopes: scopes.get_untracked(),
            servers: chosen.get_untracked(),
            expires_at: absolute
                .then(|| parse_local_input(&expires_at.get_untracked()))
                .flatten(),
            duration_secs: (!absolute)
                .then(|| duration.get_untracked().parse().ok())
                .flatten(),
            starts_at: parse_local_input(&starts_at.get_untracked()),
            assignee: None,
            sudo_commands: sudo_commands
                .get_untracked()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            // A word that is not a port goes as 0, which the server refuses at this field.
            tunnel_ports: tunnel_ports
                .get_untracked()
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .map(|w| w.parse().unwrap_or(0))
                .collect(),
        };
        busy.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::create_work_session(&body).await {
                Ok(session) => navigate(
                    &format!("/sessions/{}", session.id),
                    NavigateOptions::default(),
                ),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };

    // The window is one choice: editing any part of it clears what was said about it.
    let clear_window = move || {
        clear_field(error, "duration_secs");
        clear_field(error, "expires_at");
    };
    let toggle = |list: RwSignal<Vec<String>>, name: String| {
        list.update(|l| {
            if let Some(at) = l.iter().position(|n| *n == name) {
                l.remove(at);
            } else {
                l.push(name);
            }
        })
    };

    view! {
        <section class="page narrow-page">
            <h1>"Request access"</h1>
            <form class="form" on:submit=submit>
                <label>
                    "Purpose: what you will do and why"
                    <textarea name="purpose" rows="3" required maxlength=MAX_PURPOSE_LEN bind:value=purpose
                        on:input=move |_| clear_field(error, "purpose")></textarea>
                    <small class="counter" data-testid="purpose-counter" aria-live="polite">
                        {move || format!("{} / {MAX_PURPOSE_LEN}", purpose.with(|p| p.chars().count()))}
                    </small>
                    <FieldError error=error field="purpose" />
                </label>
                <fieldset>
                    <legend>"Scopes"</legend>
                    {Scope::ALL
                        .iter()
                        .map(|&scope| {
                            view! {
                                <label class="check">
                                    <input type="checkbox" name="scope" value=scope.as_str()
                                        prop:checked=move || scopes.with(|s| s.contains(&scope))
                                        on:change=move |_| { clear_field(error, "scopes"); scopes.update(|s| {
                                            if let Some(at) = s.iter().position(|x| *x == scope) {
                                                s.remove(at);
                                            } else {
                                                s.push(scope);
                                            }
                                        }) } />
                                    {scope.as_str()}
                                </label>
                            }
                        })
                        .collect_view()}
                    <FieldError error=error field="scopes" />
                </fieldset>
                <fieldset>
                    <legend>"Servers"</legend>
                    {move || match servers.get() {
                        None => view! { <p class="loading">"Loading servers…"</p> }.into_any(),
                        Some(Err(e)) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                        Some(Ok(page)) if page.items.is_empty() => {
                            view! { <p class="empty">"No servers are granted to you yet."</p> }.into_any()
                        }
                        Some(Ok(page)) => page
                            .items
                            .into_iter()
                            .map(|server| {
                                let name = server.name.clone();
                                let for_check = name.clone();
                                view! {
                                    <label class="check">
                                        <input type="checkbox" name="server" value=name.clone()
                                            prop:checked=move || chosen.with(|c| c.contains(&for_check))
                                            on:change=move |_| {
                                                clear_field(error, "servers");
                                                toggle(chosen, name.clone())
                                            } />
                                        {server.name}
                                        <span class=if server.connected { "dot on" } else { "dot off" }
                                            title=if server.connected { "connected" } else { "disconnected" }></span>
                                    </label>
                                }
                            })
                            .collect_view()
                            .into_any(),
                    }}
                    <FieldError error=error field="servers" />
                </fieldset>
                <fieldset>
                    <legend>"Window"</legend>
                    <label class="check">
                        <input type="radio" name="window" value="duration"
                            prop:checked=move || !use_expiry.get()
                            on:change=move |_| { clear_window(); use_expiry.set(false) } />
                        "For a duration, counted from activation"
                    </label>
                    <label class="check">
                        <input type="radio" name="window" value="expiry"
                            prop:checked=move || use_expiry.get()
                            on:change=move |_| { clear_window(); use_expiry.set(true) } />
                        "Until a fixed time"
                    </label>
                    <Show
                        when=move || use_expiry.get()
                        fallback=move || view! {
                            <label>
                                "Duration"
                                <select name="duration" bind:value=duration
                                    on:change=move |_| clear_field(error, "duration_secs")>
                                    {DURATIONS
                                        .iter()
                                        .map(|(secs, label)| view! { <option value=secs.to_string()>{*label}</option> })
                                        .collect_view()}
                                </select>
                                <FieldError error=error field="duration_secs" />
                            </label>
                        }
                    >
                        <label>
                            {format!("Expires at {}", your_time())}
                            <input type="datetime-local" name="expires_at" required bind:value=expires_at
                                on:input=move |_| clear_window() />
                            <FieldError error=error field="expires_at" />
                            // "Give a window" is said at the duration, which this choice hides.
                            <FieldError error=error field="duration_secs" />
                        </label>
                    </Show>
                    <label>
                        {format!("Start at {} (optional; empty: when approved and activated)", your_time())}
                        <input type="datetime-local" name="starts_at" bind:value=starts_at
                            on:input=move |_| clear_field(error, "starts_at") />
                        <FieldError error=error field="starts_at" />
                    </label>
                    <label>
                        "Sudo commands (optional; one per line, e.g. systemctl restart nginx — root may then run only these)"
                        <textarea name="sudo_commands" rows="3" data-testid="sudo-commands" bind:value=sudo_commands
                            on:input=move |_| clear_field(error, "sudo_commands")></textarea>
                        <FieldError error=error field="sudo_commands" />
                    </label>
                    <label>
                        "Tunnel ports (optional; e.g. 5432, 6379 — tunnels may then reach only these)"
                        <input type="text" name="tunnel_ports" data-testid="tunnel-ports" bind:value=tunnel_ports
                            on:input=move |_| clear_field(error, "tunnel_ports") />
                        <FieldError error=error field="tunnel_ports" />
                    </label>
                </fieldset>
                <ErrorBox error=error at_fields=AT_FIELDS />
                <button type="submit" class="primary" disabled=busy>"Send request"</button>
            </form>
        </section>
    }
}
