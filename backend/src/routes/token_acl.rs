//! `/api/tokens/{id}/acl/...`: a token's rules of four kinds. Superusers signed in
//! interactively grant and remove them (every change audited, every refusal too); the token's
//! owner and superusers read them, and ask `acl/test` for the gate's decision, explained.

use crate::core::runas::Person;
use crate::core::state::AppState;
use crate::core::token_acl::{self, Changer, Grant, TokenAccess};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, AuthUser};
use crate::gatekeeper;
use crate::store::token_acl as store;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use gatehouse_shared::acl::api::{
    AclTest, CommandRuleView, FileRuleView, NewCommandRule, NewFileRule, NewServerRule,
    NewTunnelRule, RuleKind, ServerRule, TokenAcl, TunnelRuleView,
};
use gatehouse_shared::acl::Decision;
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::{ErrorEnvelope, Role, TokenId};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tokens/{id}/acl", get(token_acl))
        .route(
            "/api/tokens/{id}/acl/servers",
            get(list_servers).post(grant_server),
        )
        .route(
            "/api/tokens/{id}/acl/commands",
            get(list_commands).post(grant_command),
        )
        .route(
            "/api/tokens/{id}/acl/files",
            get(list_files).post(grant_file),
        )
        .route(
            "/api/tokens/{id}/acl/tunnels",
            get(list_tunnels).post(grant_tunnel),
        )
        .route("/api/tokens/{id}/acl/test", post(test_acl))
        .route("/api/tokens/{id}/acl/{kind}/{acl_id}", delete(remove_rule))
}

/// The token's rules, for its owner or a superuser; anyone else learns nothing (404).
async fn readable(state: &AppState, auth: &AuthUser, id: TokenId) -> ApiResult<TokenAcl> {
    let facts = token_acl::any_token(state, id).await?;
    if facts.owner != auth.id && auth.role != Role::Superuser {
        return Err(ApiError::not_found("token"));
    }
    Ok(store::list(&state.db, state.workspace, id).await?)
}

fn changer(auth: &AuthUser) -> Changer<'_> {
    Changer {
        by: auth.by(),
        superuser: auth.role == Role::Superuser,
        interactive: auth.method.is_interactive(),
    }
}

async fn granted(
    state: &AppState,
    auth: &AuthUser,
    id: TokenId,
    grant: Grant,
) -> ApiResult<(Uuid, TokenAcl)> {
    token_acl::authorise_change(state, changer(auth), AuditAction::TokenAclGranted, id).await?;
    Ok(token_acl::grant(state, auth.by(), id, grant).await?)
}

fn created<T>(
    rules: Vec<T>,
    id: Uuid,
    rule_id: impl Fn(&T) -> Uuid,
) -> ApiResult<(StatusCode, Json<T>)> {
    rules
        .into_iter()
        .find(|r| rule_id(r) == id)
        .map(|r| (StatusCode::CREATED, Json(r)))
        .ok_or_else(ApiError::internal)
}

/// Every rule of the token, by kind.
#[utoipa::path(get, path = "/api/tokens/{id}/acl", tag = "tokens",
    params(("id" = String, Path, description = "token id")),
    responses((status = 200, body = TokenAcl), (status = 404, body = ErrorEnvelope)))]
pub async fn token_acl(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<TokenId>,
) -> ApiResult<Json<TokenAcl>> {
    Ok(Json(readable(&state, &auth, id).await?))
}

/// The token's server rules.
#[utoipa::path(get, path = "/api/tokens/{id}/acl/servers", tag = "tokens",
    params(("id" = String, Path, description = "token id")),
    responses((status = 200, body = Vec<ServerRule>), (status = 404, body = ErrorEnvelope)))]
pub async fn list_servers(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<TokenId>,
) -> ApiResult<Json<Vec<ServerRule>>> {
    Ok(Json(readable(&state, &auth, id).await?.servers))
}

/// Grant a server rule (superuser).
#[utoipa::path(post, path = "/api/tokens/{id}/acl/servers", tag = "tokens", request_body = NewServerRule,
    params(("id" = String, Path, description = "token id")),
    responses((status = 201, body = ServerRule), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn grant_server(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<TokenId>,
    ApiJson(req): ApiJson<NewServerRule>,
) -> ApiResult<(StatusCode, Json<ServerRule>)> {
    let (rule, acl) = granted(&state, &auth, id, Grant::Server(req)).await?;
    created(acl.servers, rule, |r| r.id)
}

/// The token's command rules.
#[utoipa::path(get, path = "/api/tokens/{id}/acl/commands", tag = "tokens",
    params(("id" = String, Path, description = "token id")),
    responses((status = 200, body = Vec<CommandRuleView>), (status = 404, body = ErrorEnvelope)))]
pub async fn list_commands(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<TokenId>,
) -> ApiResult<Json<Vec<CommandRuleView>>> {
    Ok(Json(readable(&state, &auth, id).await?.commands))
}

/// Grant a command rule (superuser).
#[utoipa::path(post, path = "/api/tokens/{id}/acl/commands", tag = "tokens", request_body = NewCommandRule,
    params(("id" = String, Path, description = "token id")),
    responses((status = 201, body = CommandRuleView), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn grant_command(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<TokenId>,
    ApiJson(req): ApiJson<NewCommandRule>,
) -> ApiResult<(StatusCode, Json<CommandRuleView>)> {
    let (rule, acl) = granted(&state, &auth, id, Grant::Command(req)).await?;
    created(acl.commands, rule, |r| r.id)
}

/// The token's file rules.
#[utoipa::path(get, path = "/api/tokens/{id}/acl/files", tag = "tokens",
    params(("id" = String, Path, description = "token id")),
    responses((status = 200, body = Vec<FileRuleView>), (status = 404, body = ErrorEnvelope)))]
pub async fn list_files(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<TokenId>,
) -> ApiResult<Json<Vec<FileRuleView>>> {
    Ok(Json(readable(&state, &auth, id).await?.files))
}

/// Grant a file rule (superuser).
#[utoipa::path(post, path = "/api/tokens/{id}/acl/files", tag = "tokens", request_body = NewFileRule,
    params(("id" = String, Path, description = "token id")),
    responses((status = 201, body = FileRuleView), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn grant_file(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<TokenId>,
    ApiJson(req): ApiJson<NewFileRule>,
) -> ApiResult<(StatusCode, Json<FileRuleView>)> {
    let (rule, acl) = granted(&state, &auth, id, Grant::File(req)).await?;
    created(acl.files, rule, |r| r.id)
}

/// The token's tunnel rules.
#[utoipa::path(get, path = "/api/tokens/{id}/acl/tunnels", tag = "tokens",
    params(("id" = String, Path, description = "token id")),
    responses((status = 200, body = Vec<TunnelRuleView>), (status = 404, body = ErrorEnvelope)))]
pub async fn list_tunnels(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<TokenId>,
) -> ApiResult<Json<Vec<TunnelRuleView>>> {
    Ok(Json(readable(&state, &auth, id).await?.tunnels))
}

/// Grant a tunnel rule (superuser).
#[utoipa::path(post, path = "/api/tokens/{id}/acl/tunnels", tag = "tokens", request_body = NewTunnelRule,
    params(("id" = String, Path, description = "token id")),
    responses((status = 201, body = TunnelRuleView), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn grant_tunnel(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<TokenId>,
    ApiJson(req): ApiJson<NewTunnelRule>,
) -> ApiResult<(StatusCode, Json<TunnelRuleView>)> {
    let (rule, acl) = granted(&state, &auth, id, Grant::Tunnel(req)).await?;
    created(acl.tunnels, rule, |r| r.id)
}

/// Remove one rule (superuser).
#[utoipa::path(delete, path = "/api/tokens/{id}/acl/{kind}/{acl_id}", tag = "tokens",
    params(("id" = String, Path, description = "token id"),
           ("kind" = String, Path, description = "servers, commands, files or tunnels"),
           ("acl_id" = String, Path, description = "rule id")),
    responses((status = 204), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn remove_rule(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath((id, kind, rule)): ApiPath<(TokenId, String, Uuid)>,
) -> ApiResult<StatusCode> {
    let kind = RuleKind::parse(&kind).ok_or_else(|| ApiError::not_found("rule kind"))?;
    token_acl::authorise_change(&state, changer(&auth), AuditAction::TokenAclRemoved, id).await?;
    token_acl::remove(&state, auth.by(), id, kind, rule).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The gate's decision for a described operation by this token, explained (owner or superuser).
#[utoipa::path(post, path = "/api/tokens/{id}/acl/test", tag = "tokens", request_body = AclTest,
    params(("id" = String, Path, description = "token id")),
    responses((status = 200, body = Decision), (status = 400, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope)))]
pub async fn test_acl(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<TokenId>,
    ApiJson(req): ApiJson<AclTest>,
) -> ApiResult<Json<Decision>> {
    readable(&state, &auth, id).await?;
    if req.server.trim().is_empty() {
        return Err(ApiError::validation("server", "name the server"));
    }
    let access = TokenAccess::load(&state, id).await?;
    // Whom it would run as is decided as for the token's principal, on the agent as it is now.
    let (_, link) = gatekeeper::target(&state, &req.server).await?;
    let person = Person::load(&state, access.facts.owner).await?;
    let run_as = gatekeeper::run_as(&person, &req.server, req.user.as_deref(), link.as_ref());
    Ok(Json(access.test(&req, &run_as)))
}
