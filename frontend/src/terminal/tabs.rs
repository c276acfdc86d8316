//! The console's open terminal tabs, kept at the app level rather than in the terminals page:
//! leaving the page only detaches a tab's stream (the shell keeps running on the server), and
//! coming back re-attaches each tab to its own terminal, replaying what the gateway buffered.

use super::pane::Tab;
use gatehouse_shared::share::LiveTerminal;
use gatehouse_shared::WorkSessionId;
use leptos::prelude::*;

/// The open tabs and which one is shown; provided once by the app's root.
#[derive(Clone, Copy)]
pub struct Terminals {
    pub tabs: RwSignal<Vec<Tab>>,
    pub active: RwSignal<Option<u32>>,
    next_key: StoredValue<u32>,
}

impl Terminals {
    pub fn provide() -> Self {
        let terminals = Self {
            tabs: RwSignal::new(Vec::new()),
            active: RwSignal::new(None),
            next_key: StoredValue::new(0),
        };
        provide_context(terminals);
        terminals
    }

    /// Adds the tab `make` builds with a fresh key, and shows it.
    pub fn add(self, make: impl FnOnce(u32) -> Tab) {
        let key = self.next_key.get_value();
        self.next_key.set_value(key + 1);
        self.tabs.update(|list| list.push(make(key)));
        self.active.set(Some(key));
    }

    /// A tab opening a new terminal of the signed-in user.
    pub fn open(self, server: String, user: Option<String>, session: Option<WorkSessionId>) {
        self.add(|key| Tab::own(key, server, user, session));
    }

    /// Shows the tab of terminal `id` when one is open; false when none is.
    pub fn show(self, id: uuid::Uuid, watching: bool) -> bool {
        let key = self.tabs.with_untracked(|list| {
            list.iter()
                .find(|t| {
                    t.watching.is_some() == watching && t.terminal.get_untracked() == Some(id)
                })
                .map(|t| t.key)
        });
        if let Some(key) = key {
            self.active.set(Some(key));
        }
        key.is_some()
    }

    /// Re-attaches one of the user's own live terminals (after a reload, or from another tab).
    pub fn attach(self, live: &LiveTerminal) {
        if !self.show(live.id, false) {
            self.add(|key| Tab::reattach(key, live));
        }
    }

    /// Closes tab `key`: ends its shell when it is the user's own, stops watching otherwise.
    pub fn close(self, key: u32) {
        let mut neighbour = None;
        self.tabs.update(|list| {
            if let Some(i) = list.iter().position(|t| t.key == key) {
                let tab = list.remove(i);
                let id = tab.terminal.get_untracked();
                if let Some(id) = id.filter(|_| tab.watching.is_none()) {
                    leptos::task::spawn_local(async move {
                        let _ = crate::api::terminate_websh(id).await;
                    });
                }
                neighbour = list.get(i.min(list.len().saturating_sub(1))).map(|t| t.key);
            }
        });
        if self.active.get_untracked() == Some(key) {
            self.active.set(neighbour);
        }
    }

    /// Forgets every tab without ending any shell (signing out: they stay re-attachable).
    pub fn forget(self) {
        self.tabs.set(Vec::new());
        self.active.set(None);
    }

    /// The ids of the terminals open in tabs as their owner.
    pub fn own_ids(self) -> Vec<uuid::Uuid> {
        self.tabs.with(|list| {
            list.iter()
                .filter(|t| t.watching.is_none())
                .filter_map(|t| t.terminal.get())
                .collect()
        })
    }
}

pub fn use_terminals() -> Terminals {
    expect_context::<Terminals>()
}
