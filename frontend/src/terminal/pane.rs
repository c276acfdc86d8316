//! One terminal tab's panel: the owner's own terminal (opened here with `POST /api/websh`) or a
//! staff member watching someone else's (`?watch=true`, read-only); kept connected while
//! another tab is shown, and re-attached to the same terminal when mounted again.

use super::banner::SessionBanner;
use super::body::{Notice, TerminalBody};
use super::flow::Phase;
use super::key_row::KeyRow;
use super::runtime::{mount, Connect, Outputs, Runtime};
use super::source::{with_query, Control, Source};
use gatehouse_shared::share::{LiveTerminal, Participant};
use gatehouse_shared::WorkSessionId;
use leptos::prelude::*;

/// One terminal tab as the websh page keeps it.
#[derive(Clone, Debug)]
pub struct Tab {
    pub key: u32,
    pub server: String,
    pub user: Option<String>,
    pub session: Option<WorkSessionId>,
    /// `Some(owner)` when the tab watches another person's terminal: read-only, and closing the
    /// tab only stops watching.
    pub watching: Option<String>,
    /// Shared by the tab button and the panel; reference-counted so it outlives whichever
    /// reactive scope happened to create the tab.
    pub phase: ArcRwSignal<Phase>,
    /// The terminal's id once known, so closing the tab can end the shell and it can be shared.
    pub terminal: ArcRwSignal<Option<uuid::Uuid>>,
    /// Who is in the terminal, as the gateway last said.
    pub participants: ArcRwSignal<Vec<Participant>>,
}

impl Tab {
    /// A tab that opens a new terminal of the signed-in user.
    pub fn own(
        key: u32,
        server: String,
        user: Option<String>,
        session: Option<WorkSessionId>,
    ) -> Self {
        Self {
            key,
            server,
            user,
            session,
            watching: None,
            phase: ArcRwSignal::new(Phase::Connecting),
            terminal: ArcRwSignal::new(None),
            participants: ArcRwSignal::new(Vec::new()),
        }
    }

    /// A tab on a terminal of the signed-in user that was just opened (`id`), streamed as its
    /// owner: the page opened it itself (a root terminal, which may need a step-up first).
    pub fn opened(
        key: u32,
        server: String,
        user: Option<String>,
        session: Option<WorkSessionId>,
        id: uuid::Uuid,
    ) -> Self {
        Self {
            terminal: ArcRwSignal::new(Some(id)),
            ..Self::own(key, server, user, session)
        }
    }

    /// A tab back on one of the user's own live terminals (after a reload, or from another
    /// browser tab): it attaches as the owner and replays what the gateway buffered.
    pub fn reattach(key: u32, live: &LiveTerminal) -> Self {
        Self {
            watching: None,
            ..Self::watch(key, live)
        }
    }

    /// A tab that watches `live` read-only.
    pub fn watch(key: u32, live: &LiveTerminal) -> Self {
        Self {
            key,
            server: live.server.clone(),
            user: live.run_as.clone(),
            session: live.work_session,
            watching: Some(live.owner.username.clone()),
            phase: ArcRwSignal::new(Phase::Connecting),
            terminal: ArcRwSignal::new(Some(live.id)),
            participants: ArcRwSignal::new(Vec::new()),
        }
    }

    fn connect(&self) -> Connect {
        match (&self.watching, self.terminal.get_untracked()) {
            (Some(_), Some(id)) => Connect::Attach {
                source: Source::Path(with_query(&format!("/ws/websh/{id}"), "watch", "true")),
                control: Control::Watch,
            },
            // The panel is mounted again (the page was left and revisited, or the tab was
            // re-attached): the terminal exists, so stream it rather than open another.
            (None, Some(id)) => Connect::Attach {
                source: Source::Path(format!("/ws/websh/{id}")),
                control: Control::Owner,
            },
            _ => Connect::Open {
                server: self.server.clone(),
                user: self.user.clone(),
                session: self.session,
                opened: self.terminal.clone(),
            },
        }
    }
}

/// The panel of one terminal tab; hidden (but connected) while another tab is active.
#[component]
pub fn TerminalPane(tab: Tab, #[prop(into)] active: Signal<bool>) -> impl IntoView {
    let phase = RwSignal::from(tab.phase.clone());
    let participants = RwSignal::from(tab.participants.clone());
    let notices = RwSignal::new(Vec::<Notice>::new());
    let host = NodeRef::<leptos::html::Div>::new();

    // Only a terminal one may type into gets the on-screen keys.
    let typing = tab.watching.is_none();
    let ctrl = RwSignal::new(false);
    let outputs = Outputs {
        phase: tab.phase.clone(),
        participants: tab.participants.clone(),
        notices,
        ctrl: typing.then_some(ctrl),
    };
    let connect = tab.connect();
    let runtime = mount(host, move |el| Runtime::start(el, connect, outputs));
    Effect::new(move |_| {
        if !active.get() {
            return;
        }
        if let Some(rt) = runtime.with_value(Clone::clone) {
            // After this frame's layout, when `display: none` is gone and sizes are real.
            request_animation_frame(move || rt.shown());
        }
    });

    let watchers = Signal::derive(move || participants.with(Vec::len));
    view! {
        <section
            class="terminal-panel"
            role="tabpanel"
            id=format!("terminal-panel-{}", tab.key)
            aria-labelledby=format!("terminal-tab-{}", tab.key)
            data-testid="terminal"
            data-server=tab.server.clone()
            data-watching=tab.watching.is_some().to_string()
            data-state=move || phase.with(Phase::as_str)
            style:display=move || if active.get() { "flex" } else { "none" }
        >
            <SessionBanner
                server=tab.server.clone()
                user=tab.user.clone()
                session=tab.session
                watching=tab.watching.clone()
                watchers=watchers
            />
            <TerminalBody phase=phase notices=notices host=host />
            {typing.then(|| view! { <KeyRow runtime=runtime ctrl=ctrl /> })}
        </section>
    }
}
