//! An audit event as a sentence a person reads ("mia opened a terminal on web-01 as deploy"):
//! one pure function for the console's audit page and a work session's timeline, so both say
//! the same thing. It reads the typed details where an event has them, the path of a file
//! event, and the reason (or error) of a denial or failure; an action it does not know reads as
//! "<actor> <action> <target>".

use super::WebshDetails;
use super::{
    AuditAction, AuditEvent, ExecRunDetails, ExecSignalDetails, ExecStartedDetails,
    TransitionDetails,
};
use crate::work_session::TimelineEvent;
use serde_json::Value;

/// What a sentence is made of: an event's action, who did it, to what, where, how it went.
#[derive(Debug, Clone, Copy)]
pub struct EventParts<'a> {
    pub action: &'a str,
    pub actor: Option<&'a str>,
    pub target: Option<&'a str>,
    pub server: Option<&'a str>,
    /// `success`, `failure` or `denied`.
    pub outcome: &'a str,
    pub details: &'a Value,
}

impl<'a> From<&'a AuditEvent> for EventParts<'a> {
    fn from(e: &'a AuditEvent) -> Self {
        Self {
            action: &e.action,
            actor: e.actor.as_deref(),
            target: e.target.as_deref(),
            server: e.server.as_deref(),
            outcome: &e.outcome,
            details: &e.details,
        }
    }
}

impl<'a> From<&'a TimelineEvent> for EventParts<'a> {
    fn from(e: &'a TimelineEvent) -> Self {
        Self {
            action: &e.kind,
            actor: e.actor.as_deref(),
            target: e.target.as_deref(),
            server: e.server.as_deref(),
            outcome: &e.outcome,
            details: &e.details,
        }
    }
}

fn text<'v>(details: &'v Value, key: &str) -> Option<&'v str> {
    details.get(key).and_then(Value::as_str)
}

/// The first 8 characters of an id, as the console shows ids.
pub fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// The event as one sentence.
pub fn sentence<'a>(event: impl Into<EventParts<'a>>) -> String {
    let e = event.into();
    let d = e.details;
    let who = e.actor.unwrap_or("someone");
    let on = e.server.map(|s| format!(" on {s}")).unwrap_or_default();
    let target = e.target.unwrap_or("");
    let path = text(d, "path").unwrap_or(target);
    let as_user = |u: Option<&str>| u.map(|u| format!(" as {u}")).unwrap_or_default();
    let typed = |key: &str| text(d, key).map(str::to_owned);
    use AuditAction as A;
    let mut line = match AuditAction::parse(e.action) {
        Some(A::WebshOpened) => {
            let run_as = match serde_json::from_value::<WebshDetails>(d.clone()) {
                Ok(WebshDetails::Opened { run_as, .. }) => run_as,
                _ => None,
            };
            format!("{who} opened a terminal{on}{}", as_user(run_as.as_deref()))
        }
        Some(A::WebshClosed) => {
            let end = match serde_json::from_value::<WebshDetails>(d.clone()) {
                Ok(WebshDetails::Closed {
                    reason: Some(reason),
                    ..
                }) => format!(" ({reason})"),
                Ok(WebshDetails::Closed {
                    exit_code: Some(code),
                    ..
                }) => format!(" (exit {code})"),
                _ => String::new(),
            };
            format!("{who}'s terminal{on} closed{end}")
        }
        Some(A::WebshTerminated) => match text(d, "owner") {
            Some(owner) if owner != who => format!("{who} ended {owner}'s terminal{on}"),
            _ => format!("{who} ended a terminal{on}"),
        },
        Some(A::WebshWatched) => format!("{who} watched a terminal{on}"),
        Some(A::WebshViewerLeft) => format!("{who} left a terminal{on}"),
        Some(A::WebshInputDropped) => format!("{who}'s keystrokes were dropped{on}"),
        Some(A::ExecStarted) => match serde_json::from_value::<ExecStartedDetails>(d.clone()) {
            Ok(job) => format!(
                "{who} ran `{}` on {}{}",
                job.command,
                job.servers.join(", "),
                as_user(job.run_as.as_deref())
            ),
            Err(_) => format!("{who} ran a command"),
        },
        Some(A::ExecRun) => match serde_json::from_value::<ExecRunDetails>(d.clone()) {
            Ok(run) => {
                let end = match (run.exit_code, run.error) {
                    (_, Some(error)) => format!("{}: {error}", run.status.as_str()),
                    (Some(code), None) => format!("exit {code}"),
                    (None, None) => match run.signal {
                        Some(n) => format!("{} by signal {n}", run.status.as_str()),
                        None => run.status.as_str().to_owned(),
                    },
                };
                format!("`{}`{on} ended: {end}", run.command)
            }
            Err(_) => format!("a command{on} ended"),
        },
        Some(A::ExecSignal) => match serde_json::from_value::<ExecSignalDetails>(d.clone()) {
            Ok(sent) => format!(
                "{who} sent SIG{} to `{}` on {}",
                sent.signal.name(),
                sent.command,
                sent.servers.join(", ")
            ),
            Err(_) => format!("{who} signalled a command"),
        },
        Some(A::FileList) => format!("{who} listed {path}{on}"),
        Some(A::FileStat) => format!("{who} looked at {path}{on}"),
        Some(A::FileDownload) => format!("{who} downloaded {path}{}", from_server(e.server)),
        Some(A::FileUpload) => format!("{who} uploaded {path}{}", to_server(e.server)),
        Some(A::FileMkdir) => format!("{who} created the folder {path}{on}"),
        Some(A::FileRename) => match (text(d, "from"), text(d, "to")) {
            (Some(from), Some(to)) => format!("{who} renamed {from} to {to}{on}"),
            _ => format!("{who} renamed {path}{on}"),
        },
        Some(A::FileDelete) => format!("{who} deleted {path}{on}"),
        Some(A::TunnelOpened) => {
            let port = d.get("remote_port").and_then(|p| p.as_u64()).unwrap_or(0);
            let host = text(d, "remote_host").unwrap_or("127.0.0.1");
            format!("{who} opened a tunnel to {host}:{port}{on}")
        }
        Some(A::TunnelClosed) => match text(d, "reason") {
            Some(reason) => format!("a tunnel{on} ended ({reason})"),
            None => format!("a tunnel{on} ended"),
        },
        Some(A::TunnelConnectionOpened) => {
            let remote = text(d, "remote").unwrap_or("its target");
            format!("{who} connected through a tunnel to {remote}{on}")
        }
        Some(A::TunnelConnectionClosed) => {
            let remote = text(d, "remote").unwrap_or("its target");
            let bytes = |k: &str| d.get(k).and_then(|b| b.as_u64()).unwrap_or(0);
            let failed = text(d, "error")
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            format!(
                "a tunnel connection to {remote}{on} closed ({} bytes up, {} down){failed}",
                bytes("bytes_up"),
                bytes("bytes_down")
            )
        }
        Some(A::CommandApprovalRequested) => match text(d, "command") {
            Some(command) => format!("{who} asked to run `{command}` as approved{on}"),
            None => format!("{who} asked for a command to be approved"),
        },
        Some(A::CommandApprovalApproved) => match text(d, "command") {
            Some(command) => format!("{who} approved the command `{command}`"),
            None => format!("{who} approved a command"),
        },
        Some(A::CommandApprovalRejected) => match text(d, "command") {
            Some(command) => format!("{who} rejected the command `{command}`"),
            None => format!("{who} rejected a command"),
        },
        Some(A::CommandApprovalExpired) => match text(d, "command") {
            Some(command) => format!("the approval of `{command}` lapsed undecided"),
            None => "a command approval lapsed undecided".to_owned(),
        },
        Some(A::GateDenied) => {
            let scope = text(d, "scope").unwrap_or("access");
            format!("{who} was denied {scope}{on}")
        }
        Some(A::WorkSessionRequested) => {
            let purpose = typed("purpose")
                .map(|p| format!(": “{p}”"))
                .unwrap_or_default();
            format!("{who} requested a work session{purpose}")
        }
        Some(
            action @ (A::WorkSessionApproved
            | A::WorkSessionRejected
            | A::WorkSessionRevoked
            | A::WorkSessionCancelled
            | A::WorkSessionActivated
            | A::WorkSessionCompleted
            | A::WorkSessionExtended
            | A::WorkSessionExpired),
        ) => {
            let verb = match action {
                A::WorkSessionApproved => "approved",
                A::WorkSessionRejected => "rejected",
                A::WorkSessionRevoked => "revoked",
                A::WorkSessionCancelled => "cancelled",
                A::WorkSessionActivated => "started",
                A::WorkSessionCompleted => "completed",
                A::WorkSessionExtended => "extended",
                _ => "",
            };
            let reason = serde_json::from_value::<TransitionDetails>(d.clone())
                .ok()
                .and_then(|t| t.reason)
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            if action == A::WorkSessionExpired {
                format!("the work session expired{reason}")
            } else {
                format!("{who} {verb} the work session{reason}")
            }
        }
        Some(A::AuthLogin) if e.outcome == "success" => format!("{who} signed in"),
        Some(A::AuthLogin) => format!("a sign-in as {who} failed"),
        Some(A::AuthLogout) => format!("{who} signed out"),
        Some(A::AuthDeviceRequested) => "a command line asked to sign in".to_owned(),
        Some(A::AuthDeviceApproved) => format!("{who} approved a command-line sign-in"),
        Some(A::AuthDeviceDenied) => format!("{who} denied a command-line sign-in"),
        Some(A::AuthSigninRevoked) => format!("{who} ended one of their sign-ins"),
        Some(A::AuthPasswordChanged) => format!("{who} changed their password"),
        Some(A::UserCreated) => format!("{who} created the user {target}"),
        Some(A::UserDisabled) => format!("{who} disabled {target}"),
        Some(A::UserEnabled) => format!("{who} enabled {target}"),
        Some(A::UserRoleChanged) => match text(d, "role").or(text(d, "to")) {
            Some(role) => format!("{who} made {target} {role}"),
            None => format!("{who} changed {target}'s role"),
        },
        Some(A::GroupCreated) => format!("{who} created the group {target}"),
        Some(A::GroupDeleted) => format!("{who} deleted the group {target}"),
        Some(A::ServerCreated) => format!("{who} added the server {target}"),
        Some(A::ServerDeleted) => format!("{who} removed the server {target}"),
        Some(A::AgentConnected) => format!("the agent{on} connected"),
        Some(A::AgentDisconnected) => format!("the agent{on} disconnected"),
        Some(A::ShareCreated) => format!("{who} shared a terminal{on}"),
        Some(A::ShareJoin) => format!("{who} joined a shared terminal{on}"),
        _ => {
            let target = e.target.map(|t| format!(" {t}")).unwrap_or_default();
            format!("{who} {}{target}{on}", e.action)
        }
    };
    // A denial or failure says why.
    if e.outcome != "success" {
        let why = text(d, "reason")
            .or(text(d, "error"))
            .or(text(d, "message"));
        let already = line.contains(why.unwrap_or("\u{0}"));
        match why {
            Some(why) if !already => {
                line.push_str(": ");
                line.push_str(why);
            }
            _ if e.outcome == "denied" && !line.contains("denied") => line.push_str(" (denied)"),
            _ if e.outcome == "failure" && !line.contains("failed") => line.push_str(" (failed)"),
            _ => {}
        }
    }
    line
}

fn from_server(server: Option<&str>) -> String {
    server.map(|s| format!(" from {s}")).unwrap_or_default()
}

fn to_server(server: Option<&str>) -> String {
    server.map(|s| format!(" to {s}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn say(action: &str, outcome: &str, details: Value) -> String {
        sentence(EventParts {
            action,
            actor: Some("mia"),
            target: Some("/etc/hosts"),
            server: Some("web-01"),
            outcome,
            details: &details,
        })
    }

    #[test]
    fn terminals_commands_and_files_read_as_sentences() {
        let id = uuid::Uuid::nil();
        let opened = json!({"websh": id, "run_as": "deploy", "cols": 80, "rows": 24,
            "recording": "/r"});
        assert_eq!(
            say("websh.opened", "success", opened),
            "mia opened a terminal on web-01 as deploy"
        );
        let closed = json!({"websh": id, "exit_code": 0, "reason": null, "output_bytes": 3,
            "recording": "/r"});
        assert_eq!(
            say("websh.closed", "success", closed),
            "mia's terminal on web-01 closed (exit 0)"
        );
        let started = json!({"job": id, "command": "uptime", "run_as": null,
            "servers": ["web-01", "db-01"], "timeout_secs": 60});
        assert_eq!(
            say("exec.started", "success", started),
            "mia ran `uptime` on web-01, db-01"
        );
        assert_eq!(
            say(
                "file.download",
                "success",
                json!({"path": "/var/log/syslog", "size": 3})
            ),
            "mia downloaded /var/log/syslog from web-01"
        );
        assert_eq!(
            say(
                "file.delete",
                "failure",
                json!({"path": "/etc/hosts",
                "error": "permission denied", "error_code": "forbidden"})
            ),
            "mia deleted /etc/hosts on web-01: permission denied"
        );
        assert_eq!(
            say(
                "file.rename",
                "success",
                json!({"from": "/a", "to": "/b", "path": "/a"})
            ),
            "mia renamed /a to /b on web-01"
        );
    }

    #[test]
    fn tunnels_and_their_connections_read_as_sentences() {
        let opened = json!({"tunnel": uuid::Uuid::nil(), "remote_host": "127.0.0.1",
            "remote_port": 5432});
        assert_eq!(
            say("tunnel.opened", "success", opened),
            "mia opened a tunnel to 127.0.0.1:5432 on web-01"
        );
        let closed = json!({"remote": "127.0.0.1:5432", "bytes_up": 10, "bytes_down": 20,
            "error": "connection reset"});
        assert_eq!(
            say("tunnel.connection_closed", "failure", closed),
            "a tunnel connection to 127.0.0.1:5432 on web-01 closed (10 bytes up, 20 down): \
             connection reset (failed)"
        );
        let ended = json!({"reason": "ended by mia", "connections": 3});
        assert_eq!(
            say("tunnel.closed", "success", ended),
            "a tunnel on web-01 ended (ended by mia)"
        );
    }

    #[test]
    fn denials_say_why_and_transitions_their_reason() {
        assert_eq!(
            say(
                "gate.denied",
                "denied",
                json!({"scope": "websh",
                "reason": "the work session has expired", "error_code": "work_session_expired"})
            ),
            "mia was denied websh on web-01: the work session has expired"
        );
        let revoked = json!({"from": "active", "to": "revoked", "purpose": "p", "scopes": [],
            "servers": [], "adjustments": null, "reason": "done here", "expires_at": null});
        assert_eq!(
            say("work_session.revoked", "success", revoked),
            "mia revoked the work session: done here"
        );
        assert_eq!(
            say(
                "work_session.requested",
                "success",
                json!({"purpose": "fix nginx"})
            ),
            "mia requested a work session: “fix nginx”"
        );
        assert_eq!(
            say("auth.login", "failure", json!({})),
            "a sign-in as mia failed"
        );
    }

    #[test]
    fn unknown_actions_and_missing_parts_still_read() {
        assert_eq!(
            say("future.thing", "success", json!({})),
            "mia future.thing /etc/hosts on web-01"
        );
        let anonymous = sentence(EventParts {
            action: "websh.opened",
            actor: None,
            target: None,
            server: None,
            outcome: "success",
            details: &Value::Null,
        });
        assert_eq!(anonymous, "someone opened a terminal");
        assert_eq!(short_id("3f2a9c1e-0000"), "3f2a9c1e");
        assert_eq!(short_id("abc"), "abc");
    }
}
