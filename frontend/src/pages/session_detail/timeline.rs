//! The session's timeline: transitions, terminals (with recordings), commands, denials.

use crate::api;
use crate::components::ErrorBox;
use crate::time::format_at;
use gatehouse_shared::work_session::TimelineEvent;
use leptos::prelude::*;
use leptos_router::components::A;
use serde_json::Value;

/// A one-line summary of what an event's details say, as text.
fn summary(event: &TimelineEvent) -> String {
    let d = &event.details;
    let text = |key: &str| d.get(key).and_then(Value::as_str).map(str::to_owned);
    match event.kind.as_str() {
        "exec.run" => {
            let code = d
                .get("exit_code")
                .and_then(Value::as_i64)
                .map(|c| format!("exit {c}"))
                .or_else(|| text("status"))
                .unwrap_or_default();
            format!("{} → {code}", text("command").unwrap_or_default())
        }
        "websh.opened" => format!(
            "terminal opened{}",
            text("run_as")
                .map(|u| format!(" as {u}"))
                .unwrap_or_default()
        ),
        "websh.closed" => "terminal closed".to_owned(),
        _ => text("reason")
            .or_else(|| text("message"))
            .unwrap_or_default(),
    }
}

/// The recording link of a terminal event, when there is one.
fn recording_link(event: &TimelineEvent) -> Option<String> {
    let id = event.details.get("websh").and_then(Value::as_str)?;
    Some(format!("/recordings/{id}"))
}

#[component]
pub fn Timeline(id: String, version: u64) -> impl IntoView {
    let events = LocalResource::new(move || {
        let id = id.clone();
        let _ = version;
        async move { api::timeline(&id).await }
    });
    view! {
        <h2>"Timeline"</h2>
        {move || match events.get() {
            None => view! { <p class="loading">"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <ErrorBox error=Signal::derive(move || Some(e.clone())) /> }.into_any(),
            Some(Ok(list)) if list.is_empty() => view! { <p class="empty">"Nothing yet."</p> }.into_any(),
            Some(Ok(list)) => view! {
                <ol class="timeline" data-testid="timeline">
                    {list
                        .into_iter()
                        .map(|event| {
                            let link = recording_link(&event);
                            let outcome = event.outcome.clone();
                            view! {
                                <li class=format!("event outcome-{outcome}") data-kind=event.kind.clone()>
                                    <time>{format_at(&event.at)}</time>
                                    <span class="kind">{event.kind.clone()}</span>
                                    <span class="actor">{event.actor.clone().unwrap_or_default()}</span>
                                    <span class="summary">{summary(&event)}</span>
                                    {link.map(|href| view! { <A href=href>"recording"</A> })}
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
            }
                .into_any(),
        }}
    }
}
