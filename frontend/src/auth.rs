//! Who is signed in: a context every screen reads, refreshed from `whoami`.

use crate::api;
use gatehouse_shared::api::WhoAmI;
use gatehouse_shared::lifecycle::Actor;
use gatehouse_shared::{Role, UserRef};
use leptos::prelude::*;

/// The sign-in state of the console.
#[derive(Clone, Copy)]
pub struct Auth {
    /// The signed-in caller, `None` when signed out.
    pub me: RwSignal<Option<WhoAmI>>,
    /// False until the first `whoami` answered, so screens do not flash the sign-in form.
    pub checked: RwSignal<bool>,
    /// True while the installation has no user yet (first-run set-up).
    pub setup_needed: RwSignal<bool>,
}

impl Auth {
    /// Creates the context and provides it to the component tree.
    pub fn provide() -> Self {
        let auth = Self {
            me: RwSignal::new(None),
            checked: RwSignal::new(false),
            setup_needed: RwSignal::new(false),
        };
        provide_context(auth);
        auth
    }

    /// Asks the server who we are; on 401 also whether set-up is still needed.
    pub async fn refresh(self) {
        match api::whoami().await {
            Ok(me) => {
                self.me.set(Some(me));
                self.setup_needed.set(false);
            }
            Err(_) => {
                self.me.set(None);
                let needed = api::setup_status().await.map(|s| s.needed).unwrap_or(false);
                self.setup_needed.set(needed);
            }
        }
        self.checked.set(true);
    }

    /// The signed-in user's role, if any.
    pub fn role(self) -> Option<Role> {
        self.me.with(|me| me.as_ref().map(|m| m.user.role))
    }

    /// True for staff and superusers.
    pub fn is_staff(self) -> bool {
        self.role().is_some_and(Role::is_staff_or_above)
    }

    /// The caller as a lifecycle actor, to ask the pure rules which actions to offer.
    pub fn actor(self) -> Option<Actor> {
        self.me.with(|me| {
            me.as_ref().map(|m| Actor::User {
                user: UserRef {
                    id: m.user.id,
                    username: m.user.username.clone(),
                },
                role: m.user.role,
            })
        })
    }
}

/// The sign-in context provided by the root component.
pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}
