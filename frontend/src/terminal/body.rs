//! What every live terminal shows around xterm, whoever watches it (an owner's tab, a staff
//! member watching, a guest): the ended/exited banner, the gateway's notices, the connection
//! status floating over the screen, and the element xterm is opened in.

use super::flow::Phase;
use leptos::html::Div;
use leptos::prelude::*;

/// How many gateway notices a terminal keeps on screen.
pub const NOTICES_KEPT: usize = 5;

/// One notice from the gateway (e.g. "ops is watching (read-only)").
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub id: u32,
    pub warn: bool,
    pub text: String,
}

/// Adds `notice` to the list, dropping the oldest beyond [`NOTICES_KEPT`].
pub fn push_notice(list: &mut Vec<Notice>, notice: Notice) {
    list.push(notice);
    if list.len() > NOTICES_KEPT {
        list.remove(0);
    }
}

/// The inside of a terminal panel; `host` is where xterm goes.
#[component]
pub fn TerminalBody(
    #[prop(into)] phase: Signal<Phase>,
    notices: RwSignal<Vec<Notice>>,
    host: NodeRef<Div>,
) -> impl IntoView {
    // The live region stays in place; only its text comes and goes, so it is announced.
    let status = move || {
        let text = match phase.get() {
            Phase::Connecting => "Connecting…",
            Phase::Reconnecting => "Connection lost. Reconnecting…",
            _ => return None,
        };
        Some(view! { <span>{text}</span> })
    };
    view! {
        {move || {
            phase.with(|p| {
                let reason = p.reason().map(str::to_owned);
                p.banner().map(|text| {
                    view! {
                        <div class="terminal-ended" role="alert" data-testid="terminal-ended"
                            data-reason=reason>
                            {text}
                        </div>
                    }
                })
            })
        }}
        <ul class="terminal-notices" aria-label="Notices from the gateway">
            <For each=move || notices.get() key=|n| n.id let:notice>
                <li class="terminal-notice" class:warn=notice.warn data-testid="terminal-notice">
                    {notice.text}
                </li>
            </For>
        </ul>
        // The connection status floats over the screen, so it coming and going never
        // resizes the shell.
        <div class="terminal-area">
            <p class="terminal-status" role="status" data-testid="terminal-status">
                {status}
            </p>
            <div class="terminal-host" node_ref=host></div>
        </div>
    }
}
