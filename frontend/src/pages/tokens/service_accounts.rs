//! The Service accounts page (superusers): non-human principals for CI pipelines and AI agents,
//! each acting only through its own `ghst_` tokens. Lists them and creates them.

use super::service_account_card::ServiceAccountCard;
use super::AdminPagesNav;
use crate::api::{self, ApiError};
use crate::components::ErrorBox;
use crate::pages::admin::form::{clear_field, focus_when_rendered, FieldError};
use gatehouse_shared::acl::api::NewServiceAccount;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn ServiceAccountsPage() -> impl IntoView {
    let accounts = LocalResource::new(api::acl::service_accounts);
    let status = move || match accounts.get() {
        None => Some(view! { <p class="loading">"Loading service accounts…"</p> }.into_any()),
        Some(Err(e)) => Some(view! { <ErrorBox error=Signal::stored(Some(e)) /> }.into_any()),
        Some(Ok(page)) if page.items.is_empty() => {
            Some(view! { <p class="empty">"No service accounts yet."</p> }.into_any())
        }
        Some(Ok(_)) => None,
    };
    let items = move || {
        accounts
            .get()
            .and_then(Result::ok)
            .map(|page| page.items)
            .unwrap_or_default()
    };
    view! {
        <div class="page-admin page-service-accounts">
            <h1>"Service accounts"</h1>
            <AdminPagesNav />
            <section class="card admin-section" aria-labelledby="service-accounts-heading">
                <h2 id="service-accounts-heading">"Service accounts"</h2>
                <p class="hint">
                    "For CI pipelines and AI agents: no password, no work sessions; each acts only "
                    "through its own tokens, and each token only as its rules allow."
                </p>
                {status}
                // Keyed by id: a card keeps its forms (and focus) when the list is fetched again.
                <div class="group-list service-account-list">
                    <For each=items key=|a| a.id let:account>
                        <ServiceAccountCard account=account />
                    </For>
                </div>
                <CreateServiceAccount on_created=move || accounts.refetch() />
            </section>
        </div>
    }
}

#[component]
fn CreateServiceAccount(on_created: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let done = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let body = NewServiceAccount {
            name: name.get_untracked().trim().to_owned(),
            description: Some(description.get_untracked().trim().to_owned())
                .filter(|d| !d.is_empty()),
        };
        busy.set(true);
        spawn_local(async move {
            match api::acl::create_service_account(&body).await {
                Ok(account) => {
                    error.set(None);
                    name.set(String::new());
                    description.set(String::new());
                    done.set(Some(format!(
                        "Service account {} created.",
                        account.username
                    )));
                    on_created();
                    focus_when_rendered(format!(
                        "[data-testid=service-account][data-name=\"{}\"] h3",
                        account.name
                    ));
                }
                Err(e) => {
                    done.set(None);
                    error.set(Some(e));
                }
            }
            busy.set(false);
        });
    };
    view! {
        <form class="admin-form" data-testid="create-service-account" on:submit=submit>
            <h3>"Create a service account"</h3>
            <div class="form-row">
                <label>
                    "Name (letters, digits, . _ -; up to 48)"
                    <input name="name" required maxlength="48" autocomplete="off"
                        placeholder="deployer" prop:value=name
                        on:input=move |ev| {
                            name.set(event_target_value(&ev));
                            clear_field(error, "name");
                        } />
                    <FieldError error=error field="name" />
                </label>
                <label>
                    "Description (optional)"
                    <input name="description" autocomplete="off" placeholder="CI deploys"
                        prop:value=description
                        on:input=move |ev| {
                            description.set(event_target_value(&ev));
                            clear_field(error, "description");
                        } />
                    <FieldError error=error field="description" />
                </label>
            </div>
            <ErrorBox error=error at_fields=&["name", "description"] />
            <p class="notice-ok" role="status">{move || done.get()}</p>
            <button type="submit" class="primary" aria-disabled=move || busy.get().to_string()>
                "Create service account"
            </button>
        </form>
    }
}
