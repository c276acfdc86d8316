//! Placeholder for the audit screen (being built).

use leptos::prelude::*;

#[component]
pub fn AuditPage() -> impl IntoView {
    view! { <p>"Coming soon."</p> }
}
