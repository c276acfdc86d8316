//! The gate: one pure decision for every gated operation (docs/design.md, "Work sessions").
//!
//! The server calls [`check`] when websh opens, for each exec, each file operation, each tunnel,
//! editor load/save, and again on every re-attach. The console and CLI only mirror it.

use crate::error::{ErrorCode, ErrorEnvelope};
use crate::scope::format_scopes;
use crate::work_session::Unusable;
use crate::{Scope, Status, UserId, WorkSession, WorkSessionId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How the caller signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// Browser sign-in with password (and TOTP): needs a work session.
    Password,
    /// A `gate` CLI sign-in (password or device sign-in, `ghs_` bearer): a person at a
    /// terminal, so exactly as interactive as the browser: it needs a work session.
    Cli,
    /// A person's API token: bypasses work sessions, bounded by the token's ACLs.
    ApiToken,
    /// A service account's token (`ghst_`): like an API token, with no person behind it.
    ServiceToken,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Password => "password",
            AuthMethod::Cli => "cli",
            AuthMethod::ApiToken => "api_token",
            AuthMethod::ServiceToken => "service_token",
        }
    }

    /// Automation: no work session, bounded by token ACLs, never a step-up code.
    pub fn is_token(self) -> bool {
        matches!(self, AuthMethod::ApiToken | AuthMethod::ServiceToken)
    }

    /// A person signed in (browser or CLI): needs work sessions, may be asked for a code.
    pub fn is_interactive(self) -> bool {
        !self.is_token()
    }
}

/// Whether a run-as name means root: `root`, or uid 0 written as `0` or `#0`.
/// (The agent also refuses uid 0 unless the gate allowed root, whatever the name.)
pub fn runs_as_root(user: Option<&str>) -> bool {
    matches!(user.map(str::trim), Some("root" | "0" | "#0"))
}

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub auth_method: AuthMethod,
}

/// What is asked for: a scope on a server, and whether it runs as root or as an account that is
/// neither the caller's own nor one their groups grant there (either also needs `sudo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation<'a> {
    pub scope: Scope,
    pub server: &'a str,
    pub as_root: bool,
    pub as_other: bool,
    /// What an API token's ACLs weigh besides scope and server; work sessions ignore it.
    pub detail: Detail<'a>,
}

/// The particulars of an operation that token ACLs decide on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Detail<'a> {
    /// Not given (a pre-flight check, or a terminal, which needs nothing more).
    #[default]
    None,
    /// The program and its arguments.
    Argv(&'a [String]),
    /// A command line that cannot become an argv safely; the reason.
    Unsplittable(&'a str),
    /// Every path the operation touches, and what it does to them.
    Files {
        action: crate::acl::FileAction,
        paths: &'a [&'a str],
    },
    Tunnel {
        host: &'a str,
        port: u16,
    },
}

impl<'a> Operation<'a> {
    /// The same operation with the particulars token ACLs decide on.
    pub fn with_detail(self, detail: Detail<'a>) -> Self {
        Self { detail, ..self }
    }

    /// Whether this needs the `sudo` scope besides its own.
    pub fn needs_sudo(&self) -> bool {
        (self.as_root || self.as_other) && self.scope != Scope::Sudo
    }
}

/// The facts a denial carries so a person, the CLI or an AI agent can act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GateContext {
    pub auth_method: AuthMethod,
    pub required_scope: Scope,
    pub target_servers: Vec<String>,
    pub current_work_session: Option<WorkSessionId>,
}

/// A refusal by the gate; converts into the 403 error envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateDenial {
    pub code: ErrorCode,
    pub message: String,
    pub reason: String,
    pub context: GateContext,
    pub next_actions: Vec<String>,
}

impl From<GateDenial> for ErrorEnvelope {
    fn from(d: GateDenial) -> Self {
        let mut envelope = ErrorEnvelope::new(d.code, d.message).with_reason(d.reason);
        envelope.context = Some(d.context);
        envelope.next_actions = d.next_actions;
        envelope
    }
}

/// Decides whether `principal` may perform `op` inside `session` at `now`.
///
/// API tokens bypass work sessions but are denied by default: `token_allows` is the verdict of the
/// token's ACLs (none exist yet, so callers pass `false`).
pub fn check(
    op: &Operation<'_>,
    principal: &Principal,
    session: Option<&WorkSession>,
    token_allows: bool,
    now: DateTime<Utc>,
) -> Result<(), Box<GateDenial>> {
    let required = op.needs_sudo().then_some(Scope::Sudo);
    if principal.auth_method.is_token() {
        return if token_allows {
            Ok(())
        } else {
            Err(deny(
                op,
                principal,
                None,
                ErrorCode::TokenAclDenied,
                format!(
                    "the {} operation on {} is not allowed by this API token's ACLs",
                    op.scope, op.server
                ),
                "API tokens are denied by default; no ACL grants this operation".into(),
                vec!["ask staff to grant the token an ACL for this server and scope".into()],
            ))
        };
    }
    let Some(session) = session else {
        return Err(deny(
            op,
            principal,
            None,
            ErrorCode::WorkSessionRequired,
            format!(
                "the {} operation requires an active work session that includes the {} scope",
                op.scope, op.scope
            ),
            "no work session is selected".into(),
            vec![create_command(op)],
        ));
    };
    let id = session.id;
    let fail = |code, message: String, reason: String, next: Vec<String>| {
        Err(deny(
            op,
            principal,
            Some(session),
            code,
            message,
            reason,
            next,
        ))
    };
    if session.assignee.id != principal.user_id {
        return fail(
            ErrorCode::WorkSessionAssigneeMismatch,
            "the selected work session belongs to someone else".into(),
            // Never name the other user: the caller may not even be allowed to see the session.
            format!("session {id} is assigned to another user"),
            vec![crate::next_action::list_my_sessions(), create_command(op)],
        );
    }
    match session.usable_at(now) {
        Ok(()) => {}
        Err(Unusable::Expired) => {
            return fail(
                ErrorCode::WorkSessionExpired,
                "the selected work session has expired".into(),
                match session.expires_at {
                    Some(at) => format!("session {id} expired at {}", at.to_rfc3339()),
                    None => format!("session {id} has expired"),
                },
                vec![create_command(op)],
            );
        }
        Err(Unusable::NotActiveYet) => {
            let next = if session.status == Status::Pending {
                crate::next_action::describe_session(id)
            } else {
                crate::next_action::activate_session(id)
            };
            return fail(
                ErrorCode::WorkSessionNotActive,
                "the selected work session is not active yet".into(),
                format!("session {id} is {}", session.status),
                vec![next],
            );
        }
        Err(Unusable::Ended) => {
            return fail(
                ErrorCode::WorkSessionNotUsable,
                "the selected work session can no longer be used".into(),
                format!("session {id} is {}", session.status),
                vec![create_command(op)],
            );
        }
    }
    for scope in std::iter::once(op.scope).chain(required) {
        if !session.has_scope(scope) {
            return fail(
                ErrorCode::WorkSessionScopeNotAllowed,
                format!(
                    "the {} operation requires an active work session that includes the {scope} scope",
                    op.scope
                ),
                format!("session {id} has scopes {}", format_scopes(&session.scopes)),
                vec![create_command(op)],
            );
        }
    }
    if !session.has_server(op.server) {
        let names: Vec<&str> = session.servers.iter().map(|s| s.name.as_str()).collect();
        return fail(
            ErrorCode::WorkSessionServerNotAllowed,
            format!(
                "server {} is not part of the selected work session",
                op.server
            ),
            format!("session {id} covers servers [{}]", names.join(", ")),
            vec![create_command(op)],
        );
    }
    Ok(())
}

fn deny(
    op: &Operation<'_>,
    principal: &Principal,
    session: Option<&WorkSession>,
    code: ErrorCode,
    message: String,
    reason: String,
    next_actions: Vec<String>,
) -> Box<GateDenial> {
    Box::new(GateDenial {
        code,
        message,
        reason,
        context: GateContext {
            auth_method: principal.auth_method,
            required_scope: op.scope,
            target_servers: vec![op.server.to_owned()],
            current_work_session: session.map(|s| s.id),
        },
        next_actions,
    })
}

/// The CLI command that would request a session allowing `op`.
fn create_command(op: &Operation<'_>) -> String {
    crate::next_action::create_session(op.scope, op.needs_sudo(), false, op.server)
}
