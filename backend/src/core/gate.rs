//! The gate as the server applies it: the one path from a request (or a re-attach) to the pure
//! decision in `shared`, which audits every denial in one shape and hands back a [`GatePass`].
//!
//! Every channel open on an agent link takes a pass by value, and only [`check`] makes one, so
//! "the gate ran before this channel" is a rule the compiler keeps.

use crate::core::audit::{self, DENIED};
use crate::core::runas::RunAs;
use crate::core::state::AppState;
use crate::core::token_acl::TokenAccess;
use crate::store::servers::{self, ServerRow};
use crate::time::now;
use gatehouse_shared::acl::Decision;
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::gate::{self, GateDenial, Operation, Principal};
use gatehouse_shared::{Scope, TokenId, WorkSession};
use std::sync::Arc;

/// Who asks the gate: the principal it decides for, and the name the audit log shows (a guest
/// asks as the terminal's owner but is named as the guest).
#[derive(Debug, Clone, Copy)]
pub struct Asker<'a> {
    pub principal: Principal,
    pub actor: &'a str,
    /// The API token it asks with, whose ACLs decide instead of a work session.
    pub token: Option<TokenId>,
}

/// What a denial's audit row says besides the decision: where it happened.
#[derive(Debug, Default)]
pub struct DenialNote {
    /// `POST /api/gate/check` asked, not an operation.
    pub preflight: bool,
    /// The terminal a viewer tried to attach to, and as what.
    pub attach: Option<(uuid::Uuid, &'static str)>,
    /// The command job whose stream its owner tried to attach to.
    pub attach_exec: Option<uuid::Uuid>,
}

/// Proof that the gate allowed one operation: the session it rode on, the server, the scope,
/// the run-as user and whether root is allowed. Not `Clone`: each channel open consumes one.
#[derive(Debug)]
pub struct GatePass {
    /// Shared, not copied: a fan-out takes a pass per server, all riding on one session.
    session: Option<Arc<WorkSession>>,
    server: String,
    scope: Scope,
    run_as: RunAs,
    allow_root: bool,
    /// The server entry's groups for an account created on first use (only when the
    /// operation runs as the caller's own account, the one an agent may create).
    provision_groups: Vec<String>,
    /// Set when an API token asked: what the agent must also hold it to.
    token: Option<TokenLimits>,
}

/// What an API token's pass carries to the agent, which enforces it again.
#[derive(Debug, Default)]
struct TokenLimits {
    /// The token's file rules that cover this operation (normalised).
    confine: Vec<String>,
}

impl GatePass {
    /// The work session that allowed it (none for an API token).
    pub fn session(&self) -> Option<&WorkSession> {
        self.session.as_deref()
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The account the operation runs as, as sent to the agent (`None`: the agent's own user).
    pub fn run_as(&self) -> Option<&str> {
        self.run_as.name()
    }

    /// The account is the caller's own, which the agent may create on first use.
    pub fn provision(&self) -> bool {
        self.run_as.own
    }

    /// Groups an account the agent creates for this operation joins.
    pub fn provision_groups(&self) -> Vec<String> {
        self.provision_groups.clone()
    }

    /// A token's operation runs with a clean environment and a fixed `PATH`.
    pub fn clean_env(&self) -> bool {
        self.token.is_some()
    }

    /// The file rules the agent re-checks the paths it opens against (tokens only).
    pub fn confine(&self) -> Option<Vec<String>> {
        self.token.as_ref().map(|t| t.confine.clone())
    }

    /// Whether the agent may run this as root (the session grants `sudo`).
    pub fn allow_root(&self) -> bool {
        self.allow_root
    }
}

/// The gate as one request asks it, for one server or for a thousand: what it reads from the
/// store besides the session (the token's ACLs) is read once here, and each server's entry is
/// handed in by the caller, who read them all at once.
pub struct Gate<'a> {
    state: &'a AppState,
    asker: Asker<'a>,
    /// Set when a token asks: its ACLs, or `None` when they cannot be read (then it decides
    /// nothing, so it allows nothing).
    token: Option<Option<TokenAccess>>,
}

impl<'a> Gate<'a> {
    pub async fn new(state: &'a AppState, asker: Asker<'a>) -> Self {
        let token = match (asker.principal.auth_method, asker.token) {
            (method, Some(id)) if method.is_token() => Some(
                TokenAccess::load(state, id)
                    .await
                    .inspect_err(|e| {
                        tracing::warn!(token = %id, error = %e, "cannot read the token's ACLs; denying");
                    })
                    .ok(),
            ),
            _ => None,
        };
        Gate {
            state,
            asker,
            token,
        }
    }

    /// Runs the gate for `op` inside `session` on the server entry `server` (where an account
    /// created on first use takes its groups from); a denial is audited before it returns.
    /// `run_as` is the account decided for the operation (`op.as_root` and `op.as_other` come
    /// from it).
    pub async fn check(
        &self,
        session: Option<Arc<WorkSession>>,
        op: &Operation<'_>,
        run_as: RunAs,
        server: Option<&ServerRow>,
        note: DenialNote,
    ) -> Result<GatePass, Box<GateDenial>> {
        let token = self.token.as_ref().map(|access| match access {
            Some(access) => access.decide(op, &run_as),
            None => (
                Decision {
                    allowed: false,
                    rule: None,
                    reason: "the token's ACLs cannot be read".into(),
                },
                Vec::new(),
            ),
        });
        let token_allows = token.as_ref().is_some_and(|(d, _)| d.allowed);
        let principal = &self.asker.principal;
        match gate::check(op, principal, session.as_deref(), token_allows, now()) {
            Ok(()) => Ok(GatePass {
                // A token acts as root only where a rule named root, which the decision weighed.
                allow_root: match &token {
                    Some(_) => run_as.as_root,
                    None => session.as_ref().is_some_and(|s| s.has_scope(Scope::Sudo)),
                },
                // An entry that cannot be read grants no groups: less, never more.
                provision_groups: match (run_as.own, server) {
                    (true, Some(row)) => row.provision_groups().unwrap_or_default(),
                    _ => Vec::new(),
                },
                token: token.map(|(_, confine)| TokenLimits { confine }),
                session,
                server: op.server.to_owned(),
                scope: op.scope,
                run_as,
            }),
            Err(mut denial) => {
                if let Some((decision, _)) = &token {
                    denial.reason = decision.reason.clone();
                }
                let session = session.as_deref();
                audit_denial(self.state, self.asker, session, op, &denial, note).await;
                Err(denial)
            }
        }
    }
}

/// Runs the gate for one operation, reading what it needs; see [`Gate::check`].
pub async fn check(
    state: &AppState,
    asker: Asker<'_>,
    session: Option<Arc<WorkSession>>,
    op: &Operation<'_>,
    run_as: RunAs,
    note: DenialNote,
) -> Result<GatePass, Box<GateDenial>> {
    let server = if run_as.own {
        servers::by_name(&state.db, state.workspace, op.server)
            .await
            .inspect_err(|e| {
                tracing::warn!(server = %op.server, error = %e, "cannot read the server's provisioning groups");
            })
            .ok()
            .flatten()
    } else {
        None
    };
    Gate::new(state, asker)
        .await
        .check(session, op, run_as, server.as_ref(), note)
        .await
}

async fn audit_denial(
    state: &AppState,
    asker: Asker<'_>,
    session: Option<&WorkSession>,
    op: &Operation<'_>,
    denial: &GateDenial,
    note: DenialNote,
) {
    let mut details = serde_json::json!({
        "error_code": denial.code,
        "scope": op.scope,
        "as_root": op.as_root,
        "as_other": op.as_other,
        "reason": denial.reason,
        "preflight": note.preflight,
    });
    if let Some((websh, attach_as)) = note.attach {
        details["websh"] = websh.to_string().into();
        details["attach"] = true.into();
        details["as"] = attach_as.into();
    }
    if let Some(job) = note.attach_exec {
        details["exec"] = job.to_string().into();
        details["attach"] = true.into();
    }
    let mut event = audit::event(AuditAction::GateDenied, DENIED)
        .actor(asker.actor)
        .server(op.server)
        .details(details);
    // Only the asker's own session gets the denial on its timeline.
    if let Some(session) = session.filter(|s| s.assignee.id == asker.principal.user_id) {
        event = event
            .work_session(session.id)
            .target(session.id.to_string());
    }
    // A denial changes nothing: if it cannot be audited, `record_event` logs that, and the
    // refusal stands either way.
    let _ = audit::record_event(state, event).await;
}
