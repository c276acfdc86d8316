//! The "Run as" field: whom an operation on a server runs as. Empty means the person's own
//! account, which the field names; the list offers the shared accounts their groups grant there.
//! The server decides again (another account needs a grant or `sudo`; root always `sudo`).

use crate::api;
use gatehouse_shared::api::RunAsChoices;
use leptos::prelude::*;

/// The run-as input for `server` (a name; empty while none is known), bound to `user`.
#[component]
pub fn RunAsField(#[prop(into)] server: Signal<String>, user: RwSignal<String>) -> impl IntoView {
    let choices = LocalResource::new(move || {
        let server = server.get();
        async move {
            if server.is_empty() {
                return None;
            }
            api::run_as_choices(&server).await.ok()
        }
    });
    let list_id = move || format!("run-as-{}", server.get());
    let own = move || choices.get().flatten().and_then(|c| c.own);
    let note = move || match choices.get().flatten() {
        None => String::new(),
        Some(RunAsChoices { own: Some(own), .. }) => format!("your own account, {own}"),
        Some(_) => "the agent's own user (it does not run as root)".to_owned(),
    };
    let granted = move || {
        choices
            .get()
            .flatten()
            .map(|c| c.granted)
            .unwrap_or_default()
    };
    view! {
        <label class="run-as">
            "Run as "
            <input
                name="run_as"
                size="12"
                autocomplete="off"
                list=list_id
                placeholder=move || own().unwrap_or_else(|| "default".to_owned())
                bind:value=user
            />
            <datalist id=list_id>
                <For each=granted key=|a| a.clone() let:account>
                    <option value=account.clone()>"granted to your group"</option>
                </For>
            </datalist>
            <small class="run-as-note" data-testid="run-as-note">
                {move || if user.with(|u| u.trim().is_empty()) { note() } else { String::new() }}
            </small>
        </label>
    }
}
