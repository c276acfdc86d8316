//! The filter bar: every change is written to the URL, which drives the list.

use super::filters::Filters;
use crate::api;
use crate::time::{local_input_to_rfc3339, rfc3339_to_local_input};
use gatehouse_shared::{Scope, Status};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

#[component]
pub fn FilterBar(filters: Memo<Filters>) -> impl IntoView {
    let navigate = use_navigate();
    // The text fields are edited locally and applied on Enter or when they lose focus.
    let user = RwSignal::new(String::new());
    let server = RwSignal::new(String::new());
    let q = RwSignal::new(String::new());
    Effect::new(move || {
        let f = filters.get();
        user.set(f.user);
        server.set(f.server);
        q.set(f.q);
    });

    let apply = move |change: &dyn Fn(&mut Filters)| {
        let mut next = filters.get_untracked();
        next.user = user.get_untracked().trim().to_owned();
        next.server = server.get_untracked().trim().to_owned();
        next.q = q.get_untracked().trim().to_owned();
        change(&mut next);
        if next != filters.get_untracked() {
            navigate(
                &format!("/sessions{}", api::query(&next.pairs())),
                NavigateOptions::default(),
            );
        }
    };
    let apply = StoredValue::new(apply);

    let toggle_status = move |status: Status| {
        apply.with_value(|apply| {
            apply(&|f: &mut Filters| {
                let mut ticked = f.effective_statuses();
                if ticked.contains(&status) {
                    ticked.retain(|s| *s != status);
                } else {
                    ticked.push(status);
                }
                // Nothing ticked would be the API default (active); show everything instead.
                f.statuses = if ticked.is_empty() {
                    Status::ALL.to_vec()
                } else {
                    Status::ALL
                        .into_iter()
                        .filter(|s| ticked.contains(s))
                        .collect()
                };
            })
        })
    };

    view! {
        <form
            class="filter-bar"
            data-testid="filter-bar"
            role="search"
            on:submit=move |ev| {
                ev.prevent_default();
                apply.with_value(|apply| apply(&|_| {}));
            }
        >
            <fieldset class="statuses">
                <legend>"Status"</legend>
                {Status::ALL
                    .into_iter()
                    .map(|status| {
                        view! {
                            <label class="check">
                                <input
                                    type="checkbox"
                                    name="status"
                                    value=status.as_str()
                                    prop:checked=move || {
                                        filters.with(|f| f.effective_statuses().contains(&status))
                                    }
                                    on:change=move |_| toggle_status(status)
                                />
                                {status.as_str()}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <label>
                "Requester"
                <input name="user" list="requester-options" placeholder="me, all or a username"
                    bind:value=user
                    on:change=move |_| apply.with_value(|apply| apply(&|_| {})) />
                <datalist id="requester-options">
                    <option value="me"></option>
                    <option value="all"></option>
                </datalist>
            </label>
            <label>
                "Server"
                <input name="server" bind:value=server
                    on:change=move |_| apply.with_value(|apply| apply(&|_| {})) />
            </label>
            <label>
                "Scope"
                <select
                    name="scope"
                    prop:value=move || filters.with(|f| f.scope.map(|s| s.as_str()).unwrap_or_default().to_owned())
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        apply.with_value(|apply| apply(&|f: &mut Filters| f.scope = value.parse().ok()))
                    }
                >
                    <option value="">"any"</option>
                    {Scope::ALL
                        .iter()
                        .map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> })
                        .collect_view()}
                </select>
            </label>
            <label class="grow">
                "Purpose"
                <input name="q" type="search" bind:value=q
                    on:change=move |_| apply.with_value(|apply| apply(&|_| {})) />
            </label>
            <label>
                <span>"From " <small class="hint">{crate::time::your_time()}</small></span>
                <input
                    name="from"
                    type="datetime-local"
                    prop:value=move || filters.with(|f| rfc3339_to_local_input(&f.from))
                    on:change=move |ev| {
                        let value = local_input_to_rfc3339(&event_target_value(&ev));
                        apply.with_value(|apply| apply(&|f: &mut Filters| f.from = value.clone()))
                    }
                />
            </label>
            <label>
                <span>"To " <small class="hint">{crate::time::your_time()}</small></span>
                <input
                    name="to"
                    type="datetime-local"
                    prop:value=move || filters.with(|f| rfc3339_to_local_input(&f.to))
                    on:change=move |ev| {
                        let value = local_input_to_rfc3339(&event_target_value(&ev));
                        apply.with_value(|apply| apply(&|f: &mut Filters| f.to = value.clone()))
                    }
                />
            </label>
            <button type="submit" class="visually-hidden">"Apply filters"</button>
        </form>
    }
}
