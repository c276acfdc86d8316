//! API tokens, their ACLs and service accounts (with their `ghst_` tokens).

use super::Client;
use crate::error::ClientError;
use gatehouse_shared::acl::api::{AclTest, NewServiceAccount, RuleKind, ServiceAccount, TokenAcl};
use gatehouse_shared::acl::Decision;
use gatehouse_shared::api::Page;
use gatehouse_shared::token::{ApiToken, CreateApiToken, CreatedApiToken};
use gatehouse_shared::{TokenId, UserId};
use serde::Serialize;
use uuid::Uuid;

impl Client {
    /// `GET /api/tokens` (`all`: every token, for a superuser).
    pub async fn tokens(&self, all: bool) -> Result<Page<ApiToken>, ClientError> {
        let q = if all {
            vec![("all".to_owned(), "true".to_owned())]
        } else {
            Vec::new()
        };
        self.get("/api/tokens", q).await
    }

    /// `POST /api/tokens`: the secret is in the answer, once.
    pub async fn create_token(
        &self,
        body: &CreateApiToken,
    ) -> Result<CreatedApiToken, ClientError> {
        self.post("/api/tokens", body).await
    }

    /// `DELETE /api/tokens/{id}`.
    pub async fn revoke_token(&self, id: TokenId) -> Result<(), ClientError> {
        self.delete(&format!("/api/tokens/{id}")).await
    }

    /// `GET /api/tokens/{id}/acl`: every rule of the token.
    pub async fn token_acl(&self, id: TokenId) -> Result<TokenAcl, ClientError> {
        self.get(&format!("/api/tokens/{id}/acl"), Vec::new()).await
    }

    /// `POST /api/tokens/{id}/acl/{kind}`: grants one rule (a superuser signed in
    /// interactively); the answer is the rule with its id.
    pub async fn grant_rule<B: Serialize>(
        &self,
        id: TokenId,
        kind: RuleKind,
        rule: &B,
    ) -> Result<serde_json::Value, ClientError> {
        self.post(&format!("/api/tokens/{id}/acl/{}", kind.as_str()), rule)
            .await
    }

    /// `DELETE /api/tokens/{id}/acl/{kind}/{rule}`.
    pub async fn remove_rule(
        &self,
        id: TokenId,
        kind: RuleKind,
        rule: Uuid,
    ) -> Result<(), ClientError> {
        self.delete(&format!("/api/tokens/{id}/acl/{}/{rule}", kind.as_str()))
            .await
    }

    /// `POST /api/tokens/{id}/acl/test`: the gate's decision on an operation, explained.
    pub async fn test_acl(&self, id: TokenId, ask: &AclTest) -> Result<Decision, ClientError> {
        self.post(&format!("/api/tokens/{id}/acl/test"), ask).await
    }

    /// `GET /api/service-accounts` (superusers).
    pub async fn service_accounts(&self) -> Result<Page<ServiceAccount>, ClientError> {
        self.get("/api/service-accounts", Vec::new()).await
    }

    /// `POST /api/service-accounts` (superusers).
    pub async fn create_service_account(
        &self,
        body: &NewServiceAccount,
    ) -> Result<ServiceAccount, ClientError> {
        self.post("/api/service-accounts", body).await
    }

    /// `GET /api/service-accounts/{id}/tokens`: its tokens, never their secrets.
    pub async fn service_account_tokens(&self, id: UserId) -> Result<Page<ApiToken>, ClientError> {
        self.get(&format!("/api/service-accounts/{id}/tokens"), Vec::new())
            .await
    }

    /// `POST /api/service-accounts/{id}/tokens`: a `ghst_` secret, in the answer once
    /// (step-up).
    pub async fn issue_service_token(
        &self,
        id: UserId,
        body: &CreateApiToken,
    ) -> Result<CreatedApiToken, ClientError> {
        self.post(&format!("/api/service-accounts/{id}/tokens"), body)
            .await
    }
}
