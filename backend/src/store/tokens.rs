//! API tokens: only their SHA-256 is stored.

use super::{parse_id, Db};
use super::{StoreError, WriteTx};
use crate::time::{from_micros, opt_from_micros, to_micros};
use chrono::{DateTime, Utc};
use gatehouse_shared::token::ApiToken;
use gatehouse_shared::{TokenId, UserId, UserRef, WorkspaceId};

#[derive(Debug, Clone, sqlx::FromRow)]
struct TokenRow {
    id: String,
    name: String,
    created_at: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
    user_id: String,
    username: String,
    kind: String,
}

impl TokenRow {
    fn into_token(self) -> Result<ApiToken, StoreError> {
        Ok(ApiToken {
            id: parse_id(&self.id)?,
            name: self.name,
            created_at: from_micros(self.created_at),
            expires_at: opt_from_micros(self.expires_at),
            last_used_at: opt_from_micros(self.last_used_at),
            revoked: self.revoked_at.is_some(),
            owner: Some(UserRef {
                id: parse_id(&self.user_id)?,
                username: self.username,
            }),
            service_account: self.kind == "service",
        })
    }
}

pub async fn insert(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    user: UserId,
    name: &str,
    token_hash: &str,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<TokenId, StoreError> {
    let id = TokenId::new();
    sqlx::query(
        "INSERT INTO api_tokens (id, workspace_id, user_id, name, token_hash, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id.to_string())
    .bind(ws.to_string())
    .bind(user.to_string())
    .bind(name)
    .bind(token_hash)
    .bind(to_micros(now))
    .bind(expires_at.map(to_micros))
    .execute(tx.conn())
    .await?;
    Ok(id)
}

pub async fn list_for_user(
    db: &Db,
    ws: WorkspaceId,
    user: UserId,
) -> Result<Vec<ApiToken>, StoreError> {
    let rows: Vec<TokenRow> = sqlx::query_as(
        "SELECT t.id, t.name, t.created_at, t.expires_at, t.last_used_at, t.revoked_at, t.user_id, \
         u.username, u.kind FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.workspace_id = ? AND t.user_id = ? ORDER BY t.created_at DESC",
    )
    .bind(ws.to_string())
    .bind(user.to_string())
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter().map(TokenRow::into_token).collect()
}

/// Every token in the workspace, newest first (superusers granting rules).
pub async fn list_all(db: &Db, ws: WorkspaceId) -> Result<Vec<ApiToken>, StoreError> {
    let rows: Vec<TokenRow> = sqlx::query_as(
        "SELECT t.id, t.name, t.created_at, t.expires_at, t.last_used_at, t.revoked_at, t.user_id, \
         u.username, u.kind FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.workspace_id = ? ORDER BY t.created_at DESC",
    )
    .bind(ws.to_string())
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter().map(TokenRow::into_token).collect()
}

/// Revokes the caller's own token; false when there is no such live token of theirs.
pub async fn revoke(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    user: UserId,
    id: TokenId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = ? WHERE workspace_id = ? AND user_id = ? AND id = ? \
         AND revoked_at IS NULL",
    )
    .bind(to_micros(now))
    .bind(ws.to_string())
    .bind(user.to_string())
    .bind(id.to_string())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The user behind a live token (not revoked, not expired), marking it used.
pub async fn authenticate(
    db: &Db,
    ws: WorkspaceId,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(TokenId, UserId)>, StoreError> {
    let row: Option<(String, String)> = sqlx::query_as(
        "UPDATE api_tokens SET last_used_at = ? WHERE workspace_id = ? AND token_hash = ? \
         AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) RETURNING id, user_id",
    )
    .bind(to_micros(now))
    .bind(ws.to_string())
    .bind(token_hash)
    .bind(to_micros(now))
    .fetch_optional(&db.pool)
    .await?;
    row.map(|(id, user)| Ok((parse_id(&id)?, parse_id(&user)?)))
        .transpose()
}
