//! `GET /api/events`: a server-sent event stream that tells a signed-in console when to refetch.
//!
//! Events carry no session data, only the fact that something changed, so a member learns nothing
//! about sessions they cannot see; the console refetches through the normal, visibility-checked API.

use crate::core::state::AppState;
use crate::extract::AuthUser;
use crate::store::logins;
use crate::time::now;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, Stream};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/events", get(events))
}

/// Name of the event sent when any work session was created or changed state.
pub const WORK_SESSIONS_CHANGED: &str = "work_sessions";

/// Stream `work_sessions` events while the caller stays connected (keepalive every 15 s).
#[utoipa::path(get, path = "/api/events", tag = "work-sessions",
    responses((status = 200, description = "text/event-stream of `work_sessions` events"),
              (status = 401, body = gatehouse_shared::ErrorEnvelope)))]
pub async fn events(
    State(state): State<AppState>,
    user: AuthUser,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let changes = state.session_changes.subscribe();
    // A browser sign-in is checked again before every event, so signing out (or the sign-in
    // expiring) ends the stream instead of leaving it announcing changes.
    let login = user.login.map(|l| l.token_hash);
    let stream = stream::unfold(changes, move |mut changes| {
        let state = state.clone();
        let login = login.clone();
        async move {
            loop {
                match changes.recv().await {
                    Ok(change) if change.workspace == state.workspace => break,
                    Ok(_) => continue,
                    // Missed some: one event still tells the console to refetch everything.
                    Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => return None,
                }
            }
            if let Some(hash) = &login {
                match logins::find(&state.db, state.workspace, hash, now()).await {
                    Ok(Some(_)) => {}
                    _ => return None,
                }
            }
            let event = Event::default()
                .event(WORK_SESSIONS_CHANGED)
                .data("changed");
            Some((Ok(event), changes))
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
