//! The gate as the server applies it: the one path from a request (or a re-attach) to the pure
//! decision in `shared`, which audits every denial in one shape and hands back a [`GatePass`].
//!
//! Every channel open on an agent link takes a pass by value, and only [`check`] makes one, so
//! "the gate ran before this channel" is a rule the compiler keeps.

use crate::core::audit::{self, DENIED};
use crate::core::runas::RunAs;
use crate::core::state::AppState;
use crate::core::token_acl::TokenAccess;
use crate::store::servers;
use crate::time::now;
use gatehouse_shared::acl::Decision;
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::gate::{self, GateDenial, Operation, Principal};
use gatehouse_shared::{Scope, TokenId, WorkSession};

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
    session: Option<WorkSession>,
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
        self.session.as_ref()
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

/// Runs the gate for `op` as `asker` inside `session`; a denial is audited before it returns.
/// `run_as` is the account decided for the operation (`op.as_root` and `op.as_other` come
/// from it).
pub async fn check(
    state: &AppState,
    asker: Asker<'_>,
    session: Option<WorkSession>,
    op: &Operation<'_>,
    run_as: RunAs,
    note: DenialNote,
) -> Result<GatePass, Box<GateDenial>> {
    let token = match (asker.principal.auth_method, asker.token) {
        (method, Some(id)) if method.is_token() => {
            Some(token_decision(state, id, op, &run_as).await)
        }
        _ => None,
    };
    let token_allows = token.as_ref().is_some_and(|(d, _)| d.allowed);
    match gate::check(op, &asker.principal, session.as_ref(), token_allows, now()) {
        Ok(()) => Ok(GatePass {
            // A token acts as root only where a rule named root, which the decision weighed.
            allow_root: match &token {
                Some(_) => run_as.as_root,
                None => session.as_ref().is_some_and(|s| s.has_scope(Scope::Sudo)),
            },
            provision_groups: if run_as.own {
                provision_groups(state, op.server).await
            } else {
                Vec::new()
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
            audit_denial(state, asker, session.as_ref(), op, &denial, note).await;
            Err(denial)
        }
    }
}

/// The token's ACL decision for `op`; a token that cannot be read decides nothing.
async fn token_decision(
    state: &AppState,
    id: TokenId,
    op: &Operation<'_>,
    run_as: &RunAs,
) -> (Decision, Vec<String>) {
    match TokenAccess::load(state, id).await {
        Ok(access) => access.decide(op, run_as),
        Err(e) => {
            tracing::warn!(token = %id, error = %e, "cannot read the token's ACLs; denying");
            (
                Decision {
                    allowed: false,
                    rule: None,
                    reason: "the token's ACLs cannot be read".into(),
                },
                Vec::new(),
            )
        }
    }
}

/// The server entry's groups for provisioned accounts; none when it cannot be read (the account
/// is then created without them, which grants less, never more).
async fn provision_groups(state: &AppState, server: &str) -> Vec<String> {
    match servers::by_name(&state.db, state.workspace, server).await {
        Ok(Some(row)) => row.provision_groups().unwrap_or_default(),
        Ok(None) => Vec::new(),
        Err(e) => {
            tracing::warn!(%server, error = %e, "cannot read the server's provisioning groups");
            Vec::new()
        }
    }
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
