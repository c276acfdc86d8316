//! A table of API tokens, as the Account page (one's own, with their rules under each), the
//! Tokens page (everyone's, with owners) and a service account's card (its own) show it.

use super::rules::RuleLists;
use crate::api::{self, ApiError};
use crate::components::ErrorBox;
use crate::pages::admin::form::focus_when_rendered;
use crate::time::{format_at, now};
use gatehouse_shared::token::ApiToken;
use leptos::html::Button;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;

/// What a token table shows besides name, dates and state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Columns {
    /// Whose token it is, and whether that is a person or a service account.
    pub owner: bool,
    /// The name links to the token's rules on the Tokens page.
    pub rules_link: bool,
    /// The token's rules, read-only, in a row under it.
    pub rules_below: bool,
    /// A Revoke button while it is live.
    pub revoke: bool,
}

impl Columns {
    fn count(self) -> usize {
        5 + usize::from(self.owner) * 2 + usize::from(self.revoke)
    }
}

/// Where the Tokens page shows token `id`'s rules.
pub fn rules_href(id: &str) -> String {
    format!("/admin/tokens?token={}", api::encode(id))
}

#[component]
pub fn TokensTable(
    items: impl Fn() -> Vec<ApiToken> + Send + Sync + 'static,
    caption: &'static str,
    columns: Columns,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="list tokens-table">
                <caption class="visually-hidden">{caption}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <Show when=move || columns.owner>
                            <th scope="col">"Owner"</th>
                            <th scope="col">"Kind"</th>
                        </Show>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"State"</th>
                        <Show when=move || columns.revoke>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </Show>
                    </tr>
                </thead>
                // Keyed by id, so rows (and keyboard focus in them) survive a refetch.
                <tbody>
                    <For each=items key=|t| t.id let:token>
                        <TokenRow token=token columns=columns />
                    </For>
                </tbody>
            </table>
        </div>
    }
}

/// Whether a token still works, in one word.
fn token_state(revoked: bool, expired: bool) -> &'static str {
    if revoked {
        "revoked"
    } else if expired {
        "expired"
    } else {
        "active"
    }
}

fn when_or_never(at: Option<&chrono::DateTime<chrono::Utc>>) -> String {
    at.map(format_at).unwrap_or_else(|| "never".to_owned())
}

#[component]
fn TokenRow(token: ApiToken, columns: Columns) -> impl IntoView {
    // Revoking updates the row in place (no refetch), so focus can stay on it.
    let revoked = RwSignal::new(token.revoked);
    let expired = token.expires_at.is_some_and(|at| at <= now());
    let state = move || token_state(revoked.get(), expired);
    let row_id = token.id.to_string();
    let badge_class = move || format!("badge token-{}", state());
    let token_name = token.name.clone();
    let label = token.name.clone();
    let name = if columns.rules_link {
        let query = use_query_map();
        let id = row_id.clone();
        let current = move || {
            query
                .with(|q| q.get("token").as_deref() == Some(id.as_str()))
                .then_some("page")
        };
        // A plain link (the router still takes the click): `A` would mark every row current,
        // since they differ only in the query.
        view! {
            <a href=rules_href(&row_id) data-testid="token-rules-link" aria-current=current>
                {label}
            </a>
        }
        .into_any()
    } else {
        label.into_any()
    };
    let (owner, kind) = match &token.owner {
        Some(owner) => (owner.username.clone(), token.service_account),
        None => (String::new(), token.service_account),
    };
    let kind = if kind { "service account" } else { "person" };
    let below = columns.rules_below.then(|| {
        let id = row_id.clone();
        view! {
            <tr class="token-rules-row" data-testid="token-rules-row" data-token-id=row_id.clone()>
                <td colspan=columns.count().to_string()>
                    <RuleLists token=id />
                </td>
            </tr>
        }
    });
    view! {
        <tr data-testid="token-row" data-token-state=state data-token-id=row_id.clone()
            data-token-name=token_name tabindex="-1">
            <td class="token-name">{name}</td>
            {columns.owner.then(|| view! {
                <td data-testid="token-owner">{owner}</td>
                <td data-testid="token-kind">{kind}</td>
            })}
            <td>{format_at(&token.created_at)}</td>
            <td>{when_or_never(token.expires_at.as_ref())}</td>
            <td>{when_or_never(token.last_used_at.as_ref())}</td>
            <td><span class=badge_class>{state}</span></td>
            {columns.revoke.then(|| view! {
                <td>
                    <Show when=move || !revoked.get()>
                        <RevokeButton token=token.clone() on_revoked=move || revoked.set(true) />
                    </Show>
                </td>
            })}
        </tr>
        {below}
    }
}

/// "Revoke", then a confirm step; focus follows the buttons so the keyboard never loses its place.
#[component]
fn RevokeButton(
    token: ApiToken,
    on_revoked: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let ask_ref = NodeRef::<Button>::new();
    let confirm_ref = NodeRef::<Button>::new();
    let focus_later = move |target: NodeRef<Button>| {
        // After the swap has rendered.
        request_animation_frame(move || {
            if let Some(button) = target.get_untracked() {
                let _ = button.focus();
            }
        });
    };
    let id = token.id.to_string();
    let revoke = move |_| {
        let id = id.clone();
        spawn_local(async move {
            match api::revoke_token(&id).await {
                Ok(()) => {
                    on_revoked();
                    // The buttons vanish with the revoked state; keep the keyboard on the row.
                    focus_when_rendered(format!(
                        "tr[data-testid=token-row][data-token-id=\"{id}\"]"
                    ));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let name = token.name;
    view! {
        <Show
            when=move || confirming.get()
            fallback=move || {
                view! {
                    <button type="button" data-testid="token-revoke" node_ref=ask_ref
                        on:click=move |_| {
                            confirming.set(true);
                            focus_later(confirm_ref);
                        }>
                        "Revoke"
                    </button>
                }
            }
        >
            <span class="confirm">
                {format!("Revoke {name}? Scripts using it stop working. ")}
                <button type="button" class="danger" data-testid="token-revoke-confirm"
                    node_ref=confirm_ref on:click=revoke.clone()>
                    "Revoke"
                </button>
                <button type="button" on:click=move |_| {
                    confirming.set(false);
                    focus_later(ask_ref);
                }>"Cancel"</button>
            </span>
        </Show>
        <ErrorBox error=error />
    }
}
