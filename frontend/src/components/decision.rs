//! The approver's decision: approve with optional narrowing (untick to drop), or reject.
//!
//! Used by the approvals queue and the session detail page, so both decide the same way.

use crate::api::{self, ApiError};
use crate::components::extension::typing;
use crate::components::ErrorBox;
use gatehouse_shared::work_session::ApproveWorkSession;
use gatehouse_shared::{Scope, WorkSession};
use leptos::html::Button;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// What the approver kept: `None` when nothing was unticked, so the API sees no narrowing.
fn narrowed<T: Clone + PartialEq>(requested: &[T], kept: &[T]) -> Option<Vec<T>> {
    (kept.len() != requested.len()).then(|| {
        requested
            .iter()
            .filter(|item| kept.contains(item))
            .cloned()
            .collect()
    })
}

/// Adds `item` to `list`, or takes it out when it is there (a checkbox's change).
fn toggle<T: PartialEq + Send + Sync + 'static>(list: RwSignal<Vec<T>>, item: T) {
    list.update(|l| match l.iter().position(|x| *x == item) {
        Some(at) => {
            l.remove(at);
        }
        None => l.push(item),
    })
}

/// The keyboard of a decision card: while `selected`, `a` approves and `r` starts rejecting with
/// the focus on the confirm button, so Enter confirms. Shared by every kind of request.
#[derive(Clone, Copy)]
pub struct DecisionKeys {
    pub rejecting: RwSignal<bool>,
    pub confirm: NodeRef<Button>,
}

impl DecisionKeys {
    pub fn install(selected: Signal<bool>, approve: impl Fn() + 'static) -> Self {
        let keys = Self {
            rejecting: RwSignal::new(false),
            confirm: NodeRef::new(),
        };
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if !selected.get_untracked() || typing(&ev) {
                return;
            }
            match ev.key().as_str() {
                "a" => approve(),
                "r" => keys.start_reject(),
                _ => {}
            }
        });
        on_cleanup(move || handle.remove());
        keys
    }

    /// Shows the confirm button and focuses it once rendered.
    pub fn start_reject(self) {
        self.rejecting.set(true);
        let confirm = self.confirm;
        request_animation_frame(move || {
            if let Some(button) = confirm.get_untracked() {
                let _ = button.focus();
            }
        });
    }
}

/// Approve/reject controls for one pending session; `on_done` runs after a decision lands.
#[component]
pub fn DecisionForm(
    session: WorkSession,
    #[prop(into)] on_done: Callback<WorkSession>,
    /// Keyboard shortcut target: `a` approves and `r` starts rejecting when this is true.
    #[prop(into, optional)]
    selected: Signal<bool>,
) -> impl IntoView {
    let id = session.id;
    let requested_scopes = StoredValue::new(session.scopes.clone());
    let requested_servers: Vec<String> = session.servers.iter().map(|s| s.name.clone()).collect();
    let requested_servers = StoredValue::new(requested_servers);
    let scopes = RwSignal::new(session.scopes.clone());
    let servers = RwSignal::new(requested_servers.get_value());
    // Declared root commands: the approver may untick some (at least one must stay).
    let requested_sudo = StoredValue::new(session.sudo_commands.clone());
    let sudo = RwSignal::new(session.sudo_commands.clone());
    // Declared tunnel ports: likewise, the approver may untick some.
    let requested_ports = StoredValue::new(session.tunnel_ports.clone());
    let ports = RwSignal::new(session.tunnel_ports.clone());
    let reason = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);

    let finish = move |result: Result<WorkSession, ApiError>| {
        busy.set(false);
        match result {
            Ok(session) => {
                error.set(None);
                on_done.run(session);
            }
            Err(e) => error.set(Some(e)),
        }
    };
    let approve = move || {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let body = ApproveWorkSession {
            scopes: narrowed(&requested_scopes.get_value(), &scopes.get_untracked()),
            servers: narrowed(&requested_servers.get_value(), &servers.get_untracked()),
            sudo_commands: narrowed(&requested_sudo.get_value(), &sudo.get_untracked()),
            tunnel_ports: narrowed(&requested_ports.get_value(), &ports.get_untracked()),
            reason: Some(reason.get_untracked().trim().to_owned()).filter(|r| !r.is_empty()),
        };
        spawn_local(async move { finish(api::approve(id, &body).await) });
    };
    let reject = move || {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let why = Some(reason.get_untracked().trim().to_owned()).filter(|r| !r.is_empty());
        spawn_local(async move {
            finish(api::decide_with_reason(id, api::SessionDecision::Reject, why).await)
        });
    };

    let keys = DecisionKeys::install(selected, approve);
    let (rejecting, confirm) = (keys.rejecting, keys.confirm);

    let toggle_scope = move |scope: Scope| {
        scopes.update(|s| {
            if let Some(at) = s.iter().position(|x| *x == scope) {
                s.remove(at);
            } else {
                s.push(scope);
            }
        })
    };
    let toggle_sudo = move |command: String| {
        sudo.update(|s| {
            if let Some(at) = s.iter().position(|x| *x == command) {
                s.remove(at);
            } else {
                s.push(command);
            }
        })
    };
    let toggle_server = move |name: String| {
        servers.update(|s| {
            if let Some(at) = s.iter().position(|x| *x == name) {
                s.remove(at);
            } else {
                s.push(name);
            }
        })
    };

    view! {
        <div class="decision">
            <fieldset>
                <legend>"Scopes to grant"</legend>
                {requested_scopes
                    .get_value()
                    .into_iter()
                    .map(|scope| {
                        view! {
                            <label class="check">
                                <input type="checkbox" name="scope" value=scope.as_str()
                                    prop:checked=move || scopes.with(|s| s.contains(&scope))
                                    on:change=move |_| toggle_scope(scope) />
                                {scope.as_str()}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <fieldset>
                <legend>"Servers to grant"</legend>
                {requested_servers
                    .get_value()
                    .into_iter()
                    .map(|name| {
                        let checked = name.clone();
                        let toggled = name.clone();
                        view! {
                            <label class="check">
                                <input type="checkbox" name="server" value=name.clone()
                                    prop:checked=move || servers.with(|s| s.contains(&checked))
                                    on:change=move |_| toggle_server(toggled.clone()) />
                                {name}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            {(!requested_sudo.get_value().is_empty()).then(|| view! {
                <fieldset data-testid="decision-sudo-commands">
                    <legend>"Sudo commands to allow"</legend>
                    {requested_sudo
                        .get_value()
                        .into_iter()
                        .map(|command| {
                            let checked = command.clone();
                            let toggled = command.clone();
                            view! {
                                <label class="check">
                                    <input type="checkbox" name="sudo_command" value=command.clone()
                                        prop:checked=move || sudo.with(|s| s.contains(&checked))
                                        on:change=move |_| toggle_sudo(toggled.clone()) />
                                    <code>{command}</code>
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
            })}
            {(!requested_ports.get_value().is_empty()).then(|| view! {
                <fieldset data-testid="decision-tunnel-ports">
                    <legend>"Tunnel ports to allow"</legend>
                    {requested_ports
                        .get_value()
                        .into_iter()
                        .map(|port| view! {
                            <label class="check">
                                <input type="checkbox" name="tunnel_port" value=port.to_string()
                                    prop:checked=move || ports.with(|p| p.contains(&port))
                                    on:change=move |_| toggle(ports, port) />
                                {port}
                            </label>
                        })
                        .collect_view()}
                </fieldset>
            })}
            <label>
                "Reason (optional)"
                <input name="reason" maxlength="1000" bind:value=reason />
            </label>
            <ErrorBox error=error />
            <div class="buttons">
                <button class="primary" data-action="approve" disabled=busy
                    title="Approve (a)" on:click=move |_| approve()>"Approve"</button>
                <Show
                    when=move || rejecting.get()
                    fallback=move || view! {
                        <button class="danger" data-action="reject" disabled=busy
                            title="Reject (r)" on:click=move |_| keys.start_reject()>"Reject"</button>
                    }
                >
                    <button class="danger" data-action="confirm-reject" disabled=busy node_ref=confirm
                        on:click=move |_| reject()>"Confirm reject"</button>
                    <button data-action="cancel-reject" on:click=move |_| rejecting.set(false)>"Keep"</button>
                </Show>
            </div>
        </div>
    }
}
