//! Token ACLs and service accounts: every token with its owner, a token's rules (read, grant,
//! remove, explain: through the typed client the CLI uses) and the service accounts with their
//! `ghst_` tokens.

use super::{client, encode, get, post, ApiError, ApiResult};
use gatehouse_client::ClientError;
use gatehouse_shared::acl::api::{AclTest, NewServiceAccount, RuleKind, ServiceAccount, TokenAcl};
use gatehouse_shared::acl::Decision;
use gatehouse_shared::api::Page;
use gatehouse_shared::token::{ApiToken, CreateApiToken, CreatedApiToken};
use gatehouse_shared::TokenId;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Every token of the workspace, with its owner (superuser).
pub async fn all_tokens() -> ApiResult<Page<ApiToken>> {
    Ok(client()?.tokens(true).await?)
}

/// A token id as the page holds it (from the URL), or why it is not one.
fn token_id(id: &str) -> Result<TokenId, ClientError> {
    id.parse()
        .map_err(|_| ClientError::Config(format!("{id:?} is not a token id")))
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
    get("/api/service-accounts").await
}

pub async fn create_service_account(body: &NewServiceAccount) -> ApiResult<ServiceAccount> {
    post("/api/service-accounts", body).await
}

/// A service account's tokens (never their secrets).
pub async fn service_account_tokens(id: &str) -> ApiResult<Page<ApiToken>> {
    get(&format!("/api/service-accounts/{}/tokens", encode(id))).await
}

/// A new token for a service account; its `ghst_` secret is in this answer only (step-up).
pub async fn issue_service_token(id: &str, body: &CreateApiToken) -> ApiResult<CreatedApiToken> {
    post(
        &format!("/api/service-accounts/{}/tokens", encode(id)),
        body,
    )
    .await
}
