//! Servers the user may reach: connection status, last seen, and a terminal button that is
//! offered only when one of the user's active sessions covers that server with `websh`.

use crate::api;
use crate::auth::use_auth;
use crate::components::ErrorBox;
use crate::live::use_live;
use crate::time::format_at;
use gatehouse_shared::server::Server;
use gatehouse_shared::{Scope, WorkSession};
use leptos::prelude::*;
use leptos_router::components::A;

/// How often presence is re-read while the page is open.
const REFRESH_MS: u32 = 10_000;

#[component]
pub fn ServersPage() -> impl IntoView {
    let live = use_live();
    let auth = use_auth();
    let tick = RwSignal::new(0u32);
    let timer = gloo_timers::callback::Interval::new(REFRESH_MS, move || tick.update(|n| *n += 1));
    let timer = StoredValue::new_local(Some(timer));
    on_cleanup(move || timer.update_value(|t| drop(t.take())));
    let q = RwSignal::new(String::new());
    let servers = LocalResource::new(move || {
        tick.track();
        let q = q.get();
        async move { api::servers(&q).await }
    });
    let sessions = LocalResource::new(move || {
        live.version.track();
        async move { api::work_sessions(&api::sessions_where("active", "me", 500)).await }
    });
    let usable = move |server: &str| -> Option<WorkSession> {
        let me = auth.me.with(|m| m.as_ref().map(|m| m.user.id))?;
        sessions
            .get()?
            .ok()?
            .items
            .into_iter()
            .find(|s| s.assignee.id == me && s.has_scope(Scope::Websh) && s.has_server(server))
    };

    view! {
        <section class="page">
            <div class="page-head">
                <h1>"Servers"</h1>
                <label>"Find " <input type="search" name="q" bind:value=q /></label>
            </div>
            {move || match servers.get() {
                None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorBox error=Signal::derive(move || Some(e.clone())) /> }.into_any(),
                Some(Ok(page)) if page.items.is_empty() => {
                    view! { <p class="empty">"No servers to show."</p> }.into_any()
                }
                Some(Ok(page)) => view! {
                    <table class="list">
                        <thead>
                            <tr>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Last seen"</th>
                                <th scope="col">"System"</th>
                                <th scope="col">"Groups"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {page
                                .items
                                .into_iter()
                                .map(|server| {
                                    let session = usable(&server.name);
                                    view! { <ServerRow server=server session=session /> }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                }
                    .into_any(),
            }}
        </section>
    }
}

#[component]
fn ServerRow(server: Server, session: Option<WorkSession>) -> impl IntoView {
    let open = session.filter(|_| server.connected).map(|s| {
        format!(
            "/websh?server={}&session={}",
            api::encode(&server.name),
            s.id
        )
    });
    let (detail, label) = (format!("/servers/{}", server.id), server.name.clone());
    let system = [server.os.clone(), server.platform.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" / ");
    view! {
        <tr data-testid="server-row" data-name=server.name.clone() data-connected=server.connected.to_string()>
            <td>
                <A href=detail attr:data-testid="server-link">{label}</A>
            </td>
            <td>
                <span class=if server.connected { "dot on" } else { "dot off" }></span>
                {if server.connected { "connected" } else { "disconnected" }}
            </td>
            <td>{server.last_seen.as_ref().map(format_at).unwrap_or_else(|| "never".to_owned())}</td>
            <td>{system}</td>
            <td>{server.groups.join(", ")}</td>
            <td>
                {open.map(|href| view! { <A href=href attr:class="button" attr:data-testid="open-websh">"Open terminal"</A> })}
            </td>
        </tr>
    }
}
