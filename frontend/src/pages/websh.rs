//! Placeholder for the websh screen (being built).

use leptos::prelude::*;

#[component]
pub fn WebshPage() -> impl IntoView {
    view! { <p>"Coming soon."</p> }
}
