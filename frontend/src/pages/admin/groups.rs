//! Groups: who is in them and which server-name patterns they grant.

use super::form::FieldError;
use super::users::UserDirectory;
use super::GroupsResource;
use crate::api::{self, ApiError, ApiResult};
use crate::components::ErrorBox;
use gatehouse_shared::api::Group;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The `<datalist>` that suggests known usernames in every add-member field.
const USERNAMES_LIST: &str = "admin-known-usernames";

#[component]
pub fn GroupsSection(groups: GroupsResource, directory: UserDirectory) -> impl IntoView {
    // The status line and the cards are separate, so a refetch updates cards in place instead of
    // rebuilding the whole list.
    let status = move || match groups.get() {
        None => Some(view! { <p class="loading">"Loading groups…"</p> }.into_any()),
        Some(Err(e)) => Some(view! { <ErrorBox error=Signal::stored(Some(e)) /> }.into_any()),
        Some(Ok(page)) if page.items.is_empty() => {
            Some(view! { <p class="empty">"No groups yet."</p> }.into_any())
        }
        Some(Ok(_)) => None,
    };
    let items = move || {
        groups
            .get()
            .and_then(Result::ok)
            .map(|page| page.items)
            .unwrap_or_default()
    };
    view! {
        <section class="card admin-section" id="groups" aria-labelledby="groups-heading">
            <h2 id="groups-heading">"Groups"</h2>
            <datalist id=USERNAMES_LIST>
                {move || {
                    directory
                        .items
                        .get()
                        .into_iter()
                        .map(|u| view! { <option value=u.username></option> })
                        .collect_view()
                }}
            </datalist>
            {status}
            // Keyed by content, so a card whose own form just updated it keeps its focus when
            // the list is fetched again.
            <div class="group-list">
                <For each=items key=card_key let:group>
                    <GroupCard group=group />
                </For>
            </div>
            <CreateGroupForm groups=groups />
        </section>
    }
}

fn card_key(group: &Group) -> String {
    format!(
        "{}|{}|{}",
        group.id,
        group.members.join(","),
        group.server_patterns.join(",")
    )
}

/// Comma-separated text, or a dash for none.
fn listing(items: &[String]) -> String {
    if items.is_empty() {
        "—".to_owned()
    } else {
        items.join(", ")
    }
}

#[component]
fn GroupCard(group: Group) -> impl IntoView {
    let name = group.name.clone();
    let current = RwSignal::new(group);
    view! {
        <article class="group-card" data-testid="group-row" data-group=name.clone()>
            <h3>{name.clone()}</h3>
            <dl class="fields">
                <dt>"Members"</dt>
                <dd data-testid="group-members">{move || current.with(|g| listing(&g.members))}</dd>
                <dt>"Servers"</dt>
                <dd data-testid="group-servers">
                    {move || current.with(|g| listing(&g.server_patterns))}
                </dd>
            </dl>
            <div class="form-row">
                <AddToGroup current=current kind=Addition::Member
                    label="Add a member" />
                <AddToGroup current=current kind=Addition::Servers
                    label="Add servers by name or pattern" />
            </div>
        </article>
    }
}

/// What an add-to-group form adds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Addition {
    Member,
    Servers,
}

impl Addition {
    /// The request body's field, which is also where the server reports a problem.
    fn field(self) -> &'static str {
        match self {
            Addition::Member => "username",
            Addition::Servers => "pattern",
        }
    }

    async fn send(self, group: &str, value: String) -> ApiResult<Group> {
        match self {
            Addition::Member => api::add_group_member(group, value).await,
            Addition::Servers => api::add_group_servers(group, value).await,
        }
    }
}

/// One small form that adds a member or a pattern to a group; the answer is the updated group.
#[component]
fn AddToGroup(current: RwSignal<Group>, kind: Addition, label: &'static str) -> impl IntoView {
    // Screen readers hear which group the field belongs to; sighted users see it on the card.
    let group_name = current.with_untracked(|g| format!(" to {}", g.name));
    let value = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let field = kind.field();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let group = current.with_untracked(|g| g.id.to_string());
        let entered = value.get_untracked().trim().to_owned();
        busy.set(true);
        spawn_local(async move {
            match kind.send(&group, entered).await {
                Ok(group) => {
                    error.set(None);
                    value.set(String::new());
                    current.set(group);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let (placeholder, button, suggestions) = match kind {
        Addition::Member => ("username", "Add member", Some(USERNAMES_LIST)),
        Addition::Servers => ("web-*", "Add servers", None),
    };
    view! {
        <form class="inline-form" data-testid=format!("group-add-{field}") on:submit=submit>
            <label>
                {label}
                <span class="visually-hidden">{group_name}</span>
                <input name=field placeholder=placeholder autocomplete="off" required
                    list=suggestions bind:value=value />
                <FieldError error=error field=field />
            </label>
            <button type="submit" aria-disabled=move || busy.get().to_string()>{button}</button>
            <ErrorBox error=error />
        </form>
    }
}

#[component]
fn CreateGroupForm(groups: GroupsResource) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let value = name.get_untracked().trim().to_owned();
        busy.set(true);
        spawn_local(async move {
            match api::create_group(value).await {
                Ok(_) => {
                    error.set(None);
                    name.set(String::new());
                    groups.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="admin-form" data-testid="create-group" on:submit=submit>
            <h3>"Create a group"</h3>
            <div class="form-row">
                <label>
                    "Group name"
                    <input name="name" autocomplete="off" required bind:value=name />
                    <FieldError error=error field="name" />
                </label>
            </div>
            <ErrorBox error=error at_fields=&["name"] />
            <button type="submit" class="primary" aria-disabled=move || busy.get().to_string()>"Create group"</button>
        </form>
    }
}
