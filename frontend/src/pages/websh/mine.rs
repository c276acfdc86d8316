//! "My terminals": the signed-in user's own live terminals that no tab here holds (after a
//! reload, or opened in another browser tab), each with where, since when and who is in it, and
//! a button that re-attaches it as a tab.

use crate::api;
use crate::auth::use_auth;
use crate::live::use_live;
use crate::terminal::tabs::use_terminals;
use crate::time::format_at;
use gatehouse_shared::share::LiveTerminal;
use leptos::prelude::*;

#[component]
pub fn MyTerminals() -> impl IntoView {
    let auth = use_auth();
    let live = use_live();
    let terminals = use_terminals();
    let listed = LocalResource::new(move || {
        live.version.track();
        async move { api::live_terminals().await.map(|page| page.items) }
    });
    let detached = move || -> Vec<LiveTerminal> {
        let me = auth.me.with(|m| m.as_ref().map(|m| m.user.id));
        let open = terminals.own_ids();
        match (listed.get(), me) {
            (Some(Ok(items)), Some(me)) => items
                .into_iter()
                .filter(|t| t.owner.id == me && !open.contains(&t.id))
                .collect(),
            _ => Vec::new(),
        }
    };
    move || {
        let items = detached();
        (!items.is_empty()).then(|| {
            view! {
                <section class="my-terminals" data-testid="my-terminals" aria-label="My terminals">
                    <h2>"My terminals"</h2>
                    <p class="hint">"Still running, in no tab here. Attach one to carry on where it is."</p>
                    <ul class="list">
                        {items.into_iter().map(|t| view! { <MyTerminal terminal=t /> }).collect_view()}
                    </ul>
                </section>
            }
        })
    }
}

#[component]
fn MyTerminal(terminal: LiveTerminal) -> impl IntoView {
    let terminals = use_terminals();
    let place = match &terminal.run_as {
        Some(user) => format!("{user}@{}", terminal.server),
        None => terminal.server.clone(),
    };
    let with = match terminal.participants.len() {
        0 | 1 => String::new(),
        n => format!(" · {} people in it", n),
    };
    let since = format!("since {}{with}", format_at(&terminal.started_at));
    let id = terminal.id.to_string();
    let attach = move |_| terminals.attach(&terminal);
    view! {
        <li data-testid="my-terminal" data-id=id>
            <strong>{place}</strong>
            " "
            <span class="meta">{since}</span>
            " "
            <button type="button" data-action="attach" on:click=attach>"Attach"</button>
        </li>
    }
}
