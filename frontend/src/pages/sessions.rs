//! Placeholder for the sessions screen (being built).

use leptos::prelude::*;

#[component]
pub fn SessionsPage() -> impl IntoView {
    view! { <p>"Coming soon."</p> }
}
