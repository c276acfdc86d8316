//! Compact renderings of a work session's parts: status, scopes, servers, time left.

use crate::time::{format_duration, secs_until};
use gatehouse_shared::work_session::ServerRef;
use gatehouse_shared::{Scope, Status, WorkSession};
use leptos::prelude::*;

/// The status as a coloured badge.
#[component]
pub fn StatusBadge(status: Status) -> impl IntoView {
    view! { <span class=format!("badge status-{status}")>{status.as_str()}</span> }
}

/// Scopes as small tags.
#[component]
pub fn ScopeList(scopes: Vec<Scope>) -> impl IntoView {
    view! {
        <span class="tags">
            {scopes
                .into_iter()
                .map(|s| view! { <span class="tag">{s.as_str()}</span> })
                .collect_view()}
        </span>
    }
}

/// Server names, comma separated.
#[component]
pub fn ServerList(servers: Vec<ServerRef>) -> impl IntoView {
    let names: Vec<String> = servers.into_iter().map(|s| s.name).collect();
    view! { <span class="servers">{names.join(", ")}</span> }
}

/// What the window looks like from now: time left, or why there is none.
pub fn time_left_text(session: &WorkSession) -> String {
    match (session.status, session.expires_at) {
        (Status::Active, Some(at)) => {
            let left = secs_until(&at);
            if left > 0 {
                format!("{} left", format_duration(left))
            } else {
                "expiring".to_owned()
            }
        }
        (Status::Pending | Status::Approved, _) => match session.duration_secs {
            Some(d) => format!("{} once active", format_duration(d)),
            None => session
                .expires_at
                .map(|at| format!("until {}", crate::time::format_at(&at)))
                .unwrap_or_default(),
        },
        _ => "—".to_owned(),
    }
}

/// Time left in the session's window.
#[component]
pub fn TimeLeft(session: WorkSession) -> impl IntoView {
    view! { <span class="time-left">{time_left_text(&session)}</span> }
}
