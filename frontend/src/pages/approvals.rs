//! The approver's queue: pending work-session requests, extension requests and single root
//! commands (shown exactly as asked: argv, servers, run-as user, requester), oldest first,
//! decided in one click or one key.
//!
//! Keys: `j`/`k` move between requests, `a` approves the selected one, `r` then Enter rejects it.
//! After a decision the selection (and keyboard focus) moves to the request that took its place,
//! so an approver can work down the queue without the mouse. New requests arrive through the
//! live-update push without a reload.

use crate::api;
use crate::components::decision::DecisionForm;
use crate::components::extension::{asked, typing, ExtensionDecision};
use crate::components::pending::NotifyToggle;
use crate::components::session_bits::time_left_text;
use crate::components::{ErrorBox, ScopeList, ServerList};
use crate::live::use_live;
use crate::time::format_at;
use chrono::{DateTime, Utc};
use gatehouse_shared::approval::Approval;
use gatehouse_shared::{WorkSession, WorkSessionId};
use leptos::prelude::*;
use leptos_router::components::A;
use uuid::Uuid;

/// One entry of the queue.
#[derive(Clone)]
enum Request {
    Session(WorkSession),
    Extension(Approval),
    /// A single root command outside its session's declared ones.
    Command(Approval),
}

impl Request {
    fn id(&self) -> Uuid {
        match self {
            Request::Session(s) => s.id.0,
            Request::Extension(a) | Request::Command(a) => a.id,
        }
    }

    fn at(&self) -> DateTime<Utc> {
        match self {
            Request::Session(s) => s.created_at,
            Request::Extension(a) | Request::Command(a) => a.requested_at,
        }
    }
}

async fn load_queue() -> Result<Vec<Request>, api::ApiError> {
    let sessions = api::work_sessions(&api::sessions_where("pending", "all", 500)).await?;
    let extensions = api::approvals(&api::approvals_where("extension", "", 500)).await?;
    let commands = api::approvals(&api::approvals_where("command", "", 500)).await?;
    let mut items: Vec<Request> = sessions
        .items
        .into_iter()
        .map(Request::Session)
        .chain(extensions.into_iter().map(Request::Extension))
        .chain(commands.into_iter().map(Request::Command))
        .collect();
    items.sort_by_key(Request::at);
    Ok(items)
}

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let live = use_live();
    let reload = RwSignal::new(0u32);
    let queue = LocalResource::new(move || {
        live.version.track();
        reload.track();
        load_queue()
    });
    let selected = RwSignal::new(None::<Uuid>);
    // The queue as last shown, to find where a decided request stood.
    let shown = StoredValue::new(Vec::<Uuid>::new());
    let ids = move || -> Vec<Uuid> {
        match queue.get_untracked() {
            Some(Ok(items)) => items.iter().map(Request::id).collect(),
            _ => Vec::new(),
        }
    };
    let decided = Callback::new(move |_: Uuid| reload.update(|n| *n += 1));

    // j/k move the selection through the queue.
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if typing(&ev) {
            return;
        }
        let step: isize = match ev.key().as_str() {
            "j" => 1,
            "k" => -1,
            _ => return,
        };
        let ids = ids();
        let at = selected
            .get_untracked()
            .and_then(|id| ids.iter().position(|x| *x == id));
        // The first j/k goes to the selected request itself when focus is elsewhere.
        if let Some(id) = selected.get_untracked().filter(|id| !card_focused(*id)) {
            focus_card(id);
            return;
        }
        let next = match at {
            Some(i) => (i as isize + step).clamp(0, ids.len() as isize - 1) as usize,
            None => 0,
        };
        if let Some(id) = ids.get(next) {
            selected.set(Some(*id));
            focus_card(*id);
        }
    });
    on_cleanup(move || handle.remove());

    // Selection follows the queue: a decided request's place goes to the one after it, which
    // also gets the keyboard focus if that went away with the removed card.
    Effect::new(move |_| {
        let Some(Ok(items)) = queue.get() else {
            return;
        };
        let now: Vec<Uuid> = items.iter().map(Request::id).collect();
        let current = selected.get_untracked();
        let gone = current.filter(|id| !now.contains(id));
        if !now.is_empty() && (current.is_none() || gone.is_some()) {
            let at = gone
                .and_then(|id| shown.with_value(|ids| ids.iter().position(|x| *x == id)))
                .unwrap_or(0)
                .min(now.len() - 1);
            let next = now.get(at).copied();
            selected.set(next);
            if let Some(next) = next.filter(|_| gone.is_some()) {
                request_animation_frame(move || {
                    if focus_lost() {
                        focus_card(next);
                    }
                });
            }
        }
        shown.set_value(now);
    });
    // Keyed, so a live update keeps the cards that stay (their focus and any typed reason).
    let items = move || match queue.get() {
        Some(Ok(items)) => items,
        _ => Vec::new(),
    };

    view! {
        <section class="page">
            <div class="page-head">
                <h1>"Approvals"</h1>
                <p class="hint">"j / k: next / previous · a: approve · r, Enter: reject"</p>
                <NotifyToggle />
            </div>
            {move || match queue.get() {
                None => Some(view! { <p class="loading">"Loading…"</p> }.into_any()),
                Some(Err(e)) => Some(view! { <ErrorBox error=Signal::derive(move || Some(e.clone())) /> }.into_any()),
                Some(Ok(items)) if items.is_empty() => Some(
                    view! { <p class="empty" data-testid="no-approvals">"Nothing waits for a decision."</p> }.into_any(),
                ),
                Some(Ok(_)) => None,
            }}
            <For each=items key=Request::id let:request>
                {match request {
                    Request::Session(session) => view! {
                        <ApprovalCard session=session selected=selected on_done=decided />
                    }
                    .into_any(),
                    Request::Extension(approval) => view! {
                        <ExtensionCard approval=approval selected=selected on_done=decided />
                    }
                    .into_any(),
                    Request::Command(approval) => view! {
                        <CommandCard approval=approval selected=selected on_done=decided />
                    }
                    .into_any(),
                }}
            </For>
        </section>
    }
}

/// True when nothing holds the keyboard focus (it went with a removed element).
fn focus_lost() -> bool {
    document()
        .active_element()
        .is_none_or(|el| el.tag_name() == "BODY")
}

fn card_focused(id: Uuid) -> bool {
    document()
        .active_element()
        .is_some_and(|el| el.id() == format!("approval-{id}"))
}

/// Moves keyboard focus to a card so the selection is visible and scrolled into view.
fn focus_card(id: Uuid) {
    let element = document().get_element_by_id(&format!("approval-{id}"));
    if let Some(el) =
        element.and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
    {
        let _ = el.focus();
    }
}

#[component]
fn ApprovalCard(
    session: WorkSession,
    selected: RwSignal<Option<Uuid>>,
    on_done: Callback<Uuid>,
) -> impl IntoView {
    let id = session.id;
    let is_selected = Signal::derive(move || selected.get() == Some(id.0));
    let window = time_left_text(&session);
    let purpose = session.purpose.clone();
    let meta = format!(
        "{} · requested {}",
        session.requested_by.username,
        format_at(&session.created_at)
    );
    let servers = session.servers.clone();
    let scopes = session.scopes.clone();
    view! {
        <CardFrame id=id.0 kind="work_session" session=id purpose=purpose meta=meta selected=selected>
            <p>
                <ServerList servers=servers />
                " · "
                <ScopeList scopes=scopes />
                " · "
                {window}
            </p>
            <DecisionForm session=session on_done=Callback::new(move |_| on_done.run(id.0)) selected=is_selected />
        </CardFrame>
    }
}

#[component]
fn ExtensionCard(
    approval: Approval,
    selected: RwSignal<Option<Uuid>>,
    on_done: Callback<Uuid>,
) -> impl IntoView {
    let id = approval.id;
    let is_selected = Signal::derive(move || selected.get() == Some(id));
    let session = approval.work_session.id;
    let purpose = approval.work_session.purpose.clone();
    let meta = format!(
        "{} · asked {}",
        approval.requested_by.username,
        format_at(&approval.requested_at)
    );
    let current = approval
        .work_session
        .expires_at
        .map(|at| format!("now ends {}", format_at(&at)))
        .unwrap_or_default();
    let what = format!("Extension {} · {current}", asked(&approval));
    view! {
        <CardFrame id=id kind="extension" session=session purpose=purpose meta=meta selected=selected>
            <p data-testid="extension-ask">{what}</p>
            <ExtensionDecision approval=approval on_done=Callback::new(move |_| on_done.run(id)) selected=is_selected />
        </CardFrame>
    }
}

/// A single root command: exactly what would run, where, as whom, and for whom.
#[component]
fn CommandCard(
    approval: Approval,
    selected: RwSignal<Option<Uuid>>,
    on_done: Callback<Uuid>,
) -> impl IntoView {
    let id = approval.id;
    let is_selected = Signal::derive(move || selected.get() == Some(id));
    let session = approval.work_session.id;
    let purpose = approval.work_session.purpose.clone();
    let meta = format!(
        "{} · asked {}",
        approval.requested_by.username,
        format_at(&approval.requested_at)
    );
    let ask = approval.command.clone();
    let argv = ask.as_ref().map(|c| match &c.argv {
        // Each argument apart, so spaces inside one cannot pass for two.
        Some(argv) => argv
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(" "),
        None => c.command.clone(),
    });
    let servers = ask
        .as_ref()
        .map(|c| c.servers.join(", "))
        .unwrap_or_default();
    let user = ask
        .as_ref()
        .and_then(|c| c.user.clone())
        .unwrap_or_else(|| "their own account".into());
    let expires = ask
        .as_ref()
        .map(|c| format!("lapses {}", format_at(&c.expires_at)))
        .unwrap_or_default();
    view! {
        <CardFrame id=id kind="command" session=session purpose=purpose meta=meta selected=selected>
            <p>"Run once as " <strong data-testid="command-user">{user}</strong> " on "
                <strong data-testid="command-servers">{servers}</strong> " · " {expires}</p>
            <pre class="command" data-testid="command-argv">{argv}</pre>
            <ExtensionDecision approval=approval on_done=Callback::new(move |_| on_done.run(id)) selected=is_selected />
        </CardFrame>
    }
}

/// What every card in the queue shares: the keyboard's selection, the session it is about
/// (linked by its purpose), who asked and when; the card's own facts and decision go inside.
#[component]
fn CardFrame(
    id: Uuid,
    kind: &'static str,
    session: WorkSessionId,
    purpose: String,
    meta: String,
    selected: RwSignal<Option<Uuid>>,
    children: Children,
) -> impl IntoView {
    let is_selected = Signal::derive(move || selected.get() == Some(id));
    view! {
        <article
            class="card approval"
            class:selected=is_selected
            id=format!("approval-{id}")
            tabindex="0"
            data-testid="approval-card"
            data-kind=kind
            data-id=id.to_string()
            on:focusin=move |_| selected.set(Some(id))
        >
            <header>
                <A href=format!("/sessions/{session}") attr:class="purpose">{purpose}</A>
                <span class="meta">{meta}</span>
            </header>
            {children()}
        </article>
    }
}
