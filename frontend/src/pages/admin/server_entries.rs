//! Server entries: a named server created ahead of its agent, optionally granted to groups.

use super::form::FieldError;
use super::GroupsResource;
use crate::api::{self, ApiError};
use crate::components::ErrorBox;
use gatehouse_shared::server::{CreateServer, Server};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

#[component]
pub fn ServerEntriesSection(groups: GroupsResource) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let platform = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<String>::new());
    let error = RwSignal::new(None::<ApiError>);
    let created = RwSignal::new(None::<Server>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let platform = platform.get_untracked().trim().to_owned();
        let chosen_groups = chosen.get_untracked();
        let body = CreateServer {
            name: name.get_untracked().trim().to_owned(),
            platform: (!platform.is_empty()).then_some(platform),
            groups: (!chosen_groups.is_empty()).then_some(chosen_groups),
        };
        busy.set(true);
        spawn_local(async move {
            match api::create_server(&body).await {
                Ok(server) => {
                    error.set(None);
                    created.set(Some(server));
                    name.set(String::new());
                    chosen.set(Vec::new());
                    // The chosen groups now carry the server's name as a pattern.
                    if body.groups.is_some() {
                        groups.refetch();
                    }
                }
                Err(e) => {
                    created.set(None);
                    error.set(Some(e));
                }
            }
            busy.set(false);
        });
    };

    let group_names = move || {
        groups
            .get()
            .and_then(Result::ok)
            .map(|page| page.items.into_iter().map(|g| g.name).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let checkboxes = move || {
        group_names()
            .into_iter()
            .map(|group| {
                let checked = {
                    let group = group.clone();
                    move || chosen.with(|c| c.contains(&group))
                };
                let toggle = {
                    let group = group.clone();
                    move |ev: leptos::ev::Event| {
                        let on = event_target_checked(&ev);
                        chosen.update(|c| {
                            c.retain(|g| g != &group);
                            if on {
                                c.push(group.clone());
                            }
                        });
                    }
                };
                view! {
                    <label class="check">
                        <input type="checkbox" name="groups" value=group.clone()
                            prop:checked=checked on:change=toggle />
                        {group}
                    </label>
                }
            })
            .collect_view()
    };

    view! {
        <section class="card admin-section" id="server-entries" aria-labelledby="server-entries-heading">
            <h2 id="server-entries-heading">"Server entries"</h2>
            <p class="hint">
                "Create a server ahead of its agent; an agent registering with the same name takes it over."
            </p>
            <form class="admin-form" data-testid="create-server" on:submit=submit>
                <div class="form-row">
                    <label>
                        "Server name"
                        <input name="name" placeholder="web-01" autocomplete="off" required
                            bind:value=name />
                        <FieldError error=error field="name" />
                    </label>
                    <label>
                        "Platform (optional)"
                        <input name="platform" placeholder="linux" autocomplete="off"
                            bind:value=platform />
                        <FieldError error=error field="platform" />
                    </label>
                </div>
                <Show when=move || !group_names().is_empty()>
                    <fieldset class="checks">
                        <legend>"Grant to groups (optional)"</legend>
                        {checkboxes}
                    </fieldset>
                </Show>
                <FieldError error=error field="groups" />
                <ErrorBox error=error at_fields=&["name", "platform", "groups"] />
                <button type="submit" class="primary" aria-disabled=move || busy.get().to_string()>"Create server entry"</button>
            </form>
            {move || {
                created
                    .get()
                    .map(|server| {
                        view! {
                            <p class="notice-ok" role="status" data-testid="server-created">
                                {format!("Created server entry {}", server.name)}
                                {(!server.groups.is_empty())
                                    .then(|| format!(" (groups: {})", server.groups.join(", ")))}
                                ". " <A href="/servers">"See all servers"</A>
                            </p>
                        }
                    })
            }}
        </section>
    }
}
