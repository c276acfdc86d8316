//! Server entries and registration tokens (staff and above manage; members see their grants).

use crate::audit::{self, SUCCESS};
use crate::auth::secrets;
use crate::error::{is_unique_violation, ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use crate::state::AppState;
use crate::store::servers::ServerRow;
use crate::store::{groups, servers, users};
use crate::time::now;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Duration;
use gatehouse_shared::api::Page;
use gatehouse_shared::pattern;
use gatehouse_shared::server::{
    is_valid_server_name, CreateRegistrationToken, CreateServer, RegistrationToken, Server,
};
use gatehouse_shared::{ErrorEnvelope, Role, ServerId, UserId};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/servers", get(list_servers).post(create_server))
        .route(
            "/api/servers/registration-tokens",
            post(create_registration_token),
        )
        .route("/api/servers/{id}", get(get_server).delete(delete_server))
}

/// The server-name patterns `user` may request; `None` means every server (staff and above).
pub async fn allowed_patterns(
    state: &AppState,
    user: UserId,
    role: Role,
) -> ApiResult<Option<Vec<String>>> {
    if role.is_staff_or_above() {
        return Ok(None);
    }
    Ok(Some(
        users::server_patterns(&state.db, state.workspace, user).await?,
    ))
}

/// True when `name` is covered by `patterns` (`None` covers everything).
pub fn is_allowed(patterns: &Option<Vec<String>>, name: &str) -> bool {
    patterns
        .as_ref()
        .is_none_or(|list| list.iter().any(|p| pattern::matches(p, name)))
}

async fn with_groups(state: &AppState, rows: Vec<ServerRow>) -> ApiResult<Vec<Server>> {
    let grants = groups::all_patterns(&state.db, state.workspace).await?;
    rows.iter()
        .map(|row| {
            let mut names: Vec<String> = grants
                .iter()
                .filter(|(_, p)| pattern::matches(p, &row.name))
                .map(|(g, _)| g.clone())
                .collect();
            names.dedup();
            row.to_server(names).map_err(ApiError::from)
        })
        .collect()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ServerQuery {
    /// Text the name contains.
    q: Option<String>,
    connected: Option<bool>,
}

/// Servers the caller may see: all for staff and above, granted ones for members.
#[utoipa::path(get, path = "/api/servers", tag = "servers", params(ServerQuery),
    responses((status = 200, body = Page<Server>), (status = 401, body = ErrorEnvelope)))]
pub async fn list_servers(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiQuery(q): ApiQuery<ServerQuery>,
) -> ApiResult<Json<Page<Server>>> {
    let allowed = allowed_patterns(&state, auth.id, auth.role).await?;
    let rows: Vec<ServerRow> =
        servers::list(&state.db, state.workspace, q.q.as_deref(), q.connected)
            .await?
            .into_iter()
            .filter(|row| is_allowed(&allowed, &row.name))
            .collect();
    let items = with_groups(&state, rows).await?;
    Ok(Json(Page {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}

/// Create a server entry that an agent later registers into.
#[utoipa::path(post, path = "/api/servers", tag = "servers", request_body = CreateServer,
    responses((status = 201, body = Server), (status = 409, body = ErrorEnvelope)))]
pub async fn create_server(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(req): ApiJson<CreateServer>,
) -> ApiResult<(StatusCode, Json<Server>)> {
    auth.require_staff()?;
    if !is_valid_server_name(&req.name) {
        return Err(ApiError::validation(
            "name",
            "1-64 characters: letters, digits, '.', '_', '-'",
        ));
    }
    let mut group_ids = Vec::new();
    for name in req.groups.iter().flatten() {
        let id = groups::id_by_name(&state.db, state.workspace, name)
            .await?
            .ok_or_else(|| ApiError::validation("groups", format!("no group {name}")))?;
        group_ids.push(id);
    }
    let row = servers::insert(
        &state.db,
        state.workspace,
        &req.name,
        req.platform.as_deref(),
        now(),
    )
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            ApiError::conflict(format!("server {} already exists", req.name))
        } else {
            e.into()
        }
    })?;
    // Listing a group grants that group this server by its exact name.
    for id in group_ids {
        groups::add_pattern(&state.db, state.workspace, id, &req.name).await?;
    }
    audit::record(
        &state,
        audit::event("server.created", SUCCESS)
            .actor(&auth.username)
            .target(&req.name)
            .server(&req.name)
            .details(serde_json::json!({"groups": req.groups})),
    )
    .await?;
    let server = with_groups(&state, vec![row]).await?.remove(0);
    Ok((StatusCode::CREATED, Json(server)))
}

async fn visible_server(state: &AppState, auth: &AuthUser, id: ServerId) -> ApiResult<ServerRow> {
    let row = servers::by_id(&state.db, state.workspace, id)
        .await?
        .ok_or_else(|| ApiError::not_found("server"))?;
    let allowed = allowed_patterns(state, auth.id, auth.role).await?;
    if !is_allowed(&allowed, &row.name) {
        return Err(ApiError::not_found("server"));
    }
    Ok(row)
}

/// One server.
#[utoipa::path(get, path = "/api/servers/{id}", tag = "servers",
    params(("id" = String, Path, description = "server id")),
    responses((status = 200, body = Server), (status = 404, body = ErrorEnvelope)))]
pub async fn get_server(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<ServerId>,
) -> ApiResult<Json<Server>> {
    let row = visible_server(&state, &auth, id).await?;
    Ok(Json(with_groups(&state, vec![row]).await?.remove(0)))
}

/// Delete a server entry and its agent credential.
#[utoipa::path(delete, path = "/api/servers/{id}", tag = "servers",
    params(("id" = String, Path, description = "server id")),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
pub async fn delete_server(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<ServerId>,
) -> ApiResult<StatusCode> {
    auth.require_staff()?;
    let row = visible_server(&state, &auth, id).await?;
    servers::delete(&state.db, state.workspace, id).await?;
    audit::record(
        &state,
        audit::event("server.deleted", SUCCESS)
            .actor(&auth.username)
            .target(&row.name)
            .server(&row.name),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Issue a one-time (or few-times) token an agent exchanges for its credential.
#[utoipa::path(post, path = "/api/servers/registration-tokens", tag = "servers",
    request_body = CreateRegistrationToken,
    responses((status = 201, body = RegistrationToken), (status = 403, body = ErrorEnvelope)))]
pub async fn create_registration_token(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(req): ApiJson<CreateRegistrationToken>,
) -> ApiResult<(StatusCode, Json<RegistrationToken>)> {
    auth.require_staff()?;
    let secs = req.expires_in_secs.unwrap_or(3600);
    if !(60..=30 * 24 * 3600).contains(&secs) {
        return Err(ApiError::validation(
            "expires_in_secs",
            "between 60 seconds and 30 days",
        ));
    }
    let max_uses = req.max_uses.unwrap_or(1);
    if !(1..=10_000).contains(&max_uses) {
        return Err(ApiError::validation("max_uses", "between 1 and 10000"));
    }
    let token = format!("ghr_{}", secrets::random_secret());
    let now = now();
    let expires_at = now + Duration::seconds(secs);
    servers::insert_registration_token(
        &state.db,
        state.workspace,
        &secrets::sha256_hex(&token),
        auth.id,
        expires_at,
        max_uses,
        now,
    )
    .await?;
    audit::record(
        &state,
        audit::event("registration_token.created", SUCCESS)
            .actor(&auth.username)
            .details(serde_json::json!({"expires_at": expires_at, "max_uses": max_uses})),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(RegistrationToken {
            token,
            expires_at,
            max_uses,
        }),
    ))
}
