//! Placeholder for the playback screen (being built).

use leptos::prelude::*;

#[component]
pub fn PlaybackPage() -> impl IntoView {
    view! { <p>"Coming soon."</p> }
}
