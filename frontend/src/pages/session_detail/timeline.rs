//! The session's timeline: transitions, terminals (with recordings), commands, denials, each
//! as the sentence `shared::audit::sentence` makes of it (the audit page says the same).

use crate::api;
use crate::components::ErrorBox;
use crate::time::format_at;
use gatehouse_shared::audit::{sentence, AuditAction, WebshDetails};
use gatehouse_shared::work_session::TimelineEvent;
use leptos::prelude::*;
use leptos_router::components::A;

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
                                    <span class="summary">{sentence(&event)}</span>
                                    <span class="kind">{event.kind.clone()}</span>
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
