//! The rows of the session list.

use crate::components::session_bits::time_left_text;
use crate::components::{ScopeList, ServerList, StatusBadge};
use gatehouse_shared::WorkSession;
use leptos::prelude::*;
use leptos_router::components::A;

/// A table of sessions; everything user-supplied is rendered as text.
#[component]
pub fn SessionTable(sessions: Vec<WorkSession>) -> impl IntoView {
    if sessions.is_empty() {
        return view! { <p class="empty" data-testid="no-sessions">"No work sessions match."</p> }
            .into_any();
    }
    view! {
        <table class="list sessions">
            <thead>
                <tr>
                    <th scope="col">"Purpose"</th>
                    <th scope="col">"Requester"</th>
                    <th scope="col">"Servers"</th>
                    <th scope="col">"Scopes"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Time left"</th>
                </tr>
            </thead>
            <tbody>
                {sessions.into_iter().map(|s| view! { <SessionRow session=s /> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn SessionRow(session: WorkSession) -> impl IntoView {
    let href = format!("/sessions/{}", session.id);
    let id = session.id.to_string();
    let status = session.status;
    let left = time_left_text(&session);
    let WorkSession {
        purpose,
        requested_by,
        servers,
        scopes,
        ..
    } = session;
    // Rows show two lines of a long purpose; the whole of it on hover and on the detail page.
    let title = purpose.clone();
    view! {
        <tr data-testid="session-row" data-id=id data-status=status.as_str()>
            <td>
                <A href=href attr:data-testid="purpose" attr:class="purpose" attr:title=title>{purpose}</A>
            </td>
            <td>{requested_by.username}</td>
            <td><ServerList servers=servers /></td>
            <td><ScopeList scopes=scopes /></td>
            <td><StatusBadge status=status /></td>
            <td class="time-left">{left}</td>
        </tr>
    }
}
