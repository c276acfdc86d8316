//! Whom an operation runs as on a server: the person's own account unless they name another.
//!
//! On an agent that runs as root, an operation that names no account runs as the caller's own
//! `unix_user` (which the agent may create on first use). Naming another account needs a group's
//! run-as grant for that server, or the `sudo` scope; root always needs `sudo`. An agent that is
//! not root can run only as itself, so there nothing is chosen here and the agent refuses any
//! other name.

use crate::core::state::AppState;
use crate::core::CoreError;
use crate::store::{groups, users};
use gatehouse_shared::api::RunAsGrant;
use gatehouse_shared::gate::{runs_as_root, Operation};
use gatehouse_shared::pattern;
use gatehouse_shared::{Scope, UserId};

/// The run-as decision for one operation, before the gate weighs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    /// The account the agent is asked for; `None` is the agent's own user.
    pub user: Option<String>,
    /// It is root (needs `sudo`).
    pub as_root: bool,
    /// It is neither the caller's own account nor one their groups grant here (needs `sudo`).
    pub as_other: bool,
    /// It is the caller's own account: the agent may create it when missing.
    pub own: bool,
}

impl RunAs {
    /// The account as the audit log and the terminal list name it.
    pub fn name(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The gate's question for running `scope` on `server` as this account.
    pub fn operation<'a>(&self, scope: Scope, server: &'a str) -> Operation<'a> {
        Operation {
            scope,
            server,
            as_root: self.as_root,
            as_other: self.as_other,
            detail: Default::default(),
        }
    }
}

/// A person as the run-as rule sees them: their own account and their groups' grants, read
/// once per request (a command on 1,000 servers decides 1,000 times from this).
#[derive(Debug, Clone)]
pub struct Person {
    pub id: UserId,
    pub unix_user: String,
    grants: Vec<RunAsGrant>,
}

impl Person {
    /// Reads `user`'s own account and run-as grants.
    pub async fn load(state: &AppState, user: UserId) -> Result<Self, CoreError> {
        let unix_user = users::by_id(&state.db, state.workspace, user)
            .await?
            .ok_or(CoreError::NotFound("user"))?
            .unix_user();
        let grants = groups::run_as_grants_of(&state.db, state.workspace, user).await?;
        Ok(Self {
            id: user,
            unix_user,
            grants,
        })
    }

    /// The shared accounts this person's groups grant on `server`, sorted, without repeats.
    pub fn granted_on(&self, server: &str) -> Vec<String> {
        let mut accounts: Vec<String> = self
            .grants
            .iter()
            .filter(|grant| pattern::matches(&grant.pattern, server))
            .map(|grant| grant.account.clone())
            .collect();
        accounts.dedup();
        accounts
    }

    /// Whom this person runs as on `server` when they ask for `requested` (blank = nothing).
    pub fn decide(&self, server: &str, requested: Option<&str>, agent_is_root: bool) -> RunAs {
        let requested = requested.map(str::trim).filter(|u| !u.is_empty());
        let named = |user: &str, as_root: bool, as_other: bool, own: bool| RunAs {
            user: Some(user.to_owned()),
            as_root,
            as_other,
            own,
        };
        match requested {
            _ if !agent_is_root => RunAs {
                user: requested.map(str::to_owned),
                as_root: runs_as_root(requested),
                as_other: false,
                own: false,
            },
            None => named(&self.unix_user, false, false, true),
            Some(name) if runs_as_root(Some(name)) => named(name, true, false, false),
            Some(name) if name == self.unix_user => named(name, false, false, true),
            Some(name) => {
                let granted = self.granted_on(server).iter().any(|a| a == name);
                named(name, false, !granted, false)
            }
        }
    }
}

/// Decides whom `user` runs as on `server` when they ask for `requested` (blank = nothing).
pub async fn decide(
    state: &AppState,
    user: UserId,
    server: &str,
    requested: Option<&str>,
    agent_is_root: bool,
) -> Result<RunAs, CoreError> {
    Ok(Person::load(state, user)
        .await?
        .decide(server, requested, agent_is_root))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> Person {
        Person {
            id: UserId::new(),
            unix_user: "ann".into(),
            grants: vec![RunAsGrant {
                account: "deploy".into(),
                pattern: "web-*".into(),
            }],
        }
    }

    #[test]
    fn own_account_by_default_others_need_a_grant_root_needs_sudo() {
        let p = person();
        let own = p.decide("web-01", None, true);
        assert_eq!(
            (own.user.as_deref(), own.own, own.as_other),
            (Some("ann"), true, false)
        );
        assert!(p.decide("web-01", Some(" ann "), true).own);
        let granted = p.decide("web-01", Some("deploy"), true);
        assert!(!granted.as_other && !granted.as_root && !granted.own);
        assert!(
            p.decide("db-01", Some("deploy"), true).as_other,
            "granted on web-* only"
        );
        assert!(p.decide("web-01", Some("bob"), true).as_other);
        for root in ["root", "0", "#0"] {
            let r = p.decide("web-01", Some(root), true);
            assert!(r.as_root && !r.own, "{root}");
        }
        // An agent that is not root runs everything as itself: nothing is chosen here.
        let plain = p.decide("web-01", None, false);
        assert_eq!((plain.user, plain.own), (None, false));
        assert!(!p.decide("web-01", Some("bob"), false).as_other);
    }
}
