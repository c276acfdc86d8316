//! Tunnels as the server decides and records them: the policy beyond the gate (the session's
//! declared `tunnel_ports`, the server entry's `tunnel_allow`; the agent's own `--tunnel-allow`
//! is the third line, on the agent), opening (row and audit event in one write), ending (once,
//! audited, pushed to the carrier), and the sessions and tokens whose end ends them.

use crate::core::audit::{self, DENIED, SUCCESS};
use crate::core::gate::Asker;
use crate::core::gateway::tunnel::{LiveTunnel, TunnelEnd};
use crate::core::gateway::watcher;
use crate::core::runas::RunAs;
use crate::core::state::AppState;
use crate::core::token_acl::TokenAccess;
use crate::core::CoreError;
use crate::store::servers::{self, ServerRow};
use crate::store::tunnels::{self, NewTunnel, Totals};
use crate::store::websh::Authority;
use crate::store::{parse_id, users, StoreError, WriteTx};
use crate::time::{from_micros, now};
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::gate::{Detail, GateContext, GateDenial, Operation};
use gatehouse_shared::tunnel::{self, close};
use gatehouse_shared::websh::EndReason;
use gatehouse_shared::{ErrorCode, Scope, ServerId, TokenId, UserRef, WorkSession, WorkSessionId};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use uuid::Uuid;

/// A tunnel runs as no account on the server: the agent itself connects.
pub fn run_as() -> RunAs {
    RunAs {
        user: None,
        as_root: false,
        as_other: false,
        own: false,
    }
}

/// The gate's operation for a tunnel to `host:port` on `server`.
pub fn operation<'a>(server: &'a str, host: &'a str, port: u16) -> Operation<'a> {
    run_as()
        .operation(Scope::Tunnel, server)
        .with_detail(Detail::Tunnel { host, port })
}

/// Why the policy beyond the gate refuses `host:port`, if it does.
pub fn refusal(
    session: Option<&WorkSession>,
    server: &ServerRow,
    host: &str,
    port: u16,
) -> Result<Option<String>, StoreError> {
    if let Some(session) = session {
        if !session.tunnel_ports.is_empty() && !session.tunnel_ports.contains(&port) {
            return Ok(Some(format!(
                "port {port} is not among the work session's tunnel ports {:?}",
                session.tunnel_ports
            )));
        }
    }
    let texts = server.tunnel_allow()?;
    // Rules were checked when staff set them; one that no longer parses allows nothing.
    let rules: Vec<_> = texts
        .iter()
        .filter_map(|t| tunnel::parse_rule(t).ok())
        .collect();
    if !tunnel::allows(&rules, host, port) {
        return Ok(Some(format!(
            "{host}:{port} is not in the tunnel_allow list of server {} ({})",
            server.name,
            texts.join(", ")
        )));
    }
    Ok(None)
}

/// The refusal as a gate denial (403, exit 3 in the CLI), audited like every gate denial.
pub async fn deny(
    state: &AppState,
    asker: Asker<'_>,
    session: Option<&WorkSession>,
    server: &str,
    port: u16,
    reason: String,
) -> Box<GateDenial> {
    let denial = GateDenial {
        code: ErrorCode::TunnelNotAllowed,
        message: format!("a tunnel to port {port} on {server} is not allowed"),
        reason,
        context: GateContext {
            auth_method: asker.principal.auth_method,
            required_scope: Scope::Tunnel,
            target_servers: vec![server.to_owned()],
            current_work_session: session.map(|s| s.id),
        },
        next_actions: vec![gatehouse_shared::next_action::create_tunnel_session(
            server, port,
        )],
    };
    let mut event = audit::event(AuditAction::GateDenied, DENIED)
        .actor(asker.actor)
        .server(server)
        .details(serde_json::json!({
            "error_code": denial.code,
            "scope": Scope::Tunnel,
            "reason": denial.reason,
            "port": port,
        }));
    if let Some(session) = session.filter(|s| s.assignee.id == asker.principal.user_id) {
        event = event
            .work_session(session.id)
            .target(session.id.to_string());
    }
    let _ = audit::record_event(state, event).await;
    Box::new(denial)
}

/// What a new tunnel is.
pub struct Opening<'a> {
    pub owner: UserRef,
    pub authority: Authority,
    pub server: &'a ServerRow,
    pub server_id: ServerId,
    pub host: &'a str,
    pub port: u16,
}

/// Records a new tunnel and its `tunnel.opened` event together, and makes it live.
pub async fn open(state: &AppState, o: Opening<'_>) -> Result<Arc<LiveTunnel>, CoreError> {
    let id = Uuid::new_v4();
    let at = now();
    let mut tx = WriteTx::begin(&state.db, state.workspace, at).await?;
    tunnels::insert(
        &mut tx,
        &NewTunnel {
            id,
            owner: o.owner.id,
            authority: o.authority,
            server_id: o.server_id,
            remote_host: o.host,
            remote_port: o.port,
        },
    )
    .await?;
    tx.commit(
        audit::event(AuditAction::TunnelOpened, SUCCESS)
            .actor(&o.owner.username)
            .target(id.to_string())
            .server(&o.server.name)
            .in_session(o.authority.work_session())
            .details(serde_json::json!({
                "tunnel": id, "remote_host": o.host, "remote_port": o.port,
            })),
    )
    .await?;
    let live = LiveTunnel::new(
        id,
        o.owner,
        o.authority.token(),
        o.authority.work_session(),
        o.server_id,
        o.server.name.clone(),
        o.host.to_owned(),
        o.port,
        at,
    );
    state.hub.tunnels.add(live.clone());
    Ok(live)
}

/// The live tunnel `id`, brought back from the store after a restart if it never ended.
pub async fn live(state: &AppState, id: Uuid) -> Result<Option<Arc<LiveTunnel>>, CoreError> {
    if let Some(t) = state.hub.tunnels.get(id) {
        return Ok(Some(t));
    }
    let Some(row) = tunnels::get(&state.db, state.workspace, id).await? else {
        return Ok(None);
    };
    if row.ended_at.is_some() {
        return Ok(None);
    }
    let owner_id = parse_id(&row.owner_id)?;
    let server_id: ServerId = parse_id(&row.server_id)?;
    let (Some(owner), Some(server)) = (
        users::by_id(&state.db, state.workspace, owner_id).await?,
        servers::by_id(&state.db, state.workspace, server_id).await?,
    ) else {
        return Ok(None);
    };
    let token: Option<TokenId> = row.token_id.as_deref().map(parse_id).transpose()?;
    let session: Option<WorkSessionId> =
        row.work_session_id.as_deref().map(parse_id).transpose()?;
    let live = LiveTunnel::new(
        id,
        UserRef {
            id: owner_id,
            username: owner.username,
        },
        token,
        session,
        server_id,
        server.name,
        row.remote_host,
        u16::try_from(row.remote_port).unwrap_or(0),
        from_micros(row.created_at),
    );
    // Two restores racing: the first registered wins.
    Ok(Some(match state.hub.tunnels.get(id) {
        Some(t) => t,
        None => {
            state.hub.tunnels.add(live.clone());
            live
        }
    }))
}

/// After a restart: every tunnel that never ended is live again, listed and swept like any
/// other, so one whose client never comes back ends after [`ABANDONED`] (and one whose session
/// ended meanwhile, at the next sweep) rather than staying open in the store for ever.
pub async fn restore_unended(state: &AppState) {
    let ids = match tunnels::unended(&state.db, state.workspace).await {
        Ok(ids) => ids,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the tunnels left open before the restart");
            return;
        }
    };
    for id in ids {
        if let Err(e) = live(state, id).await {
            tracing::warn!(tunnel = %id, error = %e, "cannot restore a tunnel");
        }
    }
}

/// Ends `tunnel` (once): its carrier is told and closed, its row and `tunnel.closed` event
/// written together.
pub async fn end(state: &AppState, tunnel: &Arc<LiveTunnel>, code: u16, reason: &str, by: &str) {
    state.hub.tunnels.remove(tunnel.id);
    if !tunnel.end(TunnelEnd {
        code,
        reason: reason.to_owned(),
    }) {
        return;
    }
    let s = &tunnel.stats;
    let totals = Totals {
        connections: s.total.load(Ordering::Relaxed),
        bytes_up: s.up.load(Ordering::Relaxed),
        bytes_down: s.down.load(Ordering::Relaxed),
    };
    let written: Result<(), StoreError> = async {
        let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
        if tunnels::end(&mut tx, tunnel.id, reason, totals).await? {
            tx.commit(
                audit::event(AuditAction::TunnelClosed, SUCCESS)
                    .actor(by)
                    .target(tunnel.id.to_string())
                    .server(&tunnel.server_name)
                    .in_session(tunnel.work_session)
                    .details(serde_json::json!({
                        "tunnel": tunnel.id, "reason": reason,
                        "connections": totals.connections,
                        "bytes_up": totals.bytes_up, "bytes_down": totals.bytes_down,
                    })),
            )
            .await?;
        }
        Ok(())
    }
    .await;
    if let Err(e) = written {
        tracing::error!(tunnel = %tunnel.id, error = %e, "cannot record the end of a tunnel");
    }
}

fn session_reason(reason: EndReason) -> String {
    format!(
        "the work session ended ({})",
        crate::core::gateway::service::end_reason_text(reason)
    )
}

/// Ends every tunnel `session` authorized.
pub async fn end_session(state: &AppState, session: WorkSessionId, reason: EndReason) {
    for t in state.hub.tunnels.all() {
        if t.work_session == Some(session) {
            let text = session_reason(reason);
            end(state, &t, close::WORK_SESSION_ENDED, &text, "system").await;
        }
    }
}

/// Ends the tunnels of `token` that it no longer allows (revoked, expired, rules removed).
pub async fn recheck_token(state: &AppState, token: Option<TokenId>) {
    for t in state.hub.tunnels.all() {
        let Some(id) = t.token.filter(|id| token.is_none_or(|only| only == *id)) else {
            continue;
        };
        let allowed = match TokenAccess::load(state, id).await {
            Ok(access) => {
                let op = operation(&t.server_name, &t.remote_host, t.remote_port);
                access.decide(&op, &run_as()).0.allowed
            }
            Err(CoreError::NotFound(_)) => false,
            // A store error counts as allowed: the watcher is a second line.
            Err(_) => true,
        };
        if !allowed {
            let reason = "the API token was revoked or no longer allows the tunnel";
            end(state, &t, close::WORK_SESSION_ENDED, reason, "system").await;
        }
    }
}

/// How long a tunnel may go without a client carrying it before it is ended (a `gate tunnel`
/// that died without saying so); a carrier reconnecting after a restart is well within it.
pub const ABANDONED: std::time::Duration = std::time::Duration::from_secs(600);

/// The sweep's share: tunnels whose session or token no longer allows them end, and tunnels
/// nobody has carried for `ABANDONED`.
pub async fn recheck(state: &AppState) {
    for t in state.hub.tunnels.all() {
        if t.uncarried_for() > ABANDONED {
            let reason = "no client carried it for 10 minutes";
            end(state, &t, close::ENDED, reason, "system").await;
            continue;
        }
        if let Some(session) = t.work_session {
            if let Some(reason) = watcher::session_end(state, session).await {
                end_session(state, session, reason).await;
            }
        }
    }
    recheck_token(state, None).await;
}

/// Sets what tunnels through `server` may reach (staff), audited with the change; every rule
/// must parse, and the list is kept as written (deduplicated).
pub async fn set_allow(
    state: &AppState,
    by: &str,
    server: &ServerRow,
    rules: &[String],
) -> Result<(), CoreError> {
    if rules.len() > tunnel::MAX_ALLOW_RULES {
        return Err(CoreError::invalid(
            "tunnel_allow",
            format!("at most {} rules", tunnel::MAX_ALLOW_RULES),
        ));
    }
    let mut wanted: Vec<String> = Vec::with_capacity(rules.len());
    for text in rules {
        let rule = tunnel::parse_rule(text).map_err(|e| CoreError::invalid("tunnel_allow", e))?;
        let text = match rule.port {
            Some(p) if rule.host.contains(':') => format!("[{}]:{p}", rule.host),
            None if rule.host.contains(':') => format!("[{}]:*", rule.host),
            Some(p) => format!("{}:{p}", rule.host),
            None => format!("{}:*", rule.host),
        };
        if !wanted.contains(&text) {
            wanted.push(text);
        }
    }
    let before = server.tunnel_allow()?;
    if server.tunnel_allow.is_some() && before == wanted {
        return Ok(());
    }
    let id = server.server_id()?;
    let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
    if !servers::set_tunnel_allow(&mut tx, state.workspace, id, &wanted).await? {
        return Err(CoreError::NotFound("server"));
    }
    tx.commit(
        audit::event(AuditAction::ServerUpdated, SUCCESS)
            .actor(by)
            .target(&server.name)
            .server(&server.name)
            .details(serde_json::json!({
                "tunnel_allow": { "from": before, "to": wanted },
            })),
    )
    .await?;
    Ok(())
}
