//! Placeholder for the new_session screen (being built).

use leptos::prelude::*;

#[component]
pub fn NewSessionPage() -> impl IntoView {
    view! { <p>"Coming soon."</p> }
}
