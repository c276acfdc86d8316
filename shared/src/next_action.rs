//! The `gate` commands that refusals suggest in `next_actions`. They are built here, in one
//! place, so the CLI can test that each one parses as a command it accepts (scripts and AI
//! agents run them as given).

use crate::{Scope, WorkSessionId};
use uuid::Uuid;

/// List the caller's own work sessions.
pub fn list_my_sessions() -> String {
    "gate work-session ls --user me".to_owned()
}

/// Look at one work session (waiting for approval, say).
pub fn describe_session(id: WorkSessionId) -> String {
    format!("gate work-session describe {id}")
}

/// Start an approved work session.
pub fn activate_session(id: WorkSessionId) -> String {
    format!("gate work-session activate {id}")
}

/// Request a work session that would allow an operation of `scope` on `server` (`sudo` also
/// asks for root, `sudo_command` names the root command to declare).
pub fn create_session(scope: Scope, sudo: bool, sudo_command: bool, server: &str) -> String {
    let sudo_scope = if sudo && scope != Scope::Sudo {
        " --scope sudo"
    } else {
        ""
    };
    let declare = if sudo_command {
        " --sudo \"<command>\""
    } else {
        ""
    };
    format!(
        "gate work-session create --scope {scope}{sudo_scope} --server {server}{declare} \
         --expires-in 1h --purpose \"<intent>\" --use"
    )
}

/// Request a work session whose tunnels may reach `port` on `server`.
pub fn create_tunnel_session(server: &str, port: u16) -> String {
    format!(
        "gate work-session create --scope tunnel --server {server} --tunnel-port {port} \
         --expires-in 1h --purpose \"<intent>\" --use"
    )
}

/// Look at one approval.
pub fn describe_approval(id: Uuid) -> String {
    format!("gate approval describe {id}")
}

/// Wait for one approval to be decided.
pub fn wait_for_approval(id: Uuid) -> String {
    format!("gate approval describe {id} --wait")
}

/// Prove a one-time code on this sign-in (step-up MFA).
pub fn verify_mfa() -> String {
    "gate mfa verify".to_owned()
}

/// One of each, with sample arguments: what the CLI's test parses.
pub fn samples() -> Vec<String> {
    let session = WorkSessionId(Uuid::nil());
    let mut all = vec![
        list_my_sessions(),
        describe_session(session),
        activate_session(session),
        describe_approval(Uuid::nil()),
        wait_for_approval(Uuid::nil()),
        verify_mfa(),
        create_tunnel_session("web-01", 5432),
    ];
    for scope in Scope::ALL {
        for (sudo, declare) in [(false, false), (true, false), (true, true)] {
            all.push(create_session(scope, sudo, declare, "web-01"));
        }
    }
    all
}
