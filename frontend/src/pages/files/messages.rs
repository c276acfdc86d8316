//! What a failed file operation means for the person at the console: a short headline for the
//! common refusals (permission denied, conflicts, missing files, the gate), then the server's own
//! message, always as text.

use crate::api::ApiError;
use crate::components::ErrorBox;
use gatehouse_shared::ErrorCode;
use leptos::prelude::*;

/// The headline for `e`, when it is one of the refusals people meet while handling files.
pub fn headline(e: &ApiError) -> Option<&'static str> {
    Some(match e.code() {
        ErrorCode::Forbidden => "Permission denied",
        ErrorCode::Conflict => "Conflict",
        ErrorCode::NotFound => "Not found",
        ErrorCode::ValidationError | ErrorCode::BadRequest => "Not possible",
        ErrorCode::WorkSessionRequired
        | ErrorCode::WorkSessionNotActive
        | ErrorCode::WorkSessionExpired
        | ErrorCode::WorkSessionScopeNotAllowed
        | ErrorCode::WorkSessionServerNotAllowed
        | ErrorCode::WorkSessionAssigneeMismatch
        | ErrorCode::WorkSessionNotUsable => "Not allowed by the work session",
        _ => return None,
    })
}

/// One line: `Permission denied: <the server's message>`.
pub fn describe(e: &ApiError) -> String {
    match headline(e) {
        Some(h) => format!("{h}: {e}"),
        None => e.to_string(),
    }
}

/// The error box with the headline above the server's message (and its reason and next steps).
#[component]
pub fn FileError(#[prop(into)] error: Signal<Option<ApiError>>) -> impl IntoView {
    view! {
        {move || {
            error
                .with(|e| e.as_ref().and_then(headline))
                .map(|h| view! { <p class="file-error-head" role="status">{h}</p> })
        }}
        <ErrorBox error=error />
    }
}
