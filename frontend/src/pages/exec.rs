//! Run one command on several servers of the active work session (scope `command`): each
//! server's status, exit code, duration and output appear as its run ends.

use crate::api::{self, ApiError};
use crate::components::{ErrorBox, RunAsField};
use gatehouse_shared::exec::{ExecJob, ExecRequest, RunStatus};
use gatehouse_shared::{Scope, WorkSession};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

/// How often a running job is read back.
const POLL_MS: u32 = 500;

#[component]
pub fn ExecPage() -> impl IntoView {
    let session = LocalResource::new(|| async {
        api::whoami()
            .await
            .ok()
            .and_then(|me| me.active_work_session)
            .filter(|s| s.has_scope(Scope::Command))
    });
    view! {
        <section class="exec-page">
            <h1>"Run a command"</h1>
            {move || match session.get() {
                None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Some(None) => view! {
                    <p class="empty" data-testid="exec-needs-session">
                        "Running commands needs an active work session with the command scope. "
                        <A href="/sessions/new">"Request one"</A>
                    </p>
                }
                .into_any(),
                Some(Some(session)) => view! { <ExecForm session=session /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ExecForm(session: WorkSession) -> impl IntoView {
    let servers: Vec<String> = session.servers.iter().map(|s| s.name.clone()).collect();
    let chosen = RwSignal::new(servers.clone());
    let command = RwSignal::new(String::new());
    let user = RwSignal::new(String::new());
    let job = RwSignal::new(None::<ExecJob>);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    // A new run stops the polling of the one before.
    let generation = StoredValue::new(0u64);
    let first_chosen =
        Signal::derive(move || chosen.with(|c| c.first().cloned().unwrap_or_default()));

    let run = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let body = ExecRequest {
            servers: chosen.get_untracked(),
            command: command.get_untracked(),
            argv: None,
            request_approval: false,
            user: Some(user.get_untracked().trim().to_owned()).filter(|u| !u.is_empty()),
            env: None,
            timeout_secs: None,
        };
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        busy.set(true);
        job.set(None);
        spawn_local(async move {
            let started: api::ApiResult<ExecJob> = api::post("/api/exec", &body).await;
            let mut current = match started {
                Ok(started) => started,
                Err(e) => {
                    error.set(Some(e));
                    busy.set(false);
                    return;
                }
            };
            error.set(None);
            loop {
                let running = current.runs.iter().any(|r| r.status == RunStatus::Running);
                job.set(Some(current.clone()));
                if !running || generation.get_value() != mine {
                    break;
                }
                TimeoutFuture::new(POLL_MS).await;
                match api::get::<ExecJob>(&format!("/api/exec/{}", current.id)).await {
                    Ok(next) => current = next,
                    Err(e) => {
                        error.set(Some(e));
                        break;
                    }
                }
            }
            if generation.get_value() == mine {
                busy.set(false);
            }
        });
    };

    let toggle = move |name: String| {
        chosen.update(|list| {
            if let Some(i) = list.iter().position(|n| *n == name) {
                list.remove(i);
            } else {
                list.push(name);
            }
        })
    };
    view! {
        <form class="exec-form" data-testid="exec-form" on:submit=run>
            <fieldset>
                <legend>"Servers of this work session"</legend>
                {servers
                    .into_iter()
                    .map(|name| {
                        let for_check = name.clone();
                        let for_toggle = name.clone();
                        view! {
                            <label class="check">
                                <input type="checkbox" name="server" value=name.clone()
                                    prop:checked=move || chosen.with(|c| c.contains(&for_check))
                                    on:change=move |_| toggle(for_toggle.clone()) />
                                {name}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <label>
                "Command "
                <input name="command" required autocomplete="off" spellcheck="false" size="50"
                    bind:value=command />
            </label>
            <RunAsField server=first_chosen user=user />
            <button type="submit" class="primary" data-action="run"
                disabled=move || busy.get() || chosen.with(Vec::is_empty)>
                {move || if busy.get() { "Running…" } else { "Run" }}
            </button>
        </form>
        <ErrorBox error=error />
        {move || job.get().map(|job| view! { <Runs job=job /> })}
    }
}

/// Each server's run: status, exit code, duration, and its output.
#[component]
fn Runs(job: ExecJob) -> impl IntoView {
    view! {
        <div class="exec-runs" data-testid="exec-runs" data-job=job.id.to_string()>
            {job
                .runs
                .into_iter()
                .map(|run| {
                    let exit = run.exit_code.map(|c| format!("exit {c}")).unwrap_or_default();
                    let took = run
                        .duration_ms
                        .map(|ms| format!("{:.1} s", ms as f64 / 1000.0))
                        .unwrap_or_default();
                    view! {
                        <article class="exec-run" data-testid="exec-run" data-server=run.server.clone()
                            data-status=run.status.as_str()>
                            <header>
                                <strong>{run.server.clone()}</strong>
                                " "
                                <span class=format!("badge run-{}", run.status.as_str())>{run.status.as_str()}</span>
                                " " {exit} " " {took}
                            </header>
                            {run.error.map(|e| view! { <p class="error">{e}</p> })}
                            <pre class="stdout" data-testid="stdout">{run.stdout}</pre>
                            {(!run.stderr.is_empty()).then(|| view! {
                                <pre class="stderr" data-testid="stderr">{run.stderr}</pre>
                            })}
                        </article>
                    }
                })
                .collect_view()}
        </div>
    }
}
