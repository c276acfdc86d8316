//! Placeholder for the account screen (being built).

use leptos::prelude::*;

#[component]
pub fn AccountPage() -> impl IntoView {
    view! { <p>"Coming soon."</p> }
}
