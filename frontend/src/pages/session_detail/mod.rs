//! One work session: every field, the actions this user may take now, and the timeline.

mod actions;
mod extension;
mod timeline;

use crate::api::{self, ApiError};
use crate::components::tunnels::TunnelTable;
use crate::components::{ErrorBox, ScopeList, ServerList, StatusBadge, TimeLeft};
use crate::live::use_live;
use crate::time::{format_at, format_duration};
use actions::Actions;
use extension::PendingExtension;
use gatehouse_shared::{Scope, Status, WorkSession};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use timeline::Timeline;

#[component]
pub fn SessionDetailPage() -> impl IntoView {
    let params = use_params_map();
    let live = use_live();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    // Bumped after this page's own actions so the result shows without waiting for the push.
    let reload = RwSignal::new(0u32);
    let session = LocalResource::new(move || {
        let id = id.get();
        live.version.track();
        reload.track();
        async move { api::work_session(&id).await }
    });
    let refresh = Callback::new(move |_: WorkSession| reload.update(|n| *n += 1));

    view! {
        <section class="page">
            {move || match session.get() {
                None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Some(Err(e)) => {
                    let e: ApiError = e;
                    view! {
                        <h1>"Work session"</h1>
                        <ErrorBox error=Signal::derive(move || Some(e.clone())) />
                    }
                        .into_any()
                }
                Some(Ok(s)) => view! { <Detail session=s on_change=refresh /> }.into_any(),
            }}
            {move || view! { <Timeline id=id.get() version=live.version.get() + u64::from(reload.get()) /> }}
        </section>
    }
}

#[component]
fn Detail(session: WorkSession, on_change: Callback<WorkSession>) -> impl IntoView {
    let optional = |value: Option<String>| value.unwrap_or_else(|| "—".to_owned());
    let adjustments = session
        .adjustments
        .clone()
        .filter(|a| !a.is_empty())
        .map(|a| {
            let mut parts = Vec::new();
            if !a.scopes_removed.is_empty() {
                let names: Vec<&str> = a.scopes_removed.iter().map(|s| s.as_str()).collect();
                parts.push(format!("scopes removed: {}", names.join(", ")));
            }
            if !a.servers_removed.is_empty() {
                parts.push(format!("servers removed: {}", a.servers_removed.join(", ")));
            }
            if !a.sudo_commands_removed.is_empty() {
                parts.push(format!(
                    "sudo commands removed: {}",
                    a.sudo_commands_removed.join(" | ")
                ));
            }
            if !a.tunnel_ports_removed.is_empty() {
                let ports: Vec<String> =
                    a.tunnel_ports_removed.iter().map(u16::to_string).collect();
                parts.push(format!("tunnel ports removed: {}", ports.join(", ")));
            }
            parts.join("; ")
        });
    let status = session.status;
    view! {
        <div class="detail" data-testid="session-detail" data-status=status.as_str()>
            <div class="page-head">
                <h1 data-testid="purpose" class="purpose">{session.purpose.clone()}</h1>
                <StatusBadge status=session.status />
            </div>
            {status.is_terminal().then(|| view! { <EndedNotice session=session.clone() /> })}
            <dl class="fields">
                <dt>"Requested by"</dt>
                <dd>{session.requested_by.username.clone()}</dd>
                <dt>"Assignee"</dt>
                <dd>{session.assignee.username.clone()}</dd>
                <dt>"Scopes"</dt>
                <dd><ScopeList scopes=session.scopes.clone() /></dd>
                <dt>"Servers"</dt>
                <dd><ServerList servers=session.servers.clone() /></dd>
                {(!session.sudo_commands.is_empty()).then(|| view! {
                    <dt>"Sudo commands"</dt>
                    <dd>
                        <ul class="sudo-commands" data-testid="sudo-commands">
                            {session.sudo_commands.iter().map(|c| view! { <li><code>{c.clone()}</code></li> }).collect_view()}
                        </ul>
                    </dd>
                })}
                {(!session.tunnel_ports.is_empty()).then(|| {
                    let ports: Vec<String> = session.tunnel_ports.iter().map(u16::to_string).collect();
                    view! { <dt>"Tunnel ports"</dt><dd>{ports.join(", ")}</dd> }
                })}
                <dt>"Time left"</dt>
                <dd><TimeLeft session=session.clone() /></dd>
                <dt>"Duration"</dt>
                <dd>{optional(session.duration_secs.map(format_duration))}</dd>
                <dt>"Starts"</dt>
                <dd>{optional(session.starts_at.as_ref().map(format_at))}</dd>
                <dt>"Expires"</dt>
                <dd>{optional(session.expires_at.as_ref().map(format_at))}</dd>
                <dt>"Requested"</dt>
                <dd>{format_at(&session.created_at)}</dd>
                <dt>"Decided"</dt>
                <dd>
                    {optional(session.decided_at.as_ref().map(format_at))}
                    {session.approved_by.as_ref().map(|u| format!(" by {}", u.username))}
                </dd>
                <dt>"Reason"</dt>
                <dd>{optional(session.decision_reason.clone())}</dd>
                <dt>"Narrowed"</dt>
                <dd>{optional(adjustments)}</dd>
                <dt>"Activated"</dt>
                <dd>{optional(session.activated_at.as_ref().map(format_at))}</dd>
                <dt>"Ended"</dt>
                <dd>{optional(session.ended_at.as_ref().map(format_at))}</dd>
            </dl>
            <PendingExtension id=session.id />
            {(session.has_scope(Scope::Tunnel) && status == Status::Active).then(|| view! {
                <h2>"Tunnels"</h2>
                <TunnelTable work_session=Some(session.id) />
            })}
            <Actions session=session on_change=on_change />
        </div>
    }
}

/// Why a finished session ended, in words, and a way to ask again with the same fields.
#[component]
fn EndedNotice(session: WorkSession) -> impl IntoView {
    let why = match session.status {
        Status::Revoked => "Revoked",
        Status::Expired => "Expired: its window ran out",
        Status::Completed => "Completed",
        Status::Rejected => "Rejected",
        Status::Cancelled => "Cancelled",
        Status::Pending | Status::Approved | Status::Active => "",
    };
    let reason = session
        .decision_reason
        .clone()
        .filter(|_| matches!(session.status, Status::Revoked | Status::Rejected))
        .map(|r| format!(": \u{201c}{r}\u{201d}"))
        .unwrap_or_default();
    let scopes: Vec<&str> = session.scopes.iter().map(|s| s.as_str()).collect();
    let servers: Vec<&str> = session.servers.iter().map(|s| s.name.as_str()).collect();
    let again = format!(
        "/sessions/new{}",
        api::query(&[
            ("purpose", session.purpose.clone()),
            ("scopes", scopes.join(",")),
            ("servers", servers.join(",")),
            (
                "duration",
                session
                    .duration_secs
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            ),
        ])
    );
    // Who ended it: the actor of its last transition on the timeline (the scheduler for an
    // expiry, which the text already says).
    let id = session.id.to_string();
    let status = session.status;
    let ended_by = LocalResource::new(move || {
        let id = id.clone();
        async move {
            let kind = format!("work_session.{}", status.as_str());
            api::timeline(&id)
                .await
                .ok()?
                .into_iter()
                .rev()
                .find(|e| e.kind == kind)?
                .actor
                .filter(|a| a != "system")
        }
    });
    let by = move || {
        ended_by
            .get()
            .flatten()
            .filter(|_| !matches!(status, Status::Expired))
            .map(|actor| format!(" by {actor}"))
            .unwrap_or_default()
    };
    view! {
        <p class="ended-notice" data-testid="ended-notice" role="status">
            {move || format!("{why}{}{reason}.", by())}
            " "
            <A href=again attr:data-testid="request-again">"Request again"</A>
        </p>
    }
}
