//! API tokens beyond one's own list: every token and its rules (the Tokens page), service
//! accounts and their tokens, and the pieces the Account page shares with them (the token
//! table, a secret shown once, a token's rules read-only).

mod add_rule;
mod explain;
mod page;
pub mod rules;
pub mod secret;
mod service_account_card;
mod service_accounts;
pub mod table;

pub use page::TokensPage;
pub use service_accounts::ServiceAccountsPage;

use crate::auth::use_auth;
use gatehouse_shared::Role;
use leptos::prelude::*;
use leptos_router::components::A;

/// Whether the signed-in person is a superuser: only they are offered these pages and edits
/// (the server refuses everyone else anyway).
fn is_superuser() -> Memo<bool> {
    let auth = use_auth();
    Memo::new(move |_| auth.role() == Some(Role::Superuser))
}

/// Links between the administration page and the superusers' token pages.
#[component]
fn AdminPagesNav() -> impl IntoView {
    let superuser = is_superuser();
    view! {
        <Show when=move || superuser.get()>
            <nav class="section-nav" aria-label="Administration pages">
                <A href="/admin" exact=true>"Administration"</A>
                <A href="/admin/tokens">"API tokens"</A>
                <A href="/admin/service-accounts">"Service accounts"</A>
            </nav>
        </Show>
    }
}
