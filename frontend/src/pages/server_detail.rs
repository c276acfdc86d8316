//! One server (`/servers/:id`): whether its agent is connected, its system, groups and last
//! contact, the terminals open on it now, its recent activity (staff only: the audit log is
//! theirs), what tunnels through it may reach (staff edit it), and the Terminal and Files actions, which carry the caller's usable work session
//! when they have one, as the servers list does.

use crate::api;
use crate::auth::use_auth;
use crate::components::ErrorBox;
use crate::live::use_live;
use crate::time::format_at;
use gatehouse_shared::server::Server;
use gatehouse_shared::{Scope, WorkSession};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

/// How many audit events the activity section shows.
const RECENT: u32 = 20;

#[component]
pub fn ServerDetailPage() -> impl IntoView {
    let params = use_params_map();
    let live = use_live();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let server = LocalResource::new(move || {
        live.version.track();
        let id = id();
        async move { api::server(&id).await }
    });
    view! {
        <section class="page page-server">
            <p><A href="/servers">"← All servers"</A></p>
            {move || match server.get() {
                None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorBox error=Signal::stored(Some(e)) /> }.into_any(),
                Some(Ok(server)) => view! { <ServerDetail server=server /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ServerDetail(server: Server) -> impl IntoView {
    let auth = use_auth();
    let live = use_live();
    let name = server.name.clone();
    let sessions = LocalResource::new(move || {
        live.version.track();
        async move { api::work_sessions(&api::sessions_where("active", "me", 500)).await }
    });
    let usable = {
        let name = name.clone();
        move |scope: Scope| -> Option<WorkSession> {
            let me = auth.me.with(|m| m.as_ref().map(|m| m.user.id))?;
            sessions
                .get()?
                .ok()?
                .items
                .into_iter()
                .find(|s| s.assignee.id == me && s.has_scope(scope) && s.has_server(&name))
        }
    };
    let action_href = {
        let name = name.clone();
        move |page: &str, scope: Scope| {
            let mut pairs = vec![("server", name.clone())];
            if let Some(s) = usable(scope) {
                pairs.push(("session", s.id.to_string()));
            }
            format!("/{page}{}", api::query(&pairs))
        }
    };
    let terminal_href = {
        let href = action_href.clone();
        move || href("websh", Scope::Websh)
    };
    let files_href = move || action_href("files", Scope::Webftp);
    let system = [server.os.clone(), server.platform.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" / ");
    let groups = if server.groups.is_empty() {
        "none".to_owned()
    } else {
        server.groups.join(", ")
    };
    view! {
        <div class="page-head">
            <h1 data-testid="server-name">{name.clone()}</h1>
            <div class="actions">
                <A href=terminal_href attr:class="button primary" attr:data-testid="server-terminal">
                    "Terminal"
                </A>
                <A href=files_href attr:class="button" attr:data-testid="server-files">"Files"</A>
            </div>
        </div>
        <section class="card">
            <dl class="fields">
                <dt>"Status"</dt>
                <dd data-testid="server-status" data-connected=server.connected.to_string()>
                    <span class=if server.connected { "dot on" } else { "dot off" }></span>
                    {if server.connected { "connected" } else { "disconnected" }}
                </dd>
                <dt>"System"</dt>
                <dd>{if system.is_empty() { "unknown".to_owned() } else { system }}</dd>
                <dt>"Groups"</dt>
                <dd>{groups}</dd>
                <dt>"Last seen"</dt>
                <dd>{server.last_seen.as_ref().map(format_at).unwrap_or_else(|| "never".to_owned())}</dd>
                <dt>"Added"</dt>
                <dd>{format_at(&server.created_at)}</dd>
            </dl>
        </section>
        <LiveHere server=name.clone() />
        <Show when=move || auth.is_staff()>
            <crate::pages::tunnel_allow::TunnelAllowEditor server=server.clone() />
            <RecentActivity server=name.clone() />
        </Show>
    }
}

/// The terminals open on this server now (staff see everyone's, members their own).
#[component]
fn LiveHere(server: String) -> impl IntoView {
    let live = use_live();
    let terminals = LocalResource::new(move || {
        live.version.track();
        async move { api::live_terminals().await }
    });
    let rows = move || {
        let server = server.clone();
        terminals.get().map(|result| match result {
            Err(e) => view! { <ErrorBox error=Signal::stored(Some(e)) /> }.into_any(),
            Ok(page) => {
                let here: Vec<_> = page.items.into_iter().filter(|t| t.server == server).collect();
                if here.is_empty() {
                    return view! { <p class="empty">"No terminal is open on this server."</p> }
                        .into_any();
                }
                view! {
                    <ul class="plain" data-testid="server-live">
                        {here
                            .into_iter()
                            .map(|t| {
                                let run_as = t.run_as.clone().unwrap_or_else(|| "own account".to_owned());
                                view! {
                                    <li>
                                        {format!(
                                            "{} as {run_as}, since {}",
                                            t.owner.username,
                                            format_at(&t.started_at)
                                        )}
                                        " · "
                                        {match t.work_session {
                                            Some(session) => view! {
                                                <A href=format!("/sessions/{session}")>"work session"</A>
                                            }.into_any(),
                                            None => "API token".into_any(),
                                        }}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }
        })
    };
    view! {
        <section class="card" aria-labelledby="live-here-heading">
            <h2 id="live-here-heading">"Live terminals"</h2>
            {rows}
        </section>
    }
}

/// The last audit events naming this server.
#[component]
fn RecentActivity(server: String) -> impl IntoView {
    let live = use_live();
    let events = LocalResource::new(move || {
        live.version.track();
        let filter = api::AuditFilter {
            server: Some(server.clone()),
            limit: Some(RECENT),
            ..api::AuditFilter::default()
        };
        async move { api::audit(&filter).await }
    });
    let body = move || {
        events.get().map(|result| match result {
            Err(e) => view! { <ErrorBox error=Signal::stored(Some(e)) /> }.into_any(),
            Ok(page) if page.items.is_empty() => {
                view! { <p class="empty">"Nothing recorded for this server yet."</p> }.into_any()
            }
            Ok(page) => view! {
                <ul class="plain" data-testid="server-activity">
                    {page
                        .items
                        .into_iter()
                        .map(|e| {
                            let who = e.actor.clone().unwrap_or_else(|| "someone".to_owned());
                            view! {
                                <li>
                                    {format!("{} · {who} · {} ({})", format_at(&e.at), e.action, e.outcome)}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
            .into_any(),
        })
    };
    view! {
        <section class="card" aria-labelledby="activity-heading">
            <h2 id="activity-heading">"Recent activity"</h2>
            {body}
        </section>
    }
}
