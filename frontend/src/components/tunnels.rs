//! Live tunnels with their connections and bytes, and an End button per row: a work session's
//! own on its page, everyone's (staff) on the oversight page. Counters refresh every few
//! seconds while the table is shown.

use crate::api::tunnels::{end_tunnel, tunnels};
use crate::components::ErrorBox;
use crate::pages::files::paths::human_size;
use crate::time::format_at;
use gatehouse_shared::tunnel::TunnelView;
use gatehouse_shared::WorkSessionId;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// How often the counters are read again.
const REFRESH: std::time::Duration = std::time::Duration::from_secs(3);

#[component]
pub fn TunnelTable(work_session: Option<WorkSessionId>) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    if let Ok(handle) = set_interval_with_handle(move || tick.update(|n| *n += 1), REFRESH) {
        on_cleanup(move || handle.clear());
    }
    let list = LocalResource::new(move || {
        tick.track();
        tunnels(work_session)
    });
    view! {
        <div class="tunnels" data-testid="tunnels">
            {move || match list.get() {
                None => view! { <p class="loading">"Loading tunnels…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorBox error=Signal::derive(move || Some(e.clone())) /> }.into_any(),
                Some(Ok(page)) if page.items.is_empty() => {
                    view! { <p class="empty" data-testid="tunnels-empty">"No tunnel is open."</p> }.into_any()
                }
                Some(Ok(page)) => view! {
                    <div class="table-wrap">
                        <table class="list">
                            <thead>
                                <tr>
                                    <th scope="col">"Owner"</th>
                                    <th scope="col">"Server"</th>
                                    <th scope="col">"Target"</th>
                                    <th scope="col">"Since"</th>
                                    <th scope="col">"Connections"</th>
                                    <th scope="col">"Up"</th>
                                    <th scope="col">"Down"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {page.items.into_iter().map(|t| view! { <Row t=t tick=tick /> }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                    .into_any(),
            }}
        </div>
    }
}

#[component]
fn Row(t: TunnelView, tick: RwSignal<u32>) -> impl IntoView {
    let id = t.id;
    let error = RwSignal::new(None);
    let end = move |_| {
        spawn_local(async move {
            match end_tunnel(id).await {
                Ok(()) => tick.update(|n| *n += 1),
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let carried = if t.carrier_connected {
        ""
    } else {
        " (no client)"
    };
    view! {
        <tr data-testid="tunnel-row" data-id=id.to_string()>
            <td>{t.owner.username.clone()}</td>
            <td>{t.server.clone()}</td>
            <td class="mono">{format!("{}:{}", t.remote_host, t.remote_port)}{carried}</td>
            <td class="nowrap">{format_at(&t.created_at)}</td>
            <td class="num" data-testid="tunnel-connections">
                {format!("{} open / {}", t.connections_open, t.connections_total)}
            </td>
            <td class="num">{human_size(t.bytes_up)}</td>
            <td class="num">{human_size(t.bytes_down)}</td>
            <td class="row-actions nowrap">
                <button type="button" class="danger" data-testid="tunnel-end" on:click=end>"End"</button>
                <ErrorBox error=error />
            </td>
        </tr>
    }
}
