//! The actions offered for one session: only those the lifecycle rules allow this user now.
//!
//! The console asks the same pure function the server uses (`lifecycle::apply`), so a button is
//! shown exactly when the server would accept it at this moment; the server still decides.

use crate::api::{self, ApiError, Extended, SessionDecision, SessionStep};
use crate::auth::use_auth;
use crate::components::decision::DecisionForm;
use crate::components::{ErrorBox, RunAsField};
use crate::time::now;
use gatehouse_shared::lifecycle::{apply, Action, Actor, ExtendBy, Policy};
use gatehouse_shared::work_session::ExtendWorkSession;
use gatehouse_shared::{Scope, Status, WorkSession, WorkSessionId};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

/// The extension offered by the extend button.
const EXTEND_OPTIONS: [(i64, &str); 4] = [
    (900, "15 minutes"),
    (1800, "30 minutes"),
    (3600, "1 hour"),
    (4 * 3600, "4 hours"),
];

fn allowed(session: &WorkSession, actor: &Actor, action: Action) -> bool {
    apply(session, actor, &action, now(), &Policy::default()).is_ok()
}

/// Runs one lifecycle call and reports its outcome.
fn run(
    call: impl std::future::Future<Output = api::ApiResult<WorkSession>> + 'static,
    error: RwSignal<Option<ApiError>>,
    on_change: Callback<WorkSession>,
) {
    spawn_local(async move {
        match call.await {
            Ok(session) => {
                error.set(None);
                on_change.run(session);
            }
            Err(e) => error.set(Some(e)),
        }
    });
}

/// A per-server page (`/websh`, `/files`) inside this session, with the run-as user when one is set.
fn server_page_href(
    page: &'static str,
    server: String,
    id: WorkSessionId,
    run_as: RwSignal<String>,
) -> impl Fn() -> String + Send + Sync + 'static {
    move || {
        let user = run_as.with(|u| {
            let u = u.trim();
            if u.is_empty() {
                String::new()
            } else {
                format!("&user={}", api::encode(u))
            }
        });
        format!("{page}?server={}&session={id}{user}", api::encode(&server))
    }
}

#[component]
pub fn Actions(session: WorkSession, on_change: Callback<WorkSession>) -> impl IntoView {
    let auth = use_auth();
    let Some(actor) = auth.actor() else {
        return ().into_any();
    };
    let id = session.id;
    let error = RwSignal::new(None::<ApiError>);
    let can = |action: Action| allowed(&session, &actor, action);
    let can_decide = can(Action::Approve {
        scopes: None,
        servers: None,
        sudo_commands: None,
        tunnel_ports: None,
        reason: None,
    });
    let can_revoke = can(Action::Revoke { reason: None });
    let can_cancel = can(Action::Cancel);
    let can_activate = can(Action::Activate);
    let can_complete = can(Action::Complete);
    let can_extend = can(Action::Extend(ExtendBy::Seconds(EXTEND_OPTIONS[0].0)));
    let is_assignee = auth.me.with_untracked(|me| {
        me.as_ref()
            .is_some_and(|m| m.user.id == session.assignee.id)
    });
    let is_current = auth.me.with_untracked(|me| {
        me.as_ref()
            .and_then(|m| m.active_work_session.as_ref())
            .is_some_and(|s| s.id == id)
    });
    let can_use = is_assignee && session.status == Status::Active && !is_current;
    let websh_servers: Vec<String> =
        if is_assignee && session.status == Status::Active && session.has_scope(Scope::Websh) {
            session.servers.iter().map(|s| s.name.clone()).collect()
        } else {
            Vec::new()
        };
    let files_servers: Vec<String> =
        if is_assignee && session.status == Status::Active && session.has_scope(Scope::Webftp) {
            session.servers.iter().map(|s| s.name.clone()).collect()
        } else {
            Vec::new()
        };
    let has_websh = !websh_servers.is_empty();
    // The run-as field names the account on the session's first server; the server decides
    // again for each.
    let first_server = session
        .servers
        .first()
        .map(|s| s.name.clone())
        .unwrap_or_default();

    let revoking = RwSignal::new(false);
    let completing = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let extend_by = RwSignal::new(EXTEND_OPTIONS[2].0.to_string());
    let run_as = RwSignal::new(String::new());
    let simple = move |step: SessionStep| run(api::step(id, step), error, on_change);
    let use_it = move |_| {
        spawn_local(async move {
            match api::step(id, SessionStep::Use).await {
                Ok(session) => {
                    auth.refresh().await;
                    on_change.run(session);
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let revoke = move |_| {
        let why = Some(reason.get_untracked().trim().to_owned()).filter(|r| !r.is_empty());
        let revoked = api::decide_with_reason(id, SessionDecision::Revoke, why);
        run(revoked, error, on_change);
    };
    let unchanged = StoredValue::new(session.clone());
    let extend = move |_| {
        let secs = extend_by.get_untracked().parse().ok();
        let body = ExtendWorkSession {
            duration_secs: secs,
            expires_at: None,
        };
        spawn_local(async move {
            match api::extend(id, &body).await {
                Ok(Extended::Now(session)) => on_change.run(*session),
                // Unchanged until an approver decides; the reload shows the waiting request.
                Ok(Extended::Pending) => on_change.run(unchanged.get_value()),
                Err(e) => error.set(Some(e)),
            }
        });
    };

    view! {
        <div class="actions" data-testid="actions">
            {can_decide.then(|| view! { <DecisionForm session=session.clone() on_done=on_change /> })}
            <div class="buttons">
                {can_activate.then(|| view! {
                    <button class="primary" data-action="activate" on:click=move |_| simple(SessionStep::Activate)>"Activate"</button>
                })}
                {can_use.then(|| view! {
                    <button data-action="use" on:click=use_it>"Use for this console"</button>
                })}
                {can_complete.then(|| view! {
                    <Show
                        when=move || completing.get()
                        fallback=move || view! {
                            <button data-action="complete" on:click=move |_| completing.set(true)>"Complete"</button>
                        }
                    >
                        <span class="inline" role="alert">
                            "Complete it now? Its terminals, commands and transfers end. "
                            <button class="danger" data-action="confirm-complete"
                                on:click=move |_| simple(SessionStep::Complete)>"Complete now"</button>
                            <button on:click=move |_| completing.set(false)>"Keep working"</button>
                        </span>
                    </Show>
                })}
                {can_cancel.then(|| view! {
                    <button data-action="cancel" on:click=move |_| simple(SessionStep::Cancel)>"Cancel request"</button>
                })}
                {can_extend.then(|| view! {
                    <span class="inline">
                        <label>
                            "Extend by "
                            <select name="extend_by" bind:value=extend_by>
                                {EXTEND_OPTIONS
                                    .iter()
                                    .map(|(secs, label)| view! { <option value=secs.to_string()>{*label}</option> })
                                    .collect_view()}
                            </select>
                        </label>
                        <button data-action="extend" on:click=extend>"Extend"</button>
                    </span>
                })}
                {can_revoke.then(|| view! {
                    <Show
                        when=move || revoking.get()
                        fallback=move || view! {
                            <button class="danger" data-action="revoke" on:click=move |_| revoking.set(true)>"Revoke"</button>
                        }
                    >
                        <span class="inline">
                            <label>"Reason " <input name="reason" maxlength="1000" bind:value=reason /></label>
                            <button class="danger" data-action="confirm-revoke" on:click=revoke>"Confirm revoke"</button>
                            <button on:click=move |_| revoking.set(false)>"Keep"</button>
                        </span>
                    </Show>
                })}
            </div>
            {(!websh_servers.is_empty()).then(|| view! {
                <div class="websh-open">
                    <RunAsField server=Signal::stored(first_server.clone()) user=run_as />
                    {websh_servers
                        .into_iter()
                        .map(|server| {
                            let name = server.clone();
                            let href = server_page_href("/websh", server, id, run_as);
                            view! {
                                <A href=href attr:class="button" attr:data-testid="open-websh" attr:data-server=name.clone()>
                                    {format!("Open terminal on {name}")}
                                </A>
                            }
                        })
                        .collect_view()}
                </div>
            })}
            {(!files_servers.is_empty()).then(|| view! {
                <div class="files-open">
                    // One run-as field serves both kinds of link; show it here only without terminals.
                    {(!has_websh).then(|| view! { <RunAsField server=Signal::stored(first_server.clone()) user=run_as /> })}
                    {files_servers
                        .into_iter()
                        .map(|server| {
                            let name = server.clone();
                            let href = server_page_href("/files", server, id, run_as);
                            view! {
                                <A href=href attr:class="button" attr:data-testid="open-files" attr:data-server=name.clone()>
                                    {format!("Files on {name}")}
                                </A>
                            }
                        })
                        .collect_view()}
                </div>
            })}
            <ErrorBox error=error />
        </div>
    }
    .into_any()
}
