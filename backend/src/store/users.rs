//! Users, their password hashes, TOTP state and direct server grants.

use super::{parse_id, Db};
use super::{StoreError, WriteTx};
use crate::time::{from_micros, to_micros};
use chrono::{DateTime, Utc};
use gatehouse_shared::user::derive_unix_user;
use gatehouse_shared::{Role, User, UserId, UserRef, WorkspaceId};

/// A user row, including the secrets the API never shows.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub role: String,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub totp_pending_secret: Option<String>,
    pub totp_last_step: Option<i64>,
    pub created_at: i64,
    pub unix_user: Option<String>,
    pub disabled_at: Option<i64>,
    pub must_change_password: bool,
    /// `person`, or `service` for a service account.
    pub kind: String,
    /// What a service account is for.
    pub description: Option<String>,
}

impl UserRow {
    /// A service account (no password; acts only through its tokens).
    pub fn is_service(&self) -> bool {
        self.kind == "service"
    }

    pub fn user_id(&self) -> Result<UserId, StoreError> {
        parse_id(&self.id)
    }

    pub fn role(&self) -> Result<Role, StoreError> {
        self.role.parse().map_err(StoreError::Corrupt)
    }

    /// The person's own server account: as set, or derived from the username for rows written
    /// before the column existed.
    pub fn unix_user(&self) -> String {
        self.unix_user
            .clone()
            .unwrap_or_else(|| derive_unix_user(&self.username))
    }

    pub fn to_user(&self) -> Result<User, StoreError> {
        Ok(User {
            unix_user: self.unix_user(),
            disabled: self.disabled_at.is_some(),
            id: self.user_id()?,
            username: self.username.clone(),
            role: self.role()?,
            email: self.email.clone(),
            mfa_enabled: self.totp_secret.is_some(),
            created_at: Some(from_micros(self.created_at)),
            must_change_password: self.must_change_password,
        })
    }

    pub fn to_ref(&self) -> Result<UserRef, StoreError> {
        Ok(UserRef {
            id: self.user_id()?,
            username: self.username.clone(),
        })
    }
}

const COLUMNS: &str =
    "id, username, email, role, password_hash, totp_secret, totp_pending_secret, \
                       totp_last_step, created_at, unix_user, disabled_at, must_change_password, kind, description";

pub async fn count(db: &Db, ws: WorkspaceId) -> Result<i64, StoreError> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users WHERE workspace_id = ?")
        .bind(ws.to_string())
        .fetch_one(&db.pool)
        .await?;
    Ok(n)
}

pub struct NewUser<'a> {
    pub username: &'a str,
    /// The server account; `None` derives one from the username.
    pub unix_user: Option<&'a str>,
    pub email: Option<&'a str>,
    pub role: Role,
    pub password_hash: &'a str,
}

pub async fn insert(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    user: &NewUser<'_>,
    now: DateTime<Utc>,
) -> Result<User, StoreError> {
    insert_where(tx, ws, user, now, false)
        .await?
        .ok_or_else(|| StoreError::Corrupt("an unconditional insert returned no row".into()))
}

/// Inserts `user`; with `only_if_empty`, only when the workspace has no user yet (atomically).
async fn insert_where(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    user: &NewUser<'_>,
    now: DateTime<Utc>,
    only_if_empty: bool,
) -> Result<Option<User>, StoreError> {
    let id = UserId::new();
    let unix_user = match user.unix_user {
        Some(name) => name.to_owned(),
        None => free_unix_user(tx, ws, &derive_unix_user(user.username)).await?,
    };
    let done = sqlx::query(
        "INSERT INTO users (id, workspace_id, username, email, role, password_hash, created_at, \
         unix_user) SELECT ?, ?, ?, ?, ?, ?, ?, ? \
         WHERE NOT ? OR NOT EXISTS (SELECT 1 FROM users WHERE workspace_id = ?)",
    )
    .bind(id.to_string())
    .bind(ws.to_string())
    .bind(user.username)
    .bind(user.email)
    .bind(user.role.as_str())
    .bind(user.password_hash)
    .bind(to_micros(now))
    .bind(&unix_user)
    .bind(only_if_empty)
    .bind(ws.to_string())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    Ok(Some(User {
        id,
        username: user.username.to_owned(),
        role: user.role,
        email: user.email.map(str::to_owned),
        mfa_enabled: false,
        created_at: Some(now),
        unix_user,
        disabled: false,
        must_change_password: false,
    }))
}

/// `base`, or `base` with the smallest numeric suffix no other person's account has: two
/// people never share a derived account by accident.
async fn free_unix_user(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    base: &str,
) -> Result<String, StoreError> {
    // Creating a person is rare and a workspace holds thousands at most: read every name.
    let taken: Vec<(String,)> = sqlx::query_as(
        "SELECT unix_user FROM users WHERE workspace_id = ? AND unix_user IS NOT NULL",
    )
    .bind(ws.to_string())
    .fetch_all(tx.conn())
    .await?;
    let taken: std::collections::HashSet<String> = taken.into_iter().map(|(n,)| n).collect();
    if !taken.contains(base) {
        return Ok(base.to_owned());
    }
    let mut n = 2u32;
    loop {
        let suffix = n.to_string();
        let stem: String = base
            .chars()
            .take(gatehouse_shared::user::MAX_UNIX_USER_LEN - suffix.len())
            .collect();
        let candidate = format!("{stem}{suffix}");
        if !taken.contains(&candidate) {
            return Ok(candidate);
        }
        n += 1;
    }
}

/// Disables a person (as of the write's time) or enables them again.
pub async fn set_disabled(
    tx: &mut WriteTx,
    id: UserId,
    disabled: bool,
) -> Result<bool, StoreError> {
    let (ws, at) = (tx.workspace(), tx.at());
    let done = sqlx::query("UPDATE users SET disabled_at = ? WHERE workspace_id = ? AND id = ?")
        .bind(disabled.then(|| to_micros(at)))
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets a person's password hash with whether it is a one-time password from a staff reset,
/// which they must replace before anything else (`false` when they chose it themselves).
pub async fn set_password(
    tx: &mut WriteTx,
    id: UserId,
    hash: &str,
    must_change: bool,
) -> Result<bool, StoreError> {
    let ws = tx.workspace();
    let done = sqlx::query(
        "UPDATE users SET password_hash = ?, must_change_password = ? \
         WHERE workspace_id = ? AND id = ?",
    )
    .bind(hash)
    .bind(must_change)
    .bind(ws.to_string())
    .bind(id.to_string())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a person's TOTP (enrolled and pending) and every recovery code of theirs.
pub async fn clear_mfa(tx: &mut WriteTx, id: UserId) -> Result<bool, StoreError> {
    let ws = tx.workspace();
    sqlx::query("DELETE FROM recovery_codes WHERE workspace_id = ? AND user_id = ?")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    let done = sqlx::query(
        "UPDATE users SET totp_secret = NULL, totp_pending_secret = NULL, totp_last_step = NULL \
         WHERE workspace_id = ? AND id = ?",
    )
    .bind(ws.to_string())
    .bind(id.to_string())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces a person's recovery codes with the given hashes.
pub async fn replace_recovery_codes(
    tx: &mut WriteTx,
    id: UserId,
    hashes: &[String],
) -> Result<(), StoreError> {
    let (ws, at) = (tx.workspace(), tx.at());
    sqlx::query("DELETE FROM recovery_codes WHERE workspace_id = ? AND user_id = ?")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    for hash in hashes {
        sqlx::query(
            "INSERT INTO recovery_codes (workspace_id, user_id, code_hash, created_at) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(ws.to_string())
        .bind(id.to_string())
        .bind(hash)
        .bind(to_micros(at))
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Spends the unused recovery code whose hash is `hash`; false when there is none (wrong, or
/// already used). The conditional update makes a code work once even under concurrent use.
pub async fn spend_recovery_code(
    tx: &mut WriteTx,
    id: UserId,
    hash: &str,
) -> Result<bool, StoreError> {
    let (ws, at) = (tx.workspace(), tx.at());
    let done = sqlx::query(
        "UPDATE recovery_codes SET used_at = ? WHERE workspace_id = ? AND user_id = ? \
         AND code_hash = ? AND used_at IS NULL",
    )
    .bind(to_micros(at))
    .bind(ws.to_string())
    .bind(id.to_string())
    .bind(hash)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many unused recovery codes a person has.
pub async fn recovery_codes_left(db: &Db, ws: WorkspaceId, id: UserId) -> Result<i64, StoreError> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM recovery_codes WHERE workspace_id = ? AND user_id = ? \
         AND used_at IS NULL",
    )
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_one(&db.pool)
    .await?;
    Ok(n)
}

/// Changes a person's role.
pub async fn set_role(tx: &mut WriteTx, id: UserId, role: Role) -> Result<bool, StoreError> {
    let ws = tx.workspace();
    let done = sqlx::query("UPDATE users SET role = ? WHERE workspace_id = ? AND id = ?")
        .bind(role.as_str())
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Superusers who are not disabled, counted inside a write (so two demotions cannot both
/// leave the workspace without one).
pub async fn enabled_superusers(tx: &mut WriteTx) -> Result<i64, StoreError> {
    let ws = tx.workspace();
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM users WHERE workspace_id = ? AND role = 'superuser' \
         AND disabled_at IS NULL",
    )
    .bind(ws.to_string())
    .fetch_one(tx.conn())
    .await?;
    Ok(n)
}

/// Sets a person's server account.
pub async fn set_unix_user(
    tx: &mut WriteTx,
    id: UserId,
    unix_user: &str,
) -> Result<bool, StoreError> {
    let ws = tx.workspace();
    let done = sqlx::query("UPDATE users SET unix_user = ? WHERE workspace_id = ? AND id = ?")
        .bind(unix_user)
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Creates the first user only when the workspace has none, atomically.
pub async fn insert_first(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    user: &NewUser<'_>,
    now: DateTime<Utc>,
) -> Result<Option<User>, StoreError> {
    insert_where(tx, ws, user, now, true).await
}

/// The workspace's first superuser (on whose behalf the admin command issues tokens).
pub async fn first_superuser(db: &Db, ws: WorkspaceId) -> Result<Option<UserId>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM users WHERE workspace_id = ? AND role = 'superuser' \
         ORDER BY created_at LIMIT 1",
    )
    .bind(ws.to_string())
    .fetch_optional(&db.pool)
    .await?;
    row.map(|(id,)| parse_id(&id)).transpose()
}

pub async fn by_username(
    db: &Db,
    ws: WorkspaceId,
    username: &str,
) -> Result<Option<UserRow>, StoreError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM users WHERE workspace_id = ? AND username = ?"
    ))
    .bind(ws.to_string())
    .bind(username)
    .fetch_optional(&db.pool)
    .await
    .map_err(StoreError::from)
}

pub async fn by_id(db: &Db, ws: WorkspaceId, id: UserId) -> Result<Option<UserRow>, StoreError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM users WHERE workspace_id = ? AND id = ?"
    ))
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(&db.pool)
    .await
    .map_err(StoreError::from)
}

/// Users ordered by username, after `after` (the cursor), at most `limit`.
pub async fn list(
    db: &Db,
    ws: WorkspaceId,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<UserRow>, StoreError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM users WHERE workspace_id = ? AND username > ? \
         AND kind = 'person' ORDER BY username LIMIT ?"
    ))
    .bind(ws.to_string())
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(&db.pool)
    .await
    .map_err(StoreError::from)
}

pub async fn set_pending_totp(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    id: UserId,
    secret: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET totp_pending_secret = ? WHERE workspace_id = ? AND id = ?")
        .bind(secret)
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Moves the pending secret into place, remembering `step` so that code cannot be used again.
pub async fn confirm_totp(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    id: UserId,
    step: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE users SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, \
         totp_last_step = ? WHERE workspace_id = ? AND id = ? AND totp_pending_secret IS NOT NULL",
    )
    .bind(step)
    .bind(ws.to_string())
    .bind(id.to_string())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records that the code of time step `step` was used; false when it (or a later one) already was.
/// The conditional update makes replay refusal atomic even under concurrent sign-ins.
pub async fn consume_totp_step(
    db: &Db,
    ws: WorkspaceId,
    id: UserId,
    step: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE users SET totp_last_step = ? WHERE workspace_id = ? AND id = ? \
         AND (totp_last_step IS NULL OR totp_last_step < ?)",
    )
    .bind(step)
    .bind(ws.to_string())
    .bind(id.to_string())
    .bind(step)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn add_server_grant(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    id: UserId,
    pattern: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO user_server_grants (workspace_id, user_id, pattern) VALUES (?, ?, ?) \
         ON CONFLICT DO NOTHING",
    )
    .bind(ws.to_string())
    .bind(id.to_string())
    .bind(pattern)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Every server-name pattern granted to the user, directly or through a group.
pub async fn server_patterns(
    db: &Db,
    ws: WorkspaceId,
    id: UserId,
) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT pattern FROM user_server_grants WHERE workspace_id = ? AND user_id = ? \
         UNION SELECT p.pattern FROM group_server_patterns p \
         JOIN group_members m ON m.group_id = p.group_id AND m.workspace_id = p.workspace_id \
         WHERE p.workspace_id = ? AND m.user_id = ?",
    )
    .bind(ws.to_string())
    .bind(id.to_string())
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|(p,)| p).collect())
}

/// Makes a just-inserted user a service account with `description`.
pub async fn mark_service(
    tx: &mut WriteTx,
    id: UserId,
    description: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET kind = 'service', description = ? WHERE id = ?")
        .bind(description)
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Service accounts, by name.
pub async fn list_services(db: &Db, ws: WorkspaceId) -> Result<Vec<UserRow>, StoreError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM users WHERE workspace_id = ? AND kind = 'service' ORDER BY username"
    ))
    .bind(ws.to_string())
    .fetch_all(&db.pool)
    .await
    .map_err(StoreError::from)
}
