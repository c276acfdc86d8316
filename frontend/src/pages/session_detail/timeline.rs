//! The session's timeline: transitions, terminals (with recordings), commands, denials.

use crate::api;
use crate::components::ErrorBox;
use crate::time::format_at;
use gatehouse_shared::audit::{
    AuditAction, ExecRunDetails, ExecStartedDetails, TransitionDetails, WebshDetails,
};
use gatehouse_shared::work_session::TimelineEvent;
use leptos::prelude::*;
use leptos_router::components::A;
use serde_json::Value;

/// A one-line summary of what an event's details say, as text: the events clients read back
/// have typed details; for the rest, their reason or message.
fn summary(event: &TimelineEvent) -> String {
    let details = || event.details.clone();
    match AuditAction::parse(&event.kind) {
        Some(AuditAction::ExecRun) => match serde_json::from_value::<ExecRunDetails>(details()) {
            Ok(run) => {
                let end = run
                    .exit_code
                    .map(|c| format!("exit {c}"))
                    .unwrap_or_else(|| run.status.as_str().to_owned());
                format!("{} → {end}", run.command)
            }
            Err(_) => String::new(),
        },
        Some(AuditAction::ExecStarted) => {
            match serde_json::from_value::<ExecStartedDetails>(details()) {
                Ok(job) => format!(
                    "{} on {}{}",
                    job.command,
                    job.servers.join(", "),
                    job.run_as.map(|u| format!(" as {u}")).unwrap_or_default()
                ),
                Err(_) => String::new(),
            }
        }
        Some(AuditAction::WebshOpened) => match serde_json::from_value(details()) {
            Ok(WebshDetails::Opened { run_as, .. }) => format!(
                "terminal opened{}",
                run_as.map(|u| format!(" as {u}")).unwrap_or_default()
            ),
            _ => "terminal opened".to_owned(),
        },
        Some(AuditAction::WebshClosed) => "terminal closed".to_owned(),
        Some(
            AuditAction::WorkSessionApproved
            | AuditAction::WorkSessionRejected
            | AuditAction::WorkSessionRevoked
            | AuditAction::WorkSessionCancelled
            | AuditAction::WorkSessionActivated
            | AuditAction::WorkSessionCompleted
            | AuditAction::WorkSessionExtended
            | AuditAction::WorkSessionExpired,
        ) => match serde_json::from_value::<TransitionDetails>(details()) {
            Ok(t) => format!(
                "{} → {}{}",
                t.from.as_str(),
                t.to.as_str(),
                t.reason.map(|r| format!(": {r}")).unwrap_or_default()
            ),
            Err(_) => String::new(),
        },
        _ => {
            let text = |key: &str| {
                event
                    .details
                    .get(key)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            text("reason")
                .or_else(|| text("message"))
                .unwrap_or_default()
        }
    }
}

/// The recording link of a terminal event, when there is one.
fn recording_link(event: &TimelineEvent) -> Option<String> {
    let terminal = matches!(
        AuditAction::parse(&event.kind),
        Some(AuditAction::WebshOpened | AuditAction::WebshClosed)
    );
    let details: WebshDetails = serde_json::from_value(event.details.clone())
        .ok()
        .filter(|_| terminal)?;
    Some(format!("/recordings/{}", details.websh()))
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
