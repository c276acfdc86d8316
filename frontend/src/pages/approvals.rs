//! Placeholder for the approvals screen (being built).

use leptos::prelude::*;

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    view! { <p>"Coming soon."</p> }
}
