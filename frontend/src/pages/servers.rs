//! Placeholder for the servers screen (being built).

use leptos::prelude::*;

#[component]
pub fn ServersPage() -> impl IntoView {
    view! { <p>"Coming soon."</p> }
}
