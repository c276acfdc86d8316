//! The audit log (staff and above): the chain's verification, filters kept in the URL so a view
//! can be shared (free text, the short id the console shows, person, action, server, session,
//! time), and the events newest first, page by page, each as a sentence.

use crate::api::{self, ApiError, ApiResult};
use crate::auth::use_auth;
use crate::components::ErrorBox;
use crate::pages::admin::form::focus_when_rendered;
use chrono::{DateTime, SecondsFormat, Utc};
use gatehouse_shared::api::Page;
use gatehouse_shared::audit::{sentence, AuditEvent, AuditVerification};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;
use leptos_router::NavigateOptions;

/// The filters, in the order of the form; each is both a URL and an API query parameter.
const TEXT_FILTERS: [(&str, &str, &str); 6] = [
    ("q", "Search", "text in the event"),
    ("id", "Id", "3f2a9c1e"),
    ("user", "User", "username"),
    ("action", "Action", "work_session.*"),
    ("server", "Server", "web-01"),
    ("work_session", "Work session id", ""),
];
const TIME_FILTERS: [(&str, &str); 2] = [("from", "From (your time)"), ("to", "To (your time)")];

/// Events fetched per page.
const PAGE_SIZE: u32 = 100;

#[component]
pub fn AuditPage() -> impl IntoView {
    let auth = use_auth();
    let staff = Memo::new(move |_| auth.is_staff());
    move || {
        if staff.get() {
            view! { <AuditLog /> }.into_any()
        } else {
            view! {
                <section class="page-audit">
                    <h1>"Audit log"</h1>
                    <p class="empty" data-testid="staff-only">"The audit log is for staff only."</p>
                </section>
            }
            .into_any()
        }
    }
}

#[component]
fn AuditLog() -> impl IntoView {
    // Bumped by every filter submit, so applying unchanged filters still reloads the events.
    let reload = RwSignal::new(0_u64);
    view! {
        <div class="page-audit">
            <h1>"Audit log"</h1>
            <Verification />
            <Filters reload=reload />
            <Events reload=reload />
        </div>
    }
}

/// The hash chain's state, checked on arrival and on demand.
#[component]
fn Verification() -> impl IntoView {
    let result = RwSignal::new(None::<ApiResult<AuditVerification>>);
    let checking = RwSignal::new(false);
    let check = move || {
        if checking.get_untracked() {
            return;
        }
        checking.set(true);
        spawn_local(async move {
            result.set(Some(api::audit_verify().await));
            checking.set(false);
        });
    };
    check();
    let status = move || verification_text(result.get());
    let state_class = move || match result.get() {
        Some(Ok(v)) if v.ok => "verify ok",
        Some(Ok(_)) => "verify bad",
        _ => "verify",
    };
    view! {
        <div class="verify-bar">
            <div class=state_class data-testid="audit-verify" role="status">{status}</div>
            <button type="button" data-testid="audit-reverify" aria-disabled=move || checking.get().to_string()
                on:click=move |_| check()>
                {move || if checking.get() { "Checking…" } else { "Check again" }}
            </button>
        </div>
    }
}

/// What the verification says: intact, where tampering starts, or why it could not be checked.
fn verification_text(result: Option<ApiResult<AuditVerification>>) -> AnyView {
    match result {
        None => "Checking the chain…".into_any(),
        Some(Ok(v)) if v.ok => {
            format!("Chain intact: {} events checked", v.events_checked).into_any()
        }
        Some(Ok(v)) => {
            let at = v
                .first_bad_seq
                .map_or_else(|| "an unknown row".to_owned(), |seq| seq.to_string());
            format!("Tampering detected at seq {at}").into_any()
        }
        Some(Err(e)) => view! { <ErrorBox error=Signal::stored(Some(e)) /> }.into_any(),
    }
}

/// An RFC 3339 time from the URL as the value of a `datetime-local` input, in browser local time.
fn to_local_input(rfc3339: &str) -> String {
    let Ok(at) = DateTime::parse_from_rfc3339(rfc3339) else {
        return String::new();
    };
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        at.timestamp_millis() as f64
    ));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes()
    )
}

/// A `datetime-local` value as RFC 3339 UTC for the URL and the API; empty when unset or invalid.
fn from_local_input(value: &str) -> String {
    crate::time::parse_local_input(value)
        .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The filter form. Submitting it changes only the URL; the event list follows the URL.
#[component]
fn Filters(reload: RwSignal<u64>) -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let text: Vec<(&'static str, RwSignal<String>)> = TEXT_FILTERS
        .iter()
        .map(|(key, _, _)| (*key, RwSignal::new(String::new())))
        .collect();
    let times: Vec<(&'static str, RwSignal<String>)> = TIME_FILTERS
        .iter()
        .map(|(key, _)| (*key, RwSignal::new(String::new())))
        .collect();

    // The URL is the source of truth: opening a shared link or going back refills the form.
    Effect::new({
        let (text, times) = (text.clone(), times.clone());
        move || {
            let q = query.get();
            for (key, signal) in &text {
                signal.set(q.get(key).unwrap_or_default());
            }
            for (key, signal) in &times {
                signal.set(q.get(key).map(|v| to_local_input(&v)).unwrap_or_default());
            }
        }
    });

    let submit = {
        let (text, times, navigate) = (text.clone(), times.clone(), navigate.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let mut pairs: Vec<(&str, String)> = text
                .iter()
                .map(|(key, s)| (*key, s.get_untracked().trim().to_owned()))
                .collect();
            pairs.extend(
                times
                    .iter()
                    .map(|(key, s)| (*key, from_local_input(&s.get_untracked()))),
            );
            let wanted = api::query(&pairs);
            if wanted == api::query(&query.with_untracked(api_pairs)) {
                // Same filters: the URL would not change, so ask for a fresh load directly.
                reload.update(|n| *n += 1);
            } else {
                navigate(&format!("/audit{wanted}"), NavigateOptions::default());
            }
        }
    };
    let clear = move |_| navigate("/audit", NavigateOptions::default());

    let text_inputs = TEXT_FILTERS
        .iter()
        .zip(text)
        .map(|((key, label, placeholder), (_, signal))| {
            view! {
                <label>
                    {*label}
                    <input name=*key placeholder=*placeholder autocomplete="off" bind:value=signal />
                </label>
            }
        })
        .collect_view();
    let time_inputs = TIME_FILTERS
        .iter()
        .zip(times)
        .map(|((key, label), (_, signal))| {
            view! {
                <label>
                    <span>{*label} " " <small class="hint">{crate::time::your_time()}</small></span>
                    <input name=*key type="datetime-local" bind:value=signal />
                </label>
            }
        })
        .collect_view();

    view! {
        <form class="admin-form audit-filters" data-testid="audit-filters" role="search"
            aria-label="Filter audit events" on:submit=submit>
            <div class="form-row">{text_inputs} {time_inputs}</div>
            <div class="form-actions">
                <button type="submit" class="primary">"Apply filters"</button>
                <button type="button" on:click=clear>"Clear"</button>
            </div>
        </form>
    }
}

/// The API query for the filters in the URL (unknown URL parameters are not passed on).
fn api_pairs(q: &ParamsMap) -> Vec<(&'static str, String)> {
    TEXT_FILTERS
        .iter()
        .map(|(key, _, _)| *key)
        .chain(TIME_FILTERS.iter().map(|(key, _)| *key))
        .map(|key| (key, q.get(key).unwrap_or_default()))
        .collect()
}

/// The API filter for the filters in the URL (the same names as [`api_pairs`]).
fn api_filter(q: &ParamsMap) -> api::AuditFilter {
    let text = |key: &str| q.get(key).filter(|v| !v.is_empty());
    api::AuditFilter {
        q: text("q"),
        id: text("id"),
        user: text("user"),
        action: text("action"),
        server: text("server"),
        work_session: text("work_session"),
        from: text("from"),
        to: text("to"),
        ..api::AuditFilter::default()
    }
}

/// The events matching the URL's filters, with "Load more" while the server has more.
#[component]
fn Events(reload: RwSignal<u64>) -> impl IntoView {
    let query = use_query_map();
    let events = RwSignal::new(Vec::<AuditEvent>::new());
    let total = RwSignal::new(0_i64);
    let next = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<ApiError>);
    let loading = RwSignal::new(false);
    // Bumped when the filters change, so a late answer for old filters is dropped.
    let generation = RwSignal::new(0_u64);

    let fetch = move |cursor: Option<String>| {
        let append = cursor.is_some();
        let filter = api::AuditFilter {
            limit: Some(PAGE_SIZE),
            // Newest first: what just happened is what one looks for.
            order: Some("newest".to_owned()),
            cursor,
            ..query.with_untracked(api_filter)
        };
        let current = generation.get_untracked();
        loading.set(true);
        spawn_local(async move {
            let result: ApiResult<Page<AuditEvent>> = api::audit(&filter).await;
            if generation.get_untracked() != current {
                return;
            }
            match result {
                Ok(page) => {
                    let first_new = page.items.first().map(|e| e.seq);
                    events.update(|list| {
                        if !append {
                            list.clear();
                        }
                        list.extend(page.items);
                    });
                    total.set(page.total);
                    next.set(page.next_cursor);
                    error.set(None);
                    // "Load more" may vanish with the last page; keep the keyboard in the table.
                    if let (true, Some(seq)) = (append, first_new) {
                        focus_when_rendered(format!("tr[data-seq=\"{seq}\"]"));
                    }
                }
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        });
    };

    Effect::new(move || {
        query.track();
        reload.track();
        generation.update(|g| *g += 1);
        next.set(None);
        fetch(None);
    });

    let export_href = move || {
        let mut pairs = query.with(api_pairs);
        pairs.push(("format", "jsonl".to_owned()));
        format!("/api/audit{}", api::query(&pairs))
    };

    view! {
        <ErrorBox error=error />
        // `download` and `rel=external` keep the router from treating the API path as a page.
        <p class="export">
            <a href=export_href download="audit.jsonl" rel="external">
                "Export these events as JSON Lines"
            </a>
        </p>
        <p class="hint" role="status">
            {move || {
                if loading.get() && events.with(Vec::is_empty) {
                    "Loading events…".to_owned()
                } else {
                    format!("{} of {} events shown", events.with(Vec::len), total.get())
                }
            }}
        </p>
        <div class="table-wrap">
            <table class="list audit-table">
                <caption class="visually-hidden">"Audit events"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Seq"</th>
                        <th scope="col">"At"</th>
                        <th scope="col">"What happened"</th>
                        <th scope="col">"Actor"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Target"</th>
                        <th scope="col">"Outcome"</th>
                        <th scope="col">"Server"</th>
                        <th scope="col">"Work session"</th>
                        <th scope="col">"Details"</th>
                    </tr>
                </thead>
                // Keyed by seq, so "Load more" adds rows without rebuilding the ones shown.
                <tbody>
                    <For each=move || events.get() key=|event| event.seq let:event>
                        <EventRow event=event />
                    </For>
                </tbody>
            </table>
        </div>
        <Show when=move || next.with(Option::is_some)>
            <button type="button" class="more" data-testid="audit-more" aria-disabled=move || loading.get().to_string()
                on:click=move |_| {
                    if !loading.get_untracked() {
                        fetch(next.get_untracked());
                    }
                }>
                "Load more"
            </button>
        </Show>
    }
}

/// The details as one line of JSON text; nothing for an empty object.
fn compact_details(details: &serde_json::Value) -> String {
    match details {
        serde_json::Value::Null => String::new(),
        serde_json::Value::Object(map) if map.is_empty() => String::new(),
        other => other.to_string(),
    }
}

/// A CSS class for the outcomes the server writes; anything else gets no colour.
fn outcome_class(outcome: &str) -> &'static str {
    match outcome {
        "success" => "outcome outcome-success",
        "failure" => "outcome outcome-failure",
        "denied" => "outcome outcome-denied",
        _ => "outcome",
    }
}

fn format_seconds(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

#[component]
fn EventRow(event: AuditEvent) -> impl IntoView {
    let session = event.work_session.clone().map(|id| {
        let short: String = id.chars().take(8).collect();
        let href = format!("/sessions/{}", api::encode(&id));
        view! { <A href=href attr:title=id>{short}</A> }
    });
    let details = compact_details(&event.details);
    view! {
        <tr data-testid="audit-row" data-seq=event.seq tabindex="-1">
            <td class="num">{event.seq}</td>
            <td class="nowrap" title=event.at.to_rfc3339()>{format_seconds(&event.at)}</td>
            <td class="wrap" data-testid="audit-sentence">{sentence(&event)}</td>
            <td>{event.actor.unwrap_or_else(|| "—".to_owned())}</td>
            <td class="mono">{event.action}</td>
            <td class="wrap">{event.target.unwrap_or_default()}</td>
            <td><span class=outcome_class(&event.outcome)>{event.outcome.clone()}</span></td>
            <td>{event.server.unwrap_or_default()}</td>
            <td>{session}</td>
            // The sentence says what matters; the raw details stay one click away.
            <td class="details mono">
                {(!details.is_empty()).then(|| view! { <details><summary>"JSON"</summary>{details}</details> })}
            </td>
        </tr>
    }
}
