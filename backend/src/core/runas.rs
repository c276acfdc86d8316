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
    let requested = requested.map(str::trim).filter(|u| !u.is_empty());
    if !agent_is_root {
        return Ok(RunAs {
            user: requested.map(str::to_owned),
            as_root: runs_as_root(requested),
            as_other: false,
            own: false,
        });
    }
    let own = users::by_id(&state.db, state.workspace, user)
        .await?
        .ok_or(CoreError::NotFound("user"))?
        .unix_user();
    let Some(name) = requested else {
        return Ok(RunAs {
            user: Some(own),
            as_root: false,
            as_other: false,
            own: true,
        });
    };
    if runs_as_root(Some(name)) {
        return Ok(RunAs {
            user: Some(name.to_owned()),
            as_root: true,
            as_other: false,
            own: false,
        });
    }
    if name == own {
        return Ok(RunAs {
            user: Some(own),
            as_root: false,
            as_other: false,
            own: true,
        });
    }
    let granted = granted_accounts(state, user, server).await?;
    Ok(RunAs {
        user: Some(name.to_owned()),
        as_root: false,
        as_other: !granted.iter().any(|a| a == name),
        own: false,
    })
}

/// The shared accounts `user`'s groups grant on `server`, sorted, without repeats.
pub async fn granted_accounts(
    state: &AppState,
    user: UserId,
    server: &str,
) -> Result<Vec<String>, CoreError> {
    let mut accounts: Vec<String> = groups::run_as_grants_of(&state.db, state.workspace, user)
        .await?
        .into_iter()
        .filter(|grant| pattern::matches(&grant.pattern, server))
        .map(|grant| grant.account)
        .collect();
    accounts.dedup();
    Ok(accounts)
}
