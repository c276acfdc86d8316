//! Recordings (`/recordings`): every terminal's recording the caller may see (a member's own,
//! everyone's for staff), newest first, filtered by person, server, work session and dates, and
//! searched by what was typed or shown. The filters live in the URL, so a search can be shared
//! and Back returns to it; each row opens the player.

use crate::api;
use crate::auth::use_auth;
use crate::components::ErrorBox;
use crate::time::{format_at, format_duration, parse_local_input};
use chrono::SecondsFormat;
use gatehouse_shared::api::Page;
use gatehouse_shared::audit::short_id;
use gatehouse_shared::recording::Recording;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;
use leptos_router::NavigateOptions;

/// The text filters in the URL (also the API's names); `user` is offered to staff only.
const FILTERS: [(&str, &str, &str); 4] = [
    ("q", "Search", "a command or text shown"),
    ("user", "User", "username"),
    ("server", "Server", "web-01"),
    ("work_session", "Work session id", ""),
];
/// Date filters: whole days in the browser's time.
const DATES: [(&str, &str); 2] = [("from", "From"), ("to", "To")];

/// A `YYYY-MM-DD` day as RFC 3339: its start, or for `to` the start of the next day.
fn day_bound(day: &str, end: bool) -> String {
    parse_local_input(&format!("{day}T00:00"))
        .map(|at| {
            if end {
                at + chrono::Duration::days(1)
            } else {
                at
            }
        })
        .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The API filter for the URL's filters (the text ones under the same names).
fn api_filter(q: &ParamsMap) -> api::RecordingFilter {
    let text = |key: &str| q.get(key).filter(|v| !v.is_empty());
    let day = |key: &str| Some(day_bound(&text(key)?, key == "to")).filter(|d| !d.is_empty());
    api::RecordingFilter {
        q: text("q"),
        user: text("user"),
        server: text("server"),
        work_session: text("work_session"),
        from: day("from"),
        to: day("to"),
        limit: Some(100),
        cursor: text("cursor"),
    }
}

#[component]
pub fn RecordingsPage() -> impl IntoView {
    let query = use_query_map();
    let page = LocalResource::new(move || {
        let filter = query.with(api_filter);
        async move { api::recordings(&filter).await }
    });
    view! {
        <section class="page page-recordings" data-testid="recordings">
            <h1>"Recordings"</h1>
            <Filters />
            {move || match page.get() {
                None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorBox error=Signal::derive(move || Some(e.clone())) /> }.into_any(),
                Some(Ok(page)) if page.items.is_empty() => view! {
                    <p class="empty" data-testid="recordings-empty">"No recording matches."</p>
                }
                    .into_any(),
                Some(Ok(page)) => view! { <Results page=page /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Filters() -> impl IntoView {
    let auth = use_auth();
    let query = use_query_map();
    let navigate = use_navigate();
    let keys = FILTERS.iter().map(|f| f.0).chain(DATES.iter().map(|d| d.0));
    let signals: Vec<(&'static str, RwSignal<String>)> = keys
        .map(|key| (key, RwSignal::new(String::new())))
        .collect();
    // The URL is the source of truth: a shared link or Back refills the form.
    Effect::new({
        let signals = signals.clone();
        move || {
            let q = query.get();
            for (key, signal) in &signals {
                signal.set(q.get(key).unwrap_or_default());
            }
        }
    });
    let submit = {
        let (signals, navigate) = (signals.clone(), navigate.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let pairs: Vec<(&str, String)> = signals
                .iter()
                .map(|(key, s)| (*key, s.get_untracked().trim().to_owned()))
                .collect();
            navigate(
                &format!("/recordings{}", api::query(&pairs)),
                NavigateOptions::default(),
            );
        }
    };
    let clear = move |_| navigate("/recordings", NavigateOptions::default());
    let inputs = signals
        .into_iter()
        .map(|(key, signal)| {
            let (label, placeholder) = FILTERS
                .iter()
                .find(|f| f.0 == key)
                .map(|f| (f.1, f.2))
                .or_else(|| DATES.iter().find(|d| d.0 == key).map(|d| (d.1, "")))
                .unwrap_or_default();
            let kind = if DATES.iter().any(|d| d.0 == key) {
                "date"
            } else {
                "search"
            };
            // Members see only their own: a person filter would say nothing to them.
            if key == "user" && !auth.is_staff() {
                return None;
            }
            Some(view! {
                <label>
                    {label}
                    <input name=key type=kind placeholder=placeholder autocomplete="off"
                        data-testid=format!("recordings-{key}") bind:value=signal />
                </label>
            })
        })
        .collect_view();
    view! {
        <form class="admin-form recordings-filters" role="search" aria-label="Find recordings"
            on:submit=submit>
            <div class="form-row">{inputs}</div>
            <div class="form-actions">
                <button type="submit" class="primary" data-testid="recordings-apply">"Search"</button>
                <button type="button" on:click=clear>"Clear"</button>
            </div>
        </form>
    }
}

/// How a recording ended, in words.
fn ending(r: &Recording) -> String {
    match (&r.end_reason, r.exit_code, r.ended_at) {
        (_, _, None) => "live".to_owned(),
        (Some(reason), _, _) => reason.clone(),
        (None, Some(code), _) => format!("exit {code}"),
        (None, None, _) => "ended".to_owned(),
    }
}

fn size_text(bytes: Option<u64>) -> String {
    match bytes {
        None => "—".to_owned(),
        Some(b) if b < 1024 => format!("{b} B"),
        Some(b) if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        Some(b) => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

#[component]
fn Results(page: Page<Recording>) -> impl IntoView {
    let query = use_query_map();
    let shown = page.items.len();
    let next = page.next_cursor.clone().map(|cursor| {
        let mut pairs: Vec<(&str, String)> = FILTERS
            .iter()
            .map(|f| f.0)
            .chain(DATES.iter().map(|d| d.0))
            .map(|key| {
                (
                    key,
                    query.with_untracked(|q| q.get(key).unwrap_or_default()),
                )
            })
            .collect();
        pairs.push(("cursor", cursor));
        format!("/recordings{}", api::query(&pairs))
    });
    let rows = page
        .items
        .into_iter()
        .map(|r| {
            let href = format!("/recordings/{}", r.id);
            let duration = r
                .duration_secs
                .map(|s| format_duration(s.round() as i64))
                .unwrap_or_else(|| "—".to_owned());
            let ending = ending(&r);
            let id = r.id.to_string();
            view! {
                <tr data-testid="recording-row" data-id=id.clone()>
                    <td><A href=href attr:title=id.clone()>{format_at(&r.started_at)}</A></td>
                    <td>{r.owner.username.clone()}</td>
                    <td>{r.server.clone()}{r.run_as.clone().map(|u| format!(" as {u}"))}</td>
                    <td class="wrap">
                        {match r.work_session.clone() {
                            Some(s) => view! {
                                <A href=format!("/sessions/{}", s.id) attr:title=s.id.to_string()>{s.purpose}</A>
                            }.into_any(),
                            None => view! { <span class="muted">"API token"</span> }.into_any(),
                        }}
                    </td>
                    <td class="nowrap">{duration}</td>
                    <td>{ending}</td>
                    <td class="num">{size_text(r.size_bytes)}</td>
                    <td class="mono">{short_id(&id).to_owned()}</td>
                </tr>
                {r.snippet.clone().map(|s| view! {
                    <tr class="snippet-row"><td colspan="8" class="mono wrap" data-testid="recording-snippet">{s}</td></tr>
                })}
            }
        })
        .collect_view();
    view! {
        <p class="hint" role="status">{format!("{shown} of {} recordings shown", page.total)}</p>
        <div class="table-wrap">
            <table class="list recordings-table">
                <caption class="visually-hidden">"Recordings"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Started"</th>
                        <th scope="col">"Who"</th>
                        <th scope="col">"Server"</th>
                        <th scope="col">"Work session"</th>
                        <th scope="col">"Duration"</th>
                        <th scope="col">"End"</th>
                        <th scope="col">"Size"</th>
                        <th scope="col">"Id"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {next.map(|href| view! { <p><A href=href>"Older recordings"</A></p> })}
    }
}
