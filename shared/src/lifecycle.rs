//! The work-session lifecycle as one pure transition function (docs/design.md, "Work sessions").
//!
//! ```text
//! pending ──approve──▶ approved ──activate / start──▶ active ──complete──▶ completed
//!    │  └─cancel──▶ cancelled          │                 ├─expire──▶ expired
//!    └─reject──▶ rejected              └──revoke─────────┴─revoke──▶ revoked
//! ```
//! Every state change in the server goes through [`apply`]; nothing writes a status directly.

use crate::acl::command::CommandPattern;
use crate::audit::AuditAction;
use crate::error::FieldError;
use crate::scope::format_scopes;
use crate::work_session::{
    Adjustments, CreateWorkSession, MAX_PURPOSE_LEN, MAX_REASON_LEN, MAX_SERVERS_PER_SESSION,
    MAX_SUDO_COMMANDS, MAX_SUDO_COMMAND_LEN, MAX_TUNNEL_PORTS,
};
use crate::{Role, Scope, Status, UserRef, WorkSession};
use chrono::{DateTime, Duration, Utc};

/// Who asks for a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in person.
    User { user: UserRef, role: Role },
    /// The server's scheduler (start times and expiry).
    System,
}

impl Actor {
    pub fn user(&self) -> Option<(&UserRef, Role)> {
        match self {
            Actor::User { user, role } => Some((user, *role)),
            Actor::System => None,
        }
    }

    pub fn is_superuser(&self) -> bool {
        matches!(self.user(), Some((_, Role::Superuser)))
    }
}

/// How `extend` moves the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtendBy {
    /// Push the expiry back by this many seconds.
    Seconds(i64),
    /// Move the expiry to this moment (later than the current one).
    Until(DateTime<Utc>),
}

/// A requested change of state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A superuser's own request, approved as it is made.
    AutoApprove,
    /// A superuser decides; may narrow scopes, servers (names), root commands and tunnel
    /// ports, never widen.
    Approve {
        scopes: Option<Vec<Scope>>,
        servers: Option<Vec<String>>,
        sudo_commands: Option<Vec<String>>,
        tunnel_ports: Option<Vec<u16>>,
        reason: Option<String>,
    },
    Reject {
        reason: Option<String>,
    },
    Revoke {
        reason: Option<String>,
    },
    /// The requester withdraws a pending request.
    Cancel,
    /// The assignee starts an approved session.
    Activate,
    Complete,
    Extend(ExtendBy),
    /// The scheduler reached `starts_at`.
    Start,
    /// The scheduler reached `expires_at`.
    Expire,
    /// The assignee's account was disabled: the server ends every session of theirs that is not
    /// finished (pending, approved or active), as revoked with this reason.
    AccountDisabled {
        reason: String,
    },
}

impl Action {
    /// The audit action that records this transition.
    pub fn audit_action(&self) -> AuditAction {
        match self {
            Action::AutoApprove | Action::Approve { .. } => AuditAction::WorkSessionApproved,
            Action::Reject { .. } => AuditAction::WorkSessionRejected,
            Action::Revoke { .. } => AuditAction::WorkSessionRevoked,
            Action::Cancel => AuditAction::WorkSessionCancelled,
            Action::Activate | Action::Start => AuditAction::WorkSessionActivated,
            Action::Complete => AuditAction::WorkSessionCompleted,
            Action::Extend(_) => AuditAction::WorkSessionExtended,
            Action::Expire => AuditAction::WorkSessionExpired,
            Action::AccountDisabled { .. } => AuditAction::WorkSessionRevoked,
        }
    }

    fn verb(&self) -> &'static str {
        match self {
            Action::AutoApprove | Action::Approve { .. } => "approve",
            Action::Reject { .. } => "reject",
            Action::Revoke { .. } => "revoke",
            Action::Cancel => "cancel",
            Action::Activate | Action::Start => "activate",
            Action::Complete => "complete",
            Action::Extend(_) => "extend",
            Action::Expire => "expire",
            Action::AccountDisabled { .. } => "end for a disabled account",
        }
    }
}

/// Workspace settings the lifecycle depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The longest window a session may have, counted from its start.
    pub max_duration_secs: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_duration_secs: 24 * 3600,
        }
    }
}

/// The shortest window a request may ask for.
pub const MIN_DURATION_SECS: i64 = 60;

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The actor may not do this to this session (wrong role, not their session, own request).
    #[error("{0}")]
    NotPermitted(String),
    /// The session's status does not allow the action.
    #[error("cannot {action} a work session that is {from}")]
    InvalidTransition { from: Status, action: &'static str },
    /// The session's state does not allow it yet or any more (before `starts_at`, past expiry).
    #[error("{0}")]
    Untimely(String),
    /// The request itself is malformed (widening, empty result, window too long).
    #[error("{message}")]
    Invalid { field: String, message: String },
}

impl Refusal {
    fn invalid(field: &str, message: impl Into<String>) -> Self {
        Refusal::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Applies `action` by `actor` to `session` at `now`. Returns the new session or why not.
pub fn apply(
    session: &WorkSession,
    actor: &Actor,
    action: &Action,
    now: DateTime<Utc>,
    policy: &Policy,
) -> Result<WorkSession, Refusal> {
    let from = session.status;
    let wrong_state = || Refusal::InvalidTransition {
        from,
        action: action.verb(),
    };
    if from.is_terminal() {
        return Err(wrong_state());
    }
    let mut next = session.clone();
    match action {
        Action::AutoApprove => {
            let (user, role) = actor.user().ok_or_else(|| not_permitted("auto-approve"))?;
            if role != Role::Superuser || !session.is_requested_by(user.id) {
                return Err(Refusal::NotPermitted(
                    "only a superuser's own request is approved automatically".into(),
                ));
            }
            require(from == Status::Pending, wrong_state)?;
            next.status = Status::Approved;
            next.approved_by = Some(user.clone());
            next.decided_at = Some(now);
            next.decision_reason = Some("approved automatically: requested by a superuser".into());
        }
        Action::Approve {
            scopes,
            servers,
            sudo_commands,
            tunnel_ports,
            reason,
        } => {
            let approver = decider(actor, session, "approve")?;
            require(from == Status::Pending, wrong_state)?;
            check_reason(reason)?;
            let mut adjustments = Adjustments::default();
            if let Some(keep) = scopes {
                adjustments.scopes_removed = narrow_scopes(&mut next.scopes, keep)?;
            }
            if let Some(keep) = servers {
                adjustments.servers_removed = narrow_servers(&mut next, keep)?;
            }
            if let Some(keep) = sudo_commands {
                adjustments.sudo_commands_removed = narrow_list(
                    &mut next.sudo_commands,
                    keep,
                    "sudo_commands",
                    "root command",
                )?;
            }
            if let Some(keep) = tunnel_ports {
                adjustments.tunnel_ports_removed =
                    narrow_list(&mut next.tunnel_ports, keep, "tunnel_ports", "tunnel port")?;
            }
            next.status = Status::Approved;
            next.approved_by = Some(approver.clone());
            next.decided_at = Some(now);
            next.decision_reason = reason.clone();
            next.adjustments = (!adjustments.is_empty()).then_some(adjustments);
        }
        Action::Reject { reason } => {
            decider(actor, session, "reject")?;
            require(from == Status::Pending, wrong_state)?;
            check_reason(reason)?;
            next.status = Status::Rejected;
            next.approved_by = None;
            next.decided_at = Some(now);
            next.decision_reason = reason.clone();
            next.ended_at = Some(now);
        }
        Action::Revoke { reason } => {
            if !actor.is_superuser() {
                return Err(Refusal::NotPermitted(
                    "only a superuser can revoke a work session".into(),
                ));
            }
            require(
                matches!(from, Status::Approved | Status::Active),
                wrong_state,
            )?;
            check_reason(reason)?;
            next.status = Status::Revoked;
            next.ended_at = Some(now);
            if reason.is_some() {
                next.decision_reason = reason.clone();
            }
        }
        Action::Cancel => {
            let (user, _) = actor.user().ok_or_else(|| not_permitted("cancel"))?;
            if !session.is_requested_by(user.id) {
                return Err(Refusal::NotPermitted(
                    "only the requester can cancel a work session".into(),
                ));
            }
            require(from == Status::Pending, wrong_state)?;
            next.status = Status::Cancelled;
            next.ended_at = Some(now);
        }
        Action::Activate => {
            let (user, _) = actor.user().ok_or_else(|| not_permitted("activate"))?;
            if session.assignee.id != user.id {
                return Err(Refusal::NotPermitted(
                    "only the assignee can activate a work session".into(),
                ));
            }
            require(from == Status::Approved, wrong_state)?;
            if let Some(starts_at) = session.starts_at {
                if starts_at > now {
                    return Err(Refusal::Untimely(format!(
                        "the work session starts at {}",
                        starts_at.to_rfc3339()
                    )));
                }
            }
            start(&mut next, now)?;
        }
        Action::Start => {
            require(actor == &Actor::System, || not_permitted("start"))?;
            require(from == Status::Approved, wrong_state)?;
            require(session.starts_at.is_some_and(|s| s <= now), wrong_state)?;
            start(&mut next, now)?;
        }
        Action::Complete => {
            let (user, role) = actor.user().ok_or_else(|| not_permitted("complete"))?;
            if session.assignee.id != user.id
                && !session.is_requested_by(user.id)
                && role != Role::Superuser
            {
                return Err(Refusal::NotPermitted(
                    "only the assignee, the requester or a superuser can complete a work session"
                        .into(),
                ));
            }
            require(from == Status::Active, wrong_state)?;
            next.status = Status::Completed;
            next.ended_at = Some(now);
        }
        Action::Extend(by) => {
            let (user, role) = actor.user().ok_or_else(|| not_permitted("extend"))?;
            if session.assignee.id != user.id && role != Role::Superuser {
                return Err(Refusal::NotPermitted(
                    "only the assignee or a superuser can extend a work session".into(),
                ));
            }
            require(
                matches!(from, Status::Approved | Status::Active),
                wrong_state,
            )?;
            extend(&mut next, *by, now, policy)?;
        }
        Action::Expire => {
            require(actor == &Actor::System, || not_permitted("expire"))?;
            require(session.expires_at.is_some_and(|e| e <= now), wrong_state)?;
            next.status = Status::Expired;
            next.ended_at = Some(now);
        }
        Action::AccountDisabled { reason } => {
            require(actor == &Actor::System, || {
                not_permitted("end for a disabled account")
            })?;
            require(
                matches!(from, Status::Pending | Status::Approved | Status::Active),
                wrong_state,
            )?;
            next.status = Status::Revoked;
            next.ended_at = Some(now);
            next.decision_reason = Some(reason.clone());
        }
    }
    Ok(next)
}

fn require(ok: bool, refusal: impl FnOnce() -> Refusal) -> Result<(), Refusal> {
    if ok {
        Ok(())
    } else {
        Err(refusal())
    }
}

fn not_permitted(verb: &str) -> Refusal {
    Refusal::NotPermitted(format!("not permitted to {verb} this work session"))
}

/// Approve and reject: superusers only, and never on a request of their own.
fn decider<'a>(
    actor: &'a Actor,
    session: &WorkSession,
    verb: &str,
) -> Result<&'a UserRef, Refusal> {
    match actor.user() {
        Some((user, Role::Superuser)) => {
            if session.is_requested_by(user.id) || session.assignee.id == user.id {
                Err(Refusal::NotPermitted(format!(
                    "nobody can {verb} a work session they requested or are assigned to"
                )))
            } else {
                Ok(user)
            }
        }
        _ => Err(Refusal::NotPermitted(format!(
            "only a superuser can {verb} a work session"
        ))),
    }
}

fn check_reason(reason: &Option<String>) -> Result<(), Refusal> {
    match reason {
        Some(r) if r.chars().count() > MAX_REASON_LEN => Err(Refusal::invalid(
            "reason",
            format!("at most {MAX_REASON_LEN} characters"),
        )),
        _ => Ok(()),
    }
}

fn narrow_scopes(current: &mut Vec<Scope>, keep: &[Scope]) -> Result<Vec<Scope>, Refusal> {
    if keep.is_empty() {
        return Err(Refusal::invalid(
            "scopes",
            "an approval must keep at least one scope",
        ));
    }
    if let Some(extra) = keep.iter().find(|s| !current.contains(s)) {
        return Err(Refusal::invalid(
            "scopes",
            format!(
                "approval may only narrow: {extra} was not requested (requested {})",
                format_scopes(current)
            ),
        ));
    }
    let removed: Vec<Scope> = current
        .iter()
        .copied()
        .filter(|s| !keep.contains(s))
        .collect();
    current.retain(|s| keep.contains(s));
    Ok(removed)
}

fn narrow_servers(next: &mut WorkSession, keep: &[String]) -> Result<Vec<String>, Refusal> {
    if keep.is_empty() {
        return Err(Refusal::invalid(
            "servers",
            "an approval must keep at least one server",
        ));
    }
    if let Some(extra) = keep.iter().find(|name| !next.has_server(name)) {
        return Err(Refusal::invalid(
            "servers",
            format!("approval may only narrow: server {extra} was not requested"),
        ));
    }
    let removed: Vec<String> = next
        .servers
        .iter()
        .filter(|s| !keep.contains(&s.name))
        .map(|s| s.name.clone())
        .collect();
    next.servers.retain(|s| keep.contains(&s.name));
    Ok(removed)
}

/// Narrows a declared list (root commands, tunnel ports) to `keep`: only what was requested,
/// and at least one (an empty list would mean "no limit", which widens). Returns what went.
fn narrow_list<T: PartialEq + Clone + std::fmt::Display>(
    current: &mut Vec<T>,
    keep: &[T],
    field: &str,
    what: &str,
) -> Result<Vec<T>, Refusal> {
    if let Some(extra) = keep.iter().find(|k| !current.contains(k)) {
        return Err(Refusal::invalid(
            field,
            format!("approval may only narrow: {what} {extra} was not requested"),
        ));
    }
    if keep.is_empty() && !current.is_empty() {
        return Err(Refusal::invalid(
            field,
            format!(
                "an approval must keep at least one {what} (an empty list would lift the limit); \
                 narrow the scopes instead"
            ),
        ));
    }
    let removed: Vec<T> = current
        .iter()
        .filter(|c| !keep.contains(c))
        .cloned()
        .collect();
    current.retain(|c| keep.contains(c));
    Ok(removed)
}

/// approved → active: fixes the expiry of a duration-based window, or expires a stale one.
fn start(next: &mut WorkSession, now: DateTime<Utc>) -> Result<(), Refusal> {
    if next.expires_at.is_some_and(|e| e <= now) {
        return Err(Refusal::Untimely(
            "the work session's window has already passed".into(),
        ));
    }
    next.status = Status::Active;
    next.activated_at = Some(now);
    if next.expires_at.is_none() {
        let secs = next.duration_secs.unwrap_or(MIN_DURATION_SECS);
        next.expires_at = Some(
            add_secs(now, secs)
                .ok_or_else(|| Refusal::invalid("duration_secs", "the window is out of range"))?,
        );
    }
    Ok(())
}

/// `at + secs`, or `None` when out of range (hostile input must not panic).
fn add_secs(at: DateTime<Utc>, secs: i64) -> Option<DateTime<Utc>> {
    Duration::try_seconds(secs).and_then(|d| at.checked_add_signed(d))
}

fn extend(
    next: &mut WorkSession,
    by: ExtendBy,
    now: DateTime<Utc>,
    policy: &Policy,
) -> Result<(), Refusal> {
    let too_long = || {
        Refusal::invalid(
            "duration_secs",
            format!(
                "the window would exceed the workspace maximum of {} seconds",
                policy.max_duration_secs
            ),
        )
    };
    match (next.expires_at, by) {
        // Not yet activated, duration-based: lengthen the duration.
        (None, ExtendBy::Seconds(secs)) => {
            if secs <= 0 {
                return Err(Refusal::invalid("duration_secs", "must be positive"));
            }
            let total = next.duration_secs.unwrap_or(0).saturating_add(secs);
            require(total <= policy.max_duration_secs, too_long)?;
            next.duration_secs = Some(total);
        }
        (None, ExtendBy::Until(_)) => {
            return Err(Refusal::invalid(
                "expires_at",
                "this session's window starts at activation; extend it by duration_secs",
            ));
        }
        (Some(current), by) => {
            let until = match by {
                ExtendBy::Seconds(secs) if secs > 0 => {
                    add_secs(current, secs).ok_or_else(too_long)?
                }
                ExtendBy::Seconds(_) => {
                    return Err(Refusal::invalid("duration_secs", "must be positive"));
                }
                ExtendBy::Until(until) => until,
            };
            if until <= current || until <= now {
                return Err(Refusal::invalid(
                    "expires_at",
                    "extend must move the expiry later",
                ));
            }
            let window_start = next
                .activated_at
                .or(next.starts_at)
                .unwrap_or(next.created_at);
            require(
                (until - window_start).num_seconds() <= policy.max_duration_secs,
                too_long,
            )?;
            next.expires_at = Some(until);
            if let Some(start) = next.activated_at {
                next.duration_secs = Some((until - start).num_seconds());
            }
        }
    }
    Ok(())
}

/// How far in the past a requested start may lie (clock skew), in seconds.
pub const PAST_START_SKEW_SECS: i64 = 60;

/// Checks a new request's fields; every problem is reported at its field.
pub fn validate_request(
    req: &CreateWorkSession,
    now: DateTime<Utc>,
    policy: &Policy,
) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut err = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.into(),
            message,
        })
    };
    let purpose = req.purpose.trim();
    if purpose.is_empty() {
        err("purpose", "declare what you intend to do".into());
    } else if purpose.chars().count() > MAX_PURPOSE_LEN {
        err("purpose", format!("at most {MAX_PURPOSE_LEN} characters"));
    }
    if req.scopes.is_empty() {
        err("scopes", "ask for at least one scope".into());
    }
    if req.servers.is_empty() {
        err("servers", "name at least one server".into());
    } else if req.servers.len() > MAX_SERVERS_PER_SESSION {
        err(
            "servers",
            format!("at most {MAX_SERVERS_PER_SESSION} servers per session"),
        );
    }
    if req.sudo_commands.len() > MAX_SUDO_COMMANDS {
        err(
            "sudo_commands",
            format!("at most {MAX_SUDO_COMMANDS} root commands per session"),
        );
    }
    for pattern in &req.sudo_commands {
        if pattern.chars().count() > MAX_SUDO_COMMAND_LEN {
            err(
                "sudo_commands",
                format!("each root command is at most {MAX_SUDO_COMMAND_LEN} characters"),
            );
        } else if let Err(e) = CommandPattern::parse(pattern) {
            err("sudo_commands", format!("{pattern:?}: {e}"));
        }
    }
    if req.tunnel_ports.len() > MAX_TUNNEL_PORTS {
        err(
            "tunnel_ports",
            format!("at most {MAX_TUNNEL_PORTS} tunnel ports per session"),
        );
    }
    if req.tunnel_ports.contains(&0) {
        err("tunnel_ports", "ports are 1 to 65535".into());
    }
    let max = policy.max_duration_secs;
    let start = req.starts_at.map_or(now, |s| s.max(now));
    match (req.expires_at, req.duration_secs) {
        (Some(_), Some(_)) => err(
            "duration_secs",
            "give either expires_at or duration_secs, not both".into(),
        ),
        (None, None) => err(
            "duration_secs",
            "give a window: expires_at or duration_secs".into(),
        ),
        (None, Some(secs)) => {
            if !(MIN_DURATION_SECS..=max).contains(&secs) {
                err(
                    "duration_secs",
                    format!("must be between {MIN_DURATION_SECS} and {max} seconds"),
                );
            }
        }
        (Some(expires_at), None) => {
            if expires_at <= start {
                err(
                    "expires_at",
                    "must be in the future and after starts_at".into(),
                );
            } else if (expires_at - start).num_seconds() > max {
                err(
                    "expires_at",
                    format!("the window may be at most {max} seconds long"),
                );
            }
        }
    }
    if let Some(starts_at) = req.starts_at {
        if (starts_at - now).num_seconds() > 30 * 24 * 3600 {
            err("starts_at", "must be within the next 30 days".into());
        }
        // A start in the past is refused, not silently moved to now: the requester meant a
        // time that has gone (a minute of clock skew between browser and server is allowed).
        if (now - starts_at).num_seconds() > PAST_START_SKEW_SECS {
            err(
                "starts_at",
                "is in the past; leave it empty to start when approved".into(),
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
