//! Agent credentials: one per server, the secret stored only as its SHA-256.

use super::{parse_id, Db, StoreError, WriteTx};
use crate::time::to_micros;
use gatehouse_shared::server::AgentRegistration;
use gatehouse_shared::{AgentId, ServerId, WorkspaceId};

/// Why a registration could not bind to a server entry.
#[derive(Debug)]
pub enum RegisterOutcome {
    Registered {
        server_id: ServerId,
        agent_id: AgentId,
    },
    /// The token is unknown, expired or used up.
    BadToken,
    /// A server of that name already has an agent.
    AlreadyRegistered,
}

/// Spends the registration token and binds a new agent credential to the server entry named
/// `req.name` (creating it if absent), inside the caller's write: a refused attempt is rolled
/// back with it, so it leaves nothing, and a successful one lands with its audit event.
pub async fn register(
    write: &mut WriteTx,
    req: &AgentRegistration,
    token_hash: &str,
    secret_hash: &str,
) -> Result<RegisterOutcome, StoreError> {
    let (ws, now) = (write.workspace(), write.at());
    let tx = write.conn();
    if !super::servers::spend_registration_token(&mut *tx, ws, token_hash, now).await? {
        return Ok(RegisterOutcome::BadToken);
    }
    let existing: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT s.id, a.id FROM servers s LEFT JOIN agents a ON a.server_id = s.id \
         WHERE s.workspace_id = ? AND s.name = ?",
    )
    .bind(ws.to_string())
    .bind(&req.name)
    .fetch_optional(&mut *tx)
    .await?;
    let server_id = match existing {
        Some((_, Some(_))) => return Ok(RegisterOutcome::AlreadyRegistered),
        Some((id, None)) => {
            let id: ServerId = parse_id(&id)?;
            sqlx::query(
                "UPDATE servers SET os = ?, platform = ?, hostname = ? \
                 WHERE workspace_id = ? AND id = ?",
            )
            .bind(&req.os)
            .bind(&req.platform)
            .bind(&req.hostname)
            .bind(ws.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
            id
        }
        None => {
            let id = ServerId::new();
            sqlx::query(
                "INSERT INTO servers (id, workspace_id, name, os, platform, hostname, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(id.to_string())
            .bind(ws.to_string())
            .bind(&req.name)
            .bind(&req.os)
            .bind(&req.platform)
            .bind(&req.hostname)
            .bind(to_micros(now))
            .execute(&mut *tx)
            .await?;
            id
        }
    };
    let agent_id = AgentId::new();
    sqlx::query(
        "INSERT INTO agents (id, workspace_id, server_id, secret_hash, hostname, created_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(agent_id.to_string())
    .bind(ws.to_string())
    .bind(server_id.to_string())
    .bind(secret_hash)
    .bind(&req.hostname)
    .bind(to_micros(now))
    .execute(&mut *tx)
    .await?;
    Ok(RegisterOutcome::Registered {
        server_id,
        agent_id,
    })
}

/// The server an agent credential belongs to, if the secret matches.
pub async fn authenticate(
    db: &Db,
    ws: WorkspaceId,
    agent: AgentId,
    secret_hash: &str,
) -> Result<Option<(ServerId, String)>, StoreError> {
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT a.secret_hash, s.id, s.name FROM agents a JOIN servers s ON s.id = a.server_id \
         WHERE a.workspace_id = ? AND a.id = ?",
    )
    .bind(ws.to_string())
    .bind(agent.to_string())
    .fetch_optional(&db.pool)
    .await?;
    let Some((stored, server, name)) = row else {
        return Ok(None);
    };
    if !crate::auth::secrets::constant_time_eq(&stored, secret_hash) {
        return Ok(None);
    }
    Ok(Some((parse_id(&server)?, name)))
}
