//! Elevation: what an operation as root takes beyond the gate.
//!
//! Two rules, both only for root and only for interactive principals (every method but an API
//! token, whose ACLs decide instead):
//!
//! - **Declared root commands.** A work session that declared `sudo_commands` lets root run
//!   only commands matching one of them (`CommandPattern::matches` on the argv; a `command`
//!   string is split once by the ACL word rules, and one that cannot be split matches nothing).
//!   A terminal or a file operation as root can do anything, so it needs a declared lone `*`.
//!   A refusal is a gate denial (`sudo_command_not_allowed`), audited as one; an exec may ask
//!   for a single-command approval instead (`core::command_approvals`).
//! - **Step-up MFA.** With the workspace setting `require_mfa_for_root`, the sign-in must have
//!   proved a one-time code within `mfa_timeout_secs` (`core::stepup`), unless
//!   `sudo_mfa_waiver` is set and the operation is a command that matches a declared pattern
//!   (terminals and file operations are never waived).
//!
//! The step-up comes first: a command waiting for an approval was asked by someone who proved
//! a code, because nobody can prove one for them when it runs.

use crate::core::audit::{self, DENIED};
use crate::core::gate::Asker;
use crate::core::state::AppState;
use crate::core::stepup::{self, StepUp};
use crate::core::CoreError;
use crate::store::users;
use crate::time::now;
use chrono::{DateTime, Utc};
use gatehouse_shared::acl::command::CommandPattern;
use gatehouse_shared::acl::words::split;
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::gate::{GateContext, GateDenial, Operation};
use gatehouse_shared::{ErrorCode, WorkSession};

/// What runs as root.
#[derive(Debug, Clone, Copy)]
pub enum Ask<'a> {
    /// A terminal: a shell runs anything.
    Terminal,
    /// A command: its argv, or `None` when its command line cannot be split into words.
    Command(Option<&'a [String]>),
    /// A file operation (list, read, write, mkdir, rename, delete).
    Files,
}

impl Ask<'_> {
    fn what(&self) -> &'static str {
        match self {
            Ask::Terminal => "a terminal",
            Ask::Command(_) => "this command",
            Ask::Files => "a file operation",
        }
    }
}

/// The words a command is matched as: its argv, or the command line split by the ACL word
/// rules; `None` when the line cannot be split (a shell metacharacter, a control character).
pub fn argv_of(argv: Option<&[String]>, command: &str) -> Option<Vec<String>> {
    match argv {
        Some(argv) => Some(argv.to_vec()),
        None => split(command).ok(),
    }
}

/// Whether the session's declared root commands allow `ask`: `None` when it declared none
/// (no limit beyond the `sudo` scope).
pub fn declared_allows(session: &WorkSession, ask: &Ask<'_>) -> Option<bool> {
    if session.sudo_commands.is_empty() {
        return None;
    }
    let patterns = session
        .sudo_commands
        .iter()
        .filter_map(|p| CommandPattern::parse(p).ok());
    let allowed = match ask {
        Ask::Command(Some(argv)) => patterns.into_iter().any(|p| p.matches(argv)),
        Ask::Command(None) => false,
        Ask::Terminal | Ask::Files => patterns.into_iter().any(|p| p.words() == ["*"]),
    };
    Some(allowed)
}

/// Why an operation as root may not go ahead.
#[derive(Debug)]
pub enum Refusal {
    /// Outside the session's declared root commands (a gate denial).
    NotDeclared(Box<GateDenial>),
    /// The sign-in must prove a one-time code first (or enrol one).
    StepUp(StepUp),
}

/// The facts elevation decides on.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub asker: Asker<'a>,
    /// When this sign-in last proved a one-time code.
    pub mfa_verified_at: Option<DateTime<Utc>>,
    /// The work session the gate allowed the operation in.
    pub session: Option<&'a WorkSession>,
    pub op: &'a Operation<'a>,
}

/// Decides whether `ask` may run as root; nothing is audited here (see [`audit_refusal`]).
pub async fn check(
    state: &AppState,
    facts: Facts<'_>,
    ask: Ask<'_>,
) -> Result<Result<(), Refusal>, CoreError> {
    if !facts.op.as_root || facts.asker.principal.auth_method.is_token() {
        return Ok(Ok(()));
    }
    let declared = facts.session.and_then(|s| declared_allows(s, &ask));
    let settings = crate::store::workspace_settings(&state.db, state.workspace).await?;
    if settings.require_mfa_for_root {
        let waived =
            settings.sudo_mfa_waiver && declared == Some(true) && matches!(ask, Ask::Command(_));
        if !waived {
            let row = users::by_id(&state.db, state.workspace, facts.asker.principal.user_id)
                .await?
                .ok_or(CoreError::NotFound("user"))?;
            if let Err(step) = stepup::check(state, &row, facts.mfa_verified_at, now()).await? {
                return Ok(Err(Refusal::StepUp(step)));
            }
        }
    }
    if declared == Some(false) {
        return Ok(Err(Refusal::NotDeclared(not_declared(facts, &ask))));
    }
    Ok(Ok(()))
}

fn not_declared(facts: Facts<'_>, ask: &Ask<'_>) -> Box<GateDenial> {
    let session = facts
        .session
        .expect("declared commands come from a session");
    let id = session.id;
    let reason = match ask {
        Ask::Command(None) => format!(
            "session {id} allows root only its declared commands, and this command line cannot \
             be split into words to match them (give argv instead)"
        ),
        Ask::Command(Some(_)) => format!(
            "session {id} allows root only [{}]",
            session.sudo_commands.join(", ")
        ),
        Ask::Terminal | Ask::Files => format!(
            "session {id} allows root only its declared commands; {} as root needs a declared \
             lone `*`",
            ask.what()
        ),
    };
    let mut next_actions = Vec::new();
    if matches!(ask, Ask::Command(_)) {
        next_actions.push(
            "request_approval: repeat the request with \"request_approval\": true to ask a \
             superuser to approve this one command"
                .to_owned(),
        );
    }
    next_actions.push(gatehouse_shared::next_action::create_session(
        facts.op.scope,
        true,
        true,
        facts.op.server,
    ));
    Box::new(GateDenial {
        code: ErrorCode::SudoCommandNotAllowed,
        message: format!(
            "{} as root is not among the work session's declared root commands",
            capitalise(ask.what())
        ),
        reason,
        context: GateContext {
            auth_method: facts.asker.principal.auth_method,
            required_scope: facts.op.scope,
            target_servers: vec![facts.op.server.to_owned()],
            current_work_session: Some(id),
        },
        next_actions,
    })
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Audits a refusal as a gate denial (on the asker's own session's timeline). `command` is the
/// command as asked, when there is one.
pub async fn audit_refusal(
    state: &AppState,
    facts: Facts<'_>,
    refusal: &Refusal,
    command: Option<&str>,
) {
    let (code, reason) = match refusal {
        Refusal::NotDeclared(denial) => (denial.code, denial.reason.clone()),
        Refusal::StepUp(StepUp::EnrolmentRequired) => (
            ErrorCode::MfaEnrolmentRequired,
            "root needs two-factor sign-in and none is enrolled".to_owned(),
        ),
        Refusal::StepUp(StepUp::VerifyRequired) => (
            ErrorCode::MfaStepUpRequired,
            "root needs a one-time code proved within the MFA timeout".to_owned(),
        ),
    };
    let mut details = serde_json::json!({
        "error_code": code,
        "scope": facts.op.scope,
        "as_root": facts.op.as_root,
        "as_other": facts.op.as_other,
        "reason": reason,
        "preflight": false,
    });
    if let Some(command) = command {
        details["command"] = command.into();
    }
    let mut event = audit::event(AuditAction::GateDenied, DENIED)
        .actor(facts.asker.actor)
        .server(facts.op.server)
        .details(details);
    if let Some(session) = facts
        .session
        .filter(|s| s.assignee.id == facts.asker.principal.user_id)
    {
        event = event
            .work_session(session.id)
            .target(session.id.to_string());
    }
    // A refusal changes nothing; `record_event` logs a failure to audit it.
    let _ = audit::record_event(state, event).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_shared::{Scope, Status, UserId, UserRef, WorkSessionId};

    fn session(patterns: &[&str]) -> WorkSession {
        let user = UserRef {
            id: UserId::new(),
            username: "mia".into(),
        };
        WorkSession {
            id: WorkSessionId::new(),
            purpose: "p".into(),
            status: Status::Active,
            scopes: vec![Scope::Command, Scope::Sudo],
            servers: Vec::new(),
            sudo_commands: patterns.iter().map(|p| p.to_string()).collect(),
            tunnel_ports: Vec::new(),
            requested_by: user.clone(),
            assignee: user,
            approved_by: None,
            decision_reason: None,
            adjustments: None,
            starts_at: None,
            duration_secs: None,
            expires_at: None,
            created_at: Utc::now(),
            decided_at: None,
            activated_at: None,
            ended_at: None,
        }
    }

    fn words(line: &str) -> Vec<String> {
        argv_of(None, line).unwrap()
    }

    #[test]
    fn commands_match_declared_patterns_and_terminals_need_a_lone_star() {
        let s = session(&["systemctl restart nginx", "apt-get install *"]);
        let ok = words("systemctl restart nginx");
        let more = words("apt-get install -y curl");
        let other = words("systemctl stop nginx");
        assert_eq!(declared_allows(&s, &Ask::Command(Some(&ok))), Some(true));
        assert_eq!(declared_allows(&s, &Ask::Command(Some(&more))), Some(true));
        assert_eq!(
            declared_allows(&s, &Ask::Command(Some(&other))),
            Some(false)
        );
        assert_eq!(argv_of(None, "systemctl restart nginx; reboot"), None);
        assert_eq!(declared_allows(&s, &Ask::Command(None)), Some(false));
        assert_eq!(declared_allows(&s, &Ask::Terminal), Some(false));
        assert_eq!(declared_allows(&s, &Ask::Files), Some(false));
        let star = session(&["*"]);
        assert_eq!(declared_allows(&star, &Ask::Terminal), Some(true));
        assert_eq!(declared_allows(&star, &Ask::Files), Some(true));
        assert_eq!(declared_allows(&session(&[]), &Ask::Terminal), None);
    }
}
