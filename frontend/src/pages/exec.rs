//! Run one command on several servers of the active work session (scope `command`): each
//! server's status, exit code, duration and output appear as its run ends.
//!
//! As root, the gateway may first want a fresh one-time code (asked for in place, then the run
//! is sent again), and a command outside the session's declared root commands is refused with
//! the offer to ask a superuser for it: the page then shows the request waiting, and the
//! command's output once it was approved and ran (or the refusal, which is final).

use crate::api::{self, ApiError};
use crate::components::{ErrorBox, RunAsField, StepUp, StepUpPrompt};
use crate::time::format_at;
use gatehouse_client::Accepted;
use gatehouse_shared::approval::{Approval, ApprovalStatus};
use gatehouse_shared::exec::{ExecJob, ExecRequest, RunStatus};
use gatehouse_shared::{ErrorCode, Scope, WorkSession};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use uuid::Uuid;

/// How often a running job is read back.
const POLL_MS: u32 = 500;
/// How often a command waiting for approval is read back.
const APPROVAL_POLL_MS: u32 = 1000;
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

/// What the page shows of one run; every field is a cheap handle.
#[derive(Clone, Copy)]
struct Exec {
    job: RwSignal<Option<ExecJob>>,
    error: RwSignal<Option<ApiError>>,
    busy: RwSignal<bool>,
    /// The request refused only because it is outside the declared root commands: what
    /// "Ask for approval" sends again.
    askable: RwSignal<Option<ExecRequest>>,
    /// The single-command approval asked for, as last read.
    approval: RwSignal<Option<Approval>>,
    step_up: StepUp,
    /// A new run stops the polling of the one before.
    generation: StoredValue<u64>,
}

impl Exec {
    fn new() -> Self {
        Self {
            job: RwSignal::new(None),
            error: RwSignal::new(None),
            busy: RwSignal::new(false),
            askable: RwSignal::new(None),
            approval: RwSignal::new(None),
            step_up: StepUp::new(),
            generation: StoredValue::new(0),
        }
    }

    fn current(self, mine: u64) -> bool {
        self.generation.try_get_value() == Some(mine)
    }

    /// Sends `body` (again after a step-up, if the gateway wants a code first).
    fn start(self, body: ExecRequest) {
        if self.busy.get_untracked() || self.step_up.busy() {
            return;
        }
        self.generation.update_value(|g| *g += 1);
        let mine = self.generation.get_value();
        self.job.set(None);
        self.error.set(None);
        self.askable.set(None);
        self.approval.set(None);
        self.step_up.clear();
        self.step_up.run(move || {
            let body = body.clone();
            async move {
                let answer = api::exec::exec_start(&body).await;
                if !self.current(mine) {
                    return None;
                }
                match answer {
                    Ok(Accepted::Pending(pending)) => {
                        self.follow_approval(pending.approval_id, mine);
                        None
                    }
                    Ok(Accepted::Done(job)) => {
                        self.follow_job(job, mine);
                        None
                    }
                    Err(e) if StepUp::takes(&e) => Some(e),
                    Err(e) => {
                        if e.code() == ErrorCode::SudoCommandNotAllowed && !body.request_approval {
                            self.askable.set(Some(body));
                        }
                        self.error.set(Some(e));
                        None
                    }
                }
            }
        });
    }

    /// Shows `job` and reads it back until every run has ended.
    fn follow_job(self, job: ExecJob, mine: u64) {
        self.busy.set(true);
        spawn_local(async move {
            let mut current = job;
            loop {
                let running = current.runs.iter().any(|r| r.status == RunStatus::Running);
                if !self.current(mine) {
                    return;
                }
                self.job.set(Some(current.clone()));
                if !running {
                    break;
                }
                TimeoutFuture::new(POLL_MS).await;
                match api::exec::exec_job(current.id).await {
                    Ok(next) => current = next,
                    Err(e) => {
                        if self.current(mine) {
                            self.error.set(Some(e));
                        }
                        break;
                    }
                }
            }
            if self.current(mine) {
                self.busy.set(false);
            }
        });
    }

    /// Reads the approval back until it is decided; once approved and run, follows its job.
    fn follow_approval(self, id: Uuid, mine: u64) {
        self.busy.set(true);
        spawn_local(async move {
            loop {
                if !self.current(mine) {
                    return;
                }
                match api::exec::approval(id).await {
                    Ok(approval) => {
                        if !self.current(mine) {
                            return;
                        }
                        let status = approval.status;
                        let job = approval.command.as_ref().and_then(|c| c.exec_job);
                        self.approval.set(Some(approval));
                        match (status, job) {
                            (ApprovalStatus::Pending, _) | (ApprovalStatus::Approved, None) => {}
                            (ApprovalStatus::Approved, Some(job)) => {
                                match api::exec::exec_job(job).await {
                                    Ok(job) => self.follow_job(job, mine),
                                    Err(e) => {
                                        self.error.set(Some(e));
                                        self.busy.set(false);
                                    }
                                }
                                return;
                            }
                            // Rejected, expired, lapsed or withdrawn: final.
                            _ => {
                                self.busy.set(false);
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        if self.current(mine) {
                            self.error.set(Some(e));
                            self.busy.set(false);
                        }
                        return;
                    }
                }
                TimeoutFuture::new(APPROVAL_POLL_MS).await;
            }
        });
    }
}

#[component]
fn ExecForm(session: WorkSession) -> impl IntoView {
    let servers: Vec<String> = session.servers.iter().map(|s| s.name.clone()).collect();
    let chosen = RwSignal::new(servers.clone());
    let command = RwSignal::new(String::new());
    let user = RwSignal::new(String::new());
    let exec = Exec::new();
    let first_chosen =
        Signal::derive(move || chosen.with(|c| c.first().cloned().unwrap_or_default()));
    let working = move || exec.busy.get() || exec.step_up.busy();

    let run = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        exec.start(ExecRequest {
            servers: chosen.get_untracked(),
            command: command.get_untracked(),
            argv: None,
            request_approval: false,
            user: Some(user.get_untracked().trim().to_owned()).filter(|u| !u.is_empty()),
            env: None,
            timeout_secs: None,
            stdin: false,
            tty: false,
            cols: None,
            rows: None,
            stream: false,
        });
    };
    let ask_approval = move |_| {
        if let Some(body) = exec.askable.get_untracked() {
            exec.start(ExecRequest {
                request_approval: true,
                ..body
            });
        }
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
                disabled=move || working() || chosen.with(Vec::is_empty)>
                {move || if working() { "Running…" } else { "Run" }}
            </button>
        </form>
        <StepUpPrompt step_up=exec.step_up />
        <ErrorBox error=exec.error />
        <Show when=move || exec.askable.with(Option::is_some)>
            <div class="ask-approval" data-testid="ask-approval">
                <p>
                    "This command is not among the root commands your work session declared. "
                    "A superuser can approve it to run once, exactly as written."
                </p>
                <button type="button" class="primary" data-action="request-approval"
                    disabled=working on:click=ask_approval>
                    "Ask for approval"
                </button>
            </div>
        </Show>
        {move || exec.approval.get().map(|a| view! { <CommandApproval approval=a /> })}
        {move || exec.job.get().map(|job| view! { <Runs job=job /> })}
    }
}

/// Where a single-command approval stands, in words.
#[component]
fn CommandApproval(approval: Approval) -> impl IntoView {
    let by = approval
        .decided_by
        .as_ref()
        .map(|u| u.username.clone())
        .unwrap_or_else(|| "an approver".into());
    let reason = approval.reason.clone().filter(|r| !r.trim().is_empty());
    let lapses = approval
        .command
        .as_ref()
        .map(|c| format_at(&c.expires_at))
        .unwrap_or_default();
    let (class, text) = match approval.status {
        ApprovalStatus::Pending => (
            "notice",
            format!(
                "Waiting for an approver: a superuser must approve this command before it \
                 runs. The request lapses {lapses}."
            ),
        ),
        ApprovalStatus::Approved => ("notice", format!("Approved by {by}: it runs now.")),
        ApprovalStatus::Rejected => (
            "error",
            format!("Rejected by {by}. The command will not run."),
        ),
        ApprovalStatus::Expired => (
            "error",
            "Nobody decided in time: the request expired and the command will not run.".to_owned(),
        ),
        ApprovalStatus::Lapsed => (
            "error",
            "The work session ended before anyone decided: the command will not run.".to_owned(),
        ),
        ApprovalStatus::Cancelled => (
            "error",
            "The request was withdrawn: the command will not run.".to_owned(),
        ),
    };
    let role = if class == "error" { "alert" } else { "status" };
    view! {
        <div class=format!("command-approval {class}") role=role data-testid="command-approval"
            data-status=approval.status.as_str() data-id=approval.id.to_string()>
            <p>{text}</p>
            {reason.map(|r| view! { <p class="reason">{format!("Reason: {r}")}</p> })}
        </div>
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
