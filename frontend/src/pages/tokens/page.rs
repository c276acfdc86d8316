//! The Tokens page (superusers): every token of the workspace with its owner; choosing one
//! (`?token=<id>`) shows its rules, editable, and the Explain box. The server refuses anyone else,
//! and this page then shows its refusal and no data.

use super::explain::Explain;
use super::rules::{acl_resource, RulesView};
use super::table::{Columns, TokensTable};
use super::AdminPagesNav;
use crate::api;
use crate::components::ErrorBox;
use crate::pages::admin::form::focus_when_rendered;
use gatehouse_shared::token::ApiToken;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn TokensPage() -> impl IntoView {
    let tokens = LocalResource::new(api::acl::all_tokens);
    let query = use_query_map();
    // A memo, so the panel is rebuilt only when another token is chosen.
    let selected = Memo::new(move |_| query.with(|q| q.get("token")).filter(|id| !id.is_empty()));
    let status = move || match tokens.get() {
        None => Some(view! { <p class="loading">"Loading tokens…"</p> }.into_any()),
        Some(Err(e)) => Some(view! { <ErrorBox error=Signal::stored(Some(e)) /> }.into_any()),
        Some(Ok(page)) if page.items.is_empty() => {
            Some(view! { <p class="empty">"No API tokens yet."</p> }.into_any())
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
        owner: true,
        rules_link: true,
        ..Columns::default()
    };
    let panel = move || {
        selected.get().map(|id| {
            let token = Signal::derive({
                let id = id.clone();
                move || items().into_iter().find(|t| t.id.to_string() == id)
            });
            view! { <TokenPanel id=id token=token /> }
        })
    };
    view! {
        <div class="page-admin page-tokens">
            <h1>"API tokens"</h1>
            <AdminPagesNav />
            <section class="card admin-section" aria-labelledby="all-tokens-heading">
                <h2 id="all-tokens-heading">"Every token"</h2>
                <p class="hint">
                    "A token bypasses work sessions: it may do only what its rules allow, and a "
                    "person's token never more than its owner. Choose a token to see and change its rules."
                </p>
                {status}
                <Show when=move || !items().is_empty()>
                    <TokensTable items=items caption="Every API token" columns=columns />
                </Show>
            </section>
            {panel}
        </div>
    }
}

/// The chosen token's rules and the Explain box.
#[component]
fn TokenPanel(id: String, token: Signal<Option<ApiToken>>) -> impl IntoView {
    let acl = acl_resource(id.clone());
    let panel_id = id.clone();
    let rules_id = id.clone();
    let title = move || {
        token.with(|t| match t {
            Some(t) => {
                let owner = t.owner.as_ref().map(|o| o.username.as_str()).unwrap_or("?");
                format!("Rules of {} ({owner})", t.name)
            }
            None => "Rules of this token".to_owned(),
        })
    };
    // The keyboard follows the choice to the rules.
    focus_when_rendered("#token-rules-heading".to_owned());
    view! {
        <section class="card admin-section token-panel" data-testid="token-panel"
            data-token-id=panel_id aria-labelledby="token-rules-heading">
            <h2 id="token-rules-heading" tabindex="-1">{title}</h2>
            <p class="hint">
                "Deny by default: every operation needs a server rule for its server and a rule of its own kind."
            </p>
            <RulesView acl=acl token=rules_id editable=super::is_superuser().get_untracked() />
            <Explain token=id acl=acl />
        </section>
    }
}
