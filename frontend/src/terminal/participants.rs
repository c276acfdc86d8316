//! Who is in a live terminal, as the gateway pushes it over the stream: name, role, whether
//! they may type, how many connections. Owners and staff get "Remove" on guests.

use gatehouse_shared::share::{Participant, ParticipantRole};
use gatehouse_shared::ParticipantId;
use leptos::prelude::*;

fn role_word(role: ParticipantRole) -> &'static str {
    match role {
        ParticipantRole::Owner => "owner",
        ParticipantRole::Guest => "guest",
        ParticipantRole::Watcher => "watcher",
    }
}

/// The participants list. `on_remove` adds a "Remove" button to each guest; `me` marks the
/// viewer's own row (a guest sees which one is them).
#[component]
pub fn ParticipantList(
    #[prop(into)] items: Signal<Vec<Participant>>,
    #[prop(optional)] on_remove: Option<Callback<ParticipantId>>,
    #[prop(optional)] me: Option<ParticipantId>,
) -> impl IntoView {
    view! {
        <section class="participants" aria-labelledby="participants-heading">
            <h2 id="participants-heading">"In this terminal"</h2>
            <Show
                when=move || items.with(|list| !list.is_empty())
                fallback=|| view! { <p class="empty">"Nobody has joined yet."</p> }
            >
                <ul class="participant-list">
                    <For
                        each=move || items.get()
                        // Keyed by everything shown, so a changed row is redrawn.
                        key=|p| (p.id, p.read_only, p.connections, role_word(p.role), p.name.clone())
                        let:person
                    >
                        <ParticipantRow person=person on_remove=on_remove me=me />
                    </For>
                </ul>
            </Show>
        </section>
    }
}

#[component]
fn ParticipantRow(
    person: Participant,
    on_remove: Option<Callback<ParticipantId>>,
    me: Option<ParticipantId>,
) -> impl IntoView {
    let role = role_word(person.role);
    let access = if person.read_only {
        "read-only"
    } else {
        "can type"
    };
    let connections = match person.connections {
        1 => None,
        n => Some(format!("{n} connections")),
    };
    let id = person.id;
    let removable = person.role == ParticipantRole::Guest;
    let remove = on_remove.filter(|_| removable).map(|callback| {
        let label = format!("Remove {}", person.name);
        view! {
            <button type="button" class="participant-remove" data-testid="participant-remove"
                aria-label=label on:click=move |_| callback.run(id)>
                "Remove"
            </button>
        }
    });
    view! {
        <li class="participant" data-testid="participant" data-participant-id=id.to_string()
            data-role=role data-read-only=person.read_only.to_string()>
            <span class="participant-name">{person.name.clone()}</span>
            {(me == Some(id)).then(|| view! { <span class="participant-me">" (you)"</span> })}
            <span class="tag">{role}</span>
            <span class="participant-access">{access}</span>
            {connections.map(|c| view! { <span class="participant-connections">{c}</span> })}
            {remove}
        </li>
    }
}
