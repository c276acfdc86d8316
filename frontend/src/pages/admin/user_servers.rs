//! Direct server access: grants one user servers by name or pattern, without a group.

use super::form::FieldError;
use super::users::UserDirectory;
use crate::api::{self, ApiError};
use crate::components::ErrorBox;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn UserServersSection(directory: UserDirectory) -> impl IntoView {
    // The chosen user's id; empty until one is picked.
    let user = RwSignal::new(String::new());
    let pattern = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let granted = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let id = user.get_untracked();
        let pattern_value = pattern.get_untracked().trim().to_owned();
        let name = directory.items.with_untracked(|items| {
            items
                .iter()
                .find(|u| u.id.to_string() == id)
                .map(|u| u.username.clone())
        });
        let Some(name) = name else {
            return;
        };
        busy.set(true);
        spawn_local(async move {
            match api::grant_user_servers(&id, pattern_value.clone()).await {
                Ok(()) => {
                    error.set(None);
                    granted.set(Some(format!("{name} may now request {pattern_value}.")));
                    pattern.set(String::new());
                }
                Err(e) => {
                    granted.set(None);
                    error.set(Some(e));
                }
            }
            busy.set(false);
        });
    };

    let options = move || {
        directory
            .items
            .get()
            .into_iter()
            .map(|u| {
                let id = u.id.to_string();
                let selected = {
                    let id = id.clone();
                    move || user.get() == id
                };
                view! { <option value=id selected=selected>{u.username}</option> }
            })
            .collect_view()
    };

    view! {
        <section class="card admin-section" id="user-servers" aria-labelledby="user-servers-heading">
            <h2 id="user-servers-heading">"Server access for a user"</h2>
            <p class="hint">
                "Grants one user servers directly, in addition to what their groups grant."
            </p>
            <form class="admin-form" data-testid="grant-user-servers" on:submit=submit>
                <div class="form-row">
                    <label>
                        "User"
                        <select name="user" required
                            on:change=move |ev| user.set(event_target_value(&ev))>
                            <option value="" selected=move || user.get().is_empty()>
                                "Choose a user"
                            </option>
                            {options}
                        </select>
                    </label>
                    <label>
                        "Server name or pattern"
                        <input name="pattern" placeholder="web-*" autocomplete="off" required
                            bind:value=pattern />
                        <FieldError error=error field="pattern" />
                    </label>
                </div>
                <ErrorBox error=error at_fields=&["pattern"] />
                <p class="notice-ok" role="status">{move || granted.get()}</p>
                <button type="submit" class="primary" aria-disabled=move || busy.get().to_string()>"Grant access"</button>
            </form>
        </section>
    }
}
