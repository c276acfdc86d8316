//! A guest inside a shared terminal: whose terminal and where (known only after joining), a
//! read-only badge, the terminal itself, and who else is there.

use super::rejoin::{self, Guest};
use crate::terminal::body::{Notice, TerminalBody};
use crate::terminal::flow::Phase;
use crate::terminal::key_row::KeyRow;
use crate::terminal::participants::ParticipantList;
use crate::terminal::runtime::{mount, Connect, Outputs, Runtime};
use crate::terminal::source::Control;
use crate::time::format_at;
use gatehouse_shared::share::{Joined, Participant};
use leptos::prelude::*;
use std::rc::Rc;

#[component]
pub fn GuestSession(joined: Joined, guest: StoredValue<Rc<Guest>, LocalStorage>) -> impl IntoView {
    let phase = ArcRwSignal::new(Phase::Connecting);
    let participants = ArcRwSignal::new(Vec::<Participant>::new());
    // xterm.js is not part of the first download; the terminal appears once it is loaded.
    let xterm_ready = LocalResource::new(crate::terminal::xterm::load);
    let control = if joined.read_only {
        Control::Watch
    } else {
        Control::Typist
    };
    let badge = if joined.read_only {
        view! {
            <span class="badge guest-read-only" id="join-readonly-badge" data-testid="join-readonly-badge">
                "Read-only"
            </span>
        }
        .into_any()
    } else {
        view! {
            <span class="badge guest-can-type" id="join-readwrite-badge" data-testid="join-readwrite-badge">
                "You can type"
            </span>
        }
        .into_any()
    };
    let outputs = Outputs {
        phase: phase.clone(),
        participants: participants.clone(),
        notices: RwSignal::new(Vec::<Notice>::new()),
        // A guest who may type gets the on-screen keys too.
        ctrl: (!joined.read_only).then(|| RwSignal::new(false)),
    };
    let outputs = StoredValue::new(outputs);
    let listed = RwSignal::from(participants);
    view! {
        <section class="websh-page guest-page" data-testid="guest-page"
            data-read-only=joined.read_only.to_string()>
            <div class="terminal-banner guest-banner" data-testid="guest-banner">
                <span class="terminal-server" data-testid="guest-server">{joined.server.clone()}</span>
                <span class="terminal-user">"shared by " {joined.owner.clone()}</span>
                <span class="terminal-user">"you are " {joined.name.clone()}</span>
                {badge}
                <span class="terminal-time-left">
                    {format!("link expires {}", format_at(&joined.expires_at))}
                </span>
            </div>
            {move || match xterm_ready.get() {
                Some(Err(e)) => Some(view! { <p class="error" role="alert">{e}</p> }),
                _ => None,
            }}
            <div class="terminal-workspace">
                <div class="terminal-panels">
                    <Show when=move || matches!(xterm_ready.get(), Some(Ok(())))>
                        <GuestTerminal guest=guest control=control outputs=outputs.get_value() />
                    </Show>
                </div>
                <aside class="share-panel guest-side" aria-label="Participants">
                    <ParticipantList items=listed me=joined.participant />
                </aside>
            </div>
        </section>
    }
}

/// The guest's terminal panel, in the same markup as a console tab's.
#[component]
fn GuestTerminal(
    guest: StoredValue<Rc<Guest>, LocalStorage>,
    control: Control,
    outputs: Outputs,
) -> impl IntoView {
    let phase = RwSignal::from(outputs.phase.clone());
    let notices = outputs.notices;
    let host = NodeRef::<leptos::html::Div>::new();
    let source = rejoin::source(guest.get_value());
    let ctrl = outputs.ctrl;
    let runtime = mount(host, move |el| {
        Runtime::start(el, Connect::Attach { source, control }, outputs)
    });
    view! {
        <section
            class="terminal-panel"
            data-testid="terminal"
            data-state=move || phase.with(Phase::as_str)
            style:display="flex"
        >
            <TerminalBody phase=phase notices=notices host=host />
            {ctrl.map(|ctrl| view! { <KeyRow runtime=runtime ctrl=ctrl /> })}
        </section>
    }
}
