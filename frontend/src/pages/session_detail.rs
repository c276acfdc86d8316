//! Placeholder for the session_detail screen (being built).

use leptos::prelude::*;

#[component]
pub fn SessionDetailPage() -> impl IntoView {
    view! { <p>"Coming soon."</p> }
}
