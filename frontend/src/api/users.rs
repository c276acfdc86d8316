//! People and groups (staff): users and their resets and direct grants, groups with their
//! members and servers, through the typed client the CLI uses too.

use super::{client, parse_id, ApiResult};
use gatehouse_shared::api::{CreateUser, Group, MfaReset, Page, PasswordReset, UpdateUser};
use gatehouse_shared::{User, UserId};

/// Staff: a one-time password for `id` (step-up).
pub async fn reset_password(id: UserId) -> ApiResult<PasswordReset> {
    Ok(client()?.reset_password(id).await?)
}

/// Staff: removes `id`'s TOTP and recovery codes (step-up).
pub async fn reset_mfa(id: UserId) -> ApiResult<MfaReset> {
    Ok(client()?.reset_mfa(id).await?)
}

/// The first page of users.
pub async fn users() -> ApiResult<Page<User>> {
    Ok(client()?.users(None).await?)
}

/// One page of users after `cursor` (the last username of the previous page).
pub async fn users_after(cursor: &str) -> ApiResult<Page<User>> {
    let cursor = Some(cursor).filter(|c| !c.is_empty());
    Ok(client()?.users(cursor).await?)
}

pub async fn create_user(body: &CreateUser) -> ApiResult<User> {
    Ok(client()?.create_user(body).await?)
}

/// `PATCH /api/users/{id}`: role, disabled, own server account.
pub async fn update_user(id: UserId, body: &UpdateUser) -> ApiResult<User> {
    Ok(client()?.update_user(id, body).await?)
}

/// Grants user `id` servers directly by name or pattern (`web-*`).
pub async fn grant_user_servers(id: &str, pattern: String) -> ApiResult<()> {
    let id: UserId = parse_id(id, "user")?;
    Ok(client()?.grant_user_servers(id, &pattern).await?)
}

pub async fn groups() -> ApiResult<Page<Group>> {
    Ok(client()?.groups().await?)
}

pub async fn create_group(name: String) -> ApiResult<Group> {
    Ok(client()?.create_group(&name).await?)
}

pub async fn add_group_member(group: &str, username: String) -> ApiResult<Group> {
    Ok(client()?.add_group_member(group, &username).await?)
}

pub async fn add_group_servers(group: &str, pattern: String) -> ApiResult<Group> {
    Ok(client()?.add_group_servers(group, &pattern).await?)
}
