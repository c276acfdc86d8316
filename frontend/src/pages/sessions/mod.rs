//! The work-session list: the filter bar, the rows, paging, and live refresh.

mod filter_bar;
pub mod filters;
mod table;

use crate::api::{self, ApiError, SessionFilter};
use crate::components::ErrorBox;
use crate::live::use_live;
use filter_bar::FilterBar;
use filters::Filters;
use gatehouse_shared::api::{Page, MAX_LIMIT};
use gatehouse_shared::WorkSession;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use table::SessionTable;

/// Sessions loaded so far and the cursor of the next page.
#[derive(Debug, Clone, Default)]
struct Loaded {
    items: Vec<WorkSession>,
    total: i64,
    next_cursor: Option<String>,
}

/// Loads pages of at most the API's maximum until `want` sessions (or the end) are in.
async fn load(filters: &Filters, want: usize, cursor: Option<String>) -> Result<Loaded, ApiError> {
    let mut loaded = Loaded {
        next_cursor: cursor,
        ..Loaded::default()
    };
    loop {
        let remaining = want.saturating_sub(loaded.items.len());
        let limit = remaining.clamp(1, MAX_LIMIT as usize);
        let filter = SessionFilter {
            limit: Some(limit as u32),
            cursor: loaded.next_cursor.clone(),
            ..filters.api_filter()
        };
        let page: Page<WorkSession> = api::work_sessions(&filter).await?;
        loaded.items.extend(page.items);
        loaded.total = page.total;
        loaded.next_cursor = page.next_cursor;
        if loaded.next_cursor.is_none() || loaded.items.len() >= want {
            return Ok(loaded);
        }
    }
}

#[component]
pub fn SessionsPage() -> impl IntoView {
    let query = use_query_map();
    let live = use_live();
    let filters = Memo::new(move |_| query.with(Filters::from_query));
    // Rows added by "Load more" on top of the first load; cleared whenever the list reloads.
    let more = RwSignal::new(Loaded::default());
    let first = LocalResource::new(move || {
        let filters = filters.get();
        live.version.track();
        async move {
            let result = load(&filters, filters.shown(), None).await;
            more.set(Loaded::default());
            result
        }
    });
    let error = RwSignal::new(None::<ApiError>);
    let load_more = move |_| {
        let Some(Ok(base)) = first.get_untracked() else {
            return;
        };
        let cursor = more
            .with_untracked(|m| m.next_cursor.clone())
            .or(base.next_cursor);
        let filters = filters.get_untracked();
        spawn_local(async move {
            match load(&filters, filters.shown(), cursor).await {
                Ok(page) => more.update(|m| {
                    m.items.extend(page.items);
                    m.next_cursor = page.next_cursor;
                    m.total = page.total;
                }),
                Err(e) => error.set(Some(e)),
            }
        });
    };

    view! {
        <section class="page">
            <div class="page-head">
                <h1>"Work sessions"</h1>
                <A href="/sessions/new" attr:class="button primary" attr:data-testid="new-session">
                    "Request access"
                </A>
            </div>
            <FilterBar filters=filters />
            <ErrorBox error=error />
            {move || match first.get() {
                None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorBox error=Signal::derive(move || Some(e.clone())) /> }.into_any(),
                Some(Ok(base)) => {
                    let extra = more.get();
                    let has_more = if extra.items.is_empty() {
                        base.next_cursor.is_some()
                    } else {
                        extra.next_cursor.is_some()
                    };
                    let shown = base.items.len() + extra.items.len();
                    let total = base.total;
                    let rows: Vec<WorkSession> = base.items.into_iter().chain(extra.items).collect();
                    view! {
                        <p class="count" data-testid="session-count">
                            {format!("{shown} of {total}")}
                        </p>
                        <SessionTable sessions=rows />
                        <Show when=move || has_more>
                            <button class="more" on:click=load_more>"Load more"</button>
                        </Show>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}
