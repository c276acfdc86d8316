//! Placeholder for the admin screen (being built).

use leptos::prelude::*;

#[component]
pub fn AdminPage() -> impl IntoView {
    view! { <p>"Coming soon."</p> }
}
