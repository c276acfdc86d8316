//! A token's ACL rules, one row each, and what the gate needs to know about a token: its
//! owner, whether that owner is a service account, and every rule.

use super::{parse_id, Db, StoreError, WriteTx};
use crate::time::to_micros;
use chrono::{DateTime, Utc};
use gatehouse_shared::acl::api::{
    CommandRuleView, FileRuleView, RuleKind, ServerRule, TokenAcl, TunnelRuleView,
};
use gatehouse_shared::acl::FileAction;
use gatehouse_shared::{TokenId, UserId, WorkspaceId};
use uuid::Uuid;

/// A rule to store; the columns a kind does not use stay NULL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewRule<'a> {
    Server {
        pattern: &'a str,
    },
    Command {
        command: &'a str,
        user: Option<&'a str>,
    },
    File {
        path: &'a str,
        action: FileAction,
        user: Option<&'a str>,
    },
    Tunnel {
        port: u16,
        host: &'a str,
    },
}

impl NewRule<'_> {
    pub fn kind(&self) -> RuleKind {
        match self {
            NewRule::Server { .. } => RuleKind::Servers,
            NewRule::Command { .. } => RuleKind::Commands,
            NewRule::File { .. } => RuleKind::Files,
            NewRule::Tunnel { .. } => RuleKind::Tunnels,
        }
    }
}

/// Stores `rule` for `token`, returning its id.
pub async fn insert(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    token: TokenId,
    rule: &NewRule<'_>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let id = Uuid::new_v4();
    let (pattern, action, run_as, port, host) = match *rule {
        NewRule::Server { pattern } => (Some(pattern), None, None, None, None),
        NewRule::Command { command, user } => (Some(command), None, user, None, None),
        NewRule::File { path, action, user } => {
            (Some(path), Some(action_str(action)), user, None, None)
        }
        NewRule::Tunnel { port, host } => (None, None, None, Some(i64::from(port)), Some(host)),
    };
    sqlx::query(
        "INSERT INTO token_acl_rules (id, workspace_id, token_id, kind, pattern, action, run_as, \
         port, host, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id.to_string())
    .bind(ws.to_string())
    .bind(token.to_string())
    .bind(rule.kind().as_str())
    .bind(pattern)
    .bind(action)
    .bind(run_as)
    .bind(port)
    .bind(host)
    .bind(to_micros(now))
    .bind(by)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Removes one rule of `kind` from `token`; false when there is no such rule.
pub async fn delete(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    token: TokenId,
    kind: RuleKind,
    id: Uuid,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "DELETE FROM token_acl_rules WHERE workspace_id = ? AND token_id = ? AND kind = ? AND id = ?",
    )
    .bind(ws.to_string())
    .bind(token.to_string())
    .bind(kind.as_str())
    .bind(id.to_string())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, sqlx::FromRow)]
struct RuleRow {
    id: String,
    kind: String,
    pattern: Option<String>,
    action: Option<String>,
    run_as: Option<String>,
    port: Option<i64>,
    host: Option<String>,
}

/// Every rule of `token`, oldest first, as the API lists them.
pub async fn list(db: &Db, ws: WorkspaceId, token: TokenId) -> Result<TokenAcl, StoreError> {
    let rows: Vec<RuleRow> = sqlx::query_as(
        "SELECT id, kind, pattern, action, run_as, port, host FROM token_acl_rules \
         WHERE workspace_id = ? AND token_id = ? ORDER BY created_at, id",
    )
    .bind(ws.to_string())
    .bind(token.to_string())
    .fetch_all(&db.pool)
    .await?;
    let mut acl = TokenAcl::default();
    let corrupt = |what: &str| StoreError::Corrupt(format!("token ACL rule without {what}"));
    for row in rows {
        let id = parse_id(&row.id)?;
        match RuleKind::parse(&row.kind) {
            Some(RuleKind::Servers) => acl.servers.push(ServerRule {
                id,
                pattern: row.pattern.ok_or_else(|| corrupt("pattern"))?,
            }),
            Some(RuleKind::Commands) => acl.commands.push(CommandRuleView {
                id,
                command: row.pattern.ok_or_else(|| corrupt("command"))?,
                user: row.run_as,
            }),
            Some(RuleKind::Files) => acl.files.push(FileRuleView {
                id,
                path: row.pattern.ok_or_else(|| corrupt("path"))?,
                action: parse_action(row.action.as_deref()).ok_or_else(|| corrupt("action"))?,
                user: row.run_as,
            }),
            Some(RuleKind::Tunnels) => acl.tunnels.push(TunnelRuleView {
                id,
                port: row
                    .port
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or_else(|| corrupt("port"))?,
                host: row.host.ok_or_else(|| corrupt("host"))?,
            }),
            None => return Err(corrupt("a known kind")),
        }
    }
    Ok(acl)
}

/// How many rules `token` holds (a bound on growth).
pub async fn count(tx: &mut WriteTx, ws: WorkspaceId, token: TokenId) -> Result<i64, StoreError> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM token_acl_rules WHERE workspace_id = ? AND token_id = ?",
    )
    .bind(ws.to_string())
    .bind(token.to_string())
    .fetch_one(tx.conn())
    .await?;
    Ok(n)
}

fn action_str(action: FileAction) -> &'static str {
    match action {
        FileAction::Upload => "upload",
        FileAction::Download => "download",
        FileAction::Any => "any",
    }
}

fn parse_action(text: Option<&str>) -> Option<FileAction> {
    match text? {
        "upload" => Some(FileAction::Upload),
        "download" => Some(FileAction::Download),
        "any" => Some(FileAction::Any),
        _ => None,
    }
}

/// A token as the gate and the ACL endpoints see it.
#[derive(Debug, Clone)]
pub struct TokenFacts {
    pub id: TokenId,
    pub owner: UserId,
    pub owner_name: String,
    pub service_account: bool,
    /// Revoked, or past its expiry.
    pub dead: bool,
}

/// The token `id`, whoever owns it.
pub async fn facts(
    db: &Db,
    ws: WorkspaceId,
    id: TokenId,
    now: DateTime<Utc>,
) -> Result<Option<TokenFacts>, StoreError> {
    let row: Option<FactsRow> = sqlx::query_as(
        "SELECT t.user_id, u.username, u.kind, t.revoked_at, t.expires_at FROM api_tokens t \
         JOIN users u ON u.id = t.user_id WHERE t.workspace_id = ? AND t.id = ?",
    )
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        Ok(TokenFacts {
            id,
            owner: parse_id(&r.user_id)?,
            owner_name: r.username,
            service_account: r.kind == "service",
            dead: r.revoked_at.is_some() || r.expires_at.is_some_and(|e| e <= to_micros(now)),
        })
    })
    .transpose()
}

#[derive(Debug, sqlx::FromRow)]
struct FactsRow {
    user_id: String,
    username: String,
    kind: String,
    revoked_at: Option<i64>,
    expires_at: Option<i64>,
}
