//! The console's root component: header and the main area the screens render into.

use gatehouse_shared::Scope;
use leptos::prelude::*;

/// The root of the console.
#[component]
pub fn App() -> impl IntoView {
    let scopes: Vec<&'static str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    view! {
        <header class="topbar">
            <span class="brand">"Gatehouse"</span>
        </header>
        <main class="main">
            <h1>"Gatehouse console"</h1>
            <p>
                "Access to servers happens inside approved work sessions. Scopes: "
                {scopes.join(", ")}
            </p>
        </main>
    }
}
