//! The administration screen (staff and above): users, groups, direct server access, server
//! entries, agent registration tokens, and (superusers) the workspace settings and links to the
//! API tokens and service accounts pages. The server enforces every permission again.

pub mod form;
mod groups;
mod registration;
mod server_entries;
mod settings;
mod user_servers;
mod users;

use crate::api::{self, ApiResult};
use crate::auth::use_auth;
use gatehouse_shared::api::{Group, Page};
use leptos::prelude::*;
use leptos_router::components::A;

/// The groups list, shared by the groups section and the server-entry form's group choices.
type GroupsResource = LocalResource<ApiResult<Page<Group>>>;

#[component]
pub fn AdminPage() -> impl IntoView {
    let auth = use_auth();
    // A memo, so refreshing `whoami` does not rebuild the page (and drop typed form input).
    let staff = Memo::new(move |_| auth.is_staff());
    move || {
        if staff.get() {
            view! { <AdminSections /> }.into_any()
        } else {
            view! {
                <section class="page-admin">
                    <h1>"Administration"</h1>
                    <p class="empty" data-testid="staff-only">"This page is for staff only."</p>
                </section>
            }
            .into_any()
        }
    }
}

#[component]
fn AdminSections() -> impl IntoView {
    let directory = users::UserDirectory::new();
    let groups: GroupsResource = LocalResource::new(api::groups);
    let auth = use_auth();
    let superuser = Memo::new(move |_| auth.role() == Some(gatehouse_shared::Role::Superuser));
    view! {
        <div class="page-admin">
            <h1>"Administration"</h1>
            // `rel=external` lets the browser follow these in-page links itself, which also moves
            // keyboard focus to the section (the router would only scroll).
            <nav class="section-nav" aria-label="Administration sections">
                <a href="#users" rel="external">"Users"</a>
                <a href="#groups" rel="external">"Groups"</a>
                <a href="#user-servers" rel="external">"Server access"</a>
                <a href="#server-entries" rel="external">"Server entries"</a>
                <a href="#registration" rel="external">"Registration tokens"</a>
                <Show when=move || superuser.get()>
                    <a href="#settings" rel="external">"Settings"</a>
                    // Pages of their own, for superusers only (the server refuses others).
                    <A href="/admin/tokens">"API tokens"</A>
                    <A href="/admin/service-accounts">"Service accounts"</A>
                </Show>
            </nav>
            <users::UsersSection directory=directory />
            <groups::GroupsSection groups=groups directory=directory />
            <user_servers::UserServersSection directory=directory />
            <server_entries::ServerEntriesSection groups=groups />
            <registration::RegistrationSection />
            <Show when=move || superuser.get()>
                <settings::SettingsSection />
            </Show>
        </div>
    }
}
