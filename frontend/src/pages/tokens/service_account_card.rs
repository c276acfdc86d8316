//! One service account: who it is, its tokens (with links to their rules and Revoke), and the
//! form that issues it a new token, whose `ghst_` secret is shown once.

use super::secret::NewToken;
use super::table::{Columns, TokensTable};
use crate::api::{self, ApiError};
use crate::components::{fields_at_form, ErrorBox, StepUp, StepUpPrompt};
use crate::pages::admin::form::{clear_field, FieldError};
use crate::time::format_at;
use gatehouse_shared::acl::api::ServiceAccount;
use gatehouse_shared::token::{CreateApiToken, CreatedApiToken, MAX_TOKEN_DAYS};
use leptos::prelude::*;

#[component]
pub fn ServiceAccountCard(account: ServiceAccount) -> impl IntoView {
    let id = account.id.to_string();
    let tokens = LocalResource::new({
        let id = id.clone();
        move || {
            let id = id.clone();
            async move { api::acl::service_account_tokens(&id).await }
        }
    });
    let created = RwSignal::new(None::<CreatedApiToken>);
    let card_id = id.clone();
    let status = move || match tokens.get() {
        None => Some(view! { <p class="loading">"Loading tokens…"</p> }.into_any()),
        Some(Err(e)) => Some(view! { <ErrorBox error=Signal::stored(Some(e)) /> }.into_any()),
        Some(Ok(page)) if page.items.is_empty() => {
            Some(view! { <p class="empty">"No tokens yet."</p> }.into_any())
        }
        Some(Ok(_)) => None,
    };
    let items = move || {
        tokens
            .get()
            .and_then(Result::ok)
            .map(|page| page.items)
            .unwrap_or_default()
    };
    let columns = Columns {
        rules_link: true,
        revoke: true,
        ..Columns::default()
    };
    view! {
        <article class="group-card service-account" data-testid="service-account"
            data-name=account.name.clone() data-account-id=card_id>
            <h3 tabindex="-1">{account.name.clone()}</h3>
            <dl class="fields">
                <dt>"In the audit log"</dt>
                <dd>{account.username.clone()}</dd>
                <dt>"Description"</dt>
                <dd>{account.description.clone().unwrap_or_else(|| "—".to_owned())}</dd>
                <dt>"Runs as"</dt>
                <dd>{account.unix_user.clone()}</dd>
                <dt>"Created"</dt>
                <dd>{format_at(&account.created_at)}</dd>
                <dt>"State"</dt>
                <dd>{if account.disabled { "disabled" } else { "enabled" }}</dd>
            </dl>
            <h4>"Tokens"</h4>
            {status}
            <Show when=move || !items().is_empty()>
                <TokensTable items=items caption="This service account's tokens" columns=columns />
            </Show>
            {move || {
                created
                    .get()
                    .map(|t| view! { <NewToken token=t on_done=move || created.set(None) /> })
            }}
            <IssueToken account=id on_issued=move |t| {
                created.set(Some(t));
                tokens.refetch();
            } />
        </article>
    }
}

/// Name and lifetime of a new token; the server asks for a recent code (step-up) in place.
#[component]
fn IssueToken(
    account: String,
    on_issued: impl Fn(CreatedApiToken) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let days = RwSignal::new("90".to_owned());
    let error = RwSignal::new(None::<ApiError>);
    let step_up = StepUp::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if step_up.busy() {
            return;
        }
        let body = CreateApiToken {
            name: name.get_untracked().trim().to_owned(),
            // A number input: what does not parse was refused by the browser already.
            expires_in_days: days.get_untracked().trim().parse().ok(),
        };
        let account = account.clone();
        error.set(None);
        step_up.run(move || {
            let body = body.clone();
            let account = account.clone();
            async move {
                let issued = api::acl::issue_service_token(&account, &body).await;
                fields_at_form(issued, error, |token| {
                    name.set(String::new());
                    on_issued(token);
                })
            }
        });
    };
    view! {
        <form class="admin-form" data-testid="issue-token" on:submit=submit>
            <div class="form-row">
                <label>
                    "New token's name"
                    <input name="name" placeholder="pipeline" autocomplete="off" required
                        maxlength="100" prop:value=name
                        on:input=move |ev| {
                            name.set(event_target_value(&ev));
                            clear_field(error, "name");
                        } />
                    <FieldError error=error field="name" />
                </label>
                <label>
                    {format!("Expires in (days, 1 to {MAX_TOKEN_DAYS})")}
                    <input name="expires_in_days" type="number" min="1"
                        max=MAX_TOKEN_DAYS.to_string() bind:value=days />
                    <FieldError error=error field="expires_in_days" />
                </label>
            </div>
            <ErrorBox error=error at_fields=&["name", "expires_in_days"] />
            <StepUpPrompt step_up=step_up />
            <button type="submit" aria-disabled=move || step_up.busy().to_string()>"Issue a token"</button>
        </form>
    }
}
