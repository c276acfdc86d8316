//! API tokens, their ACLs and service accounts: one's own tokens, every token with its owner, a
//! token's rules (read, grant, remove, explain) and the service accounts with their `ghst_`
//! tokens, through the typed client the CLI uses too.

use super::{client, parse_id, ApiError, ApiResult};
use gatehouse_shared::acl::api::{AclTest, NewServiceAccount, RuleKind, ServiceAccount, TokenAcl};
use gatehouse_shared::acl::Decision;
use gatehouse_shared::api::Page;
use gatehouse_shared::token::{ApiToken, CreateApiToken, CreatedApiToken};
use gatehouse_shared::{TokenId, UserId};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The caller's own tokens.
pub async fn tokens() -> ApiResult<Page<ApiToken>> {
    Ok(client()?.tokens(false).await?)
}

pub async fn create_token(body: &CreateApiToken) -> ApiResult<CreatedApiToken> {
    Ok(client()?.create_token(body).await?)
}

pub async fn revoke_token(id: &str) -> ApiResult<()> {
    Ok(client()?.revoke_token(token_id(id)?).await?)
}

/// Every token of the workspace, with its owner (superuser).
pub async fn all_tokens() -> ApiResult<Page<ApiToken>> {
    Ok(client()?.tokens(true).await?)
}

/// A token id as the page holds it (from the URL), or why it is not one.
fn token_id(id: &str) -> Result<TokenId, gatehouse_client::ClientError> {
    parse_id(id, "token")
}

/// Every rule of token `id` (its owner or a superuser).
pub async fn token_acl(id: &str) -> ApiResult<TokenAcl> {
    Ok(client()?.token_acl(token_id(id)?).await?)
}

/// Grants token `id` one rule of `kind`; the body is that kind's `New…Rule`.
pub async fn grant_rule<B: Serialize, T: DeserializeOwned>(
    id: &str,
    kind: RuleKind,
    body: &B,
) -> ApiResult<T> {
    let granted = client()?.grant_rule(token_id(id)?, kind, body).await?;
    serde_json::from_value(granted).map_err(ApiError::local)
}

/// Removes one rule.
pub async fn remove_rule(id: &str, kind: RuleKind, rule: uuid::Uuid) -> ApiResult<()> {
    Ok(client()?.remove_rule(token_id(id)?, kind, rule).await?)
}

/// The gate's decision for a described operation by token `id`, explained.
pub async fn test_acl(id: &str, body: &AclTest) -> ApiResult<Decision> {
    Ok(client()?.test_acl(token_id(id)?, body).await?)
}

pub async fn service_accounts() -> ApiResult<Page<ServiceAccount>> {
    Ok(client()?.service_accounts().await?)
}

pub async fn create_service_account(body: &NewServiceAccount) -> ApiResult<ServiceAccount> {
    Ok(client()?.create_service_account(body).await?)
}

/// A service account's tokens (never their secrets).
pub async fn service_account_tokens(id: &str) -> ApiResult<Page<ApiToken>> {
    let id: UserId = parse_id(id, "service account")?;
    Ok(client()?.service_account_tokens(id).await?)
}

/// A new token for a service account; its `ghst_` secret is in this answer only (step-up).
pub async fn issue_service_token(id: &str, body: &CreateApiToken) -> ApiResult<CreatedApiToken> {
    let id: UserId = parse_id(id, "service account")?;
    Ok(client()?.issue_service_token(id, body).await?)
}
