//! A new token's secret, shown once with a copy button.

use crate::pages::admin::form::CopyButton;
use gatehouse_shared::token::CreatedApiToken;
use leptos::prelude::*;

#[component]
pub fn NewToken(
    token: CreatedApiToken,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <div class="secret-box" role="status">
            <p>
                <strong>{format!("Token {} created. ", token.name)}</strong>
                "Copy it now: it is not shown again."
            </p>
            <p class="secret-line">
                <code data-testid="new-token">{token.token.clone()}</code>
                <CopyButton text=token.token what="token" />
            </p>
            <button type="button" on:click=move |_| on_done()>"Done"</button>
        </div>
    }
}
