//! Groups: members and the server-name patterns they grant (staff and above).

use crate::audit::{self, SUCCESS};
use crate::error::{is_unique_violation, ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, AuthUser};
use crate::state::AppState;
use crate::store::{groups, users};
use crate::time::now;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use gatehouse_shared::api::{AddGroupMember, AddGroupServers, CreateGroup, Group, Page};
use gatehouse_shared::pattern::is_valid_pattern;
use gatehouse_shared::user::is_valid_username;
use gatehouse_shared::{ErrorEnvelope, GroupId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/groups", get(list_groups).post(create_group))
        .route("/api/groups/{id}/members", get(get_group).post(add_member))
        .route("/api/groups/{id}/servers", get(get_group).post(add_servers))
}

/// List groups with their members and patterns.
#[utoipa::path(get, path = "/api/groups", tag = "identity",
    responses((status = 200, body = Page<Group>), (status = 403, body = ErrorEnvelope)))]
pub async fn list_groups(
    State(state): State<AppState>,
    auth: AuthUser,
) -> ApiResult<Json<Page<Group>>> {
    auth.require_staff()?;
    let items = groups::list(&state.db, state.workspace).await?;
    Ok(Json(Page {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}

/// Create a group.
#[utoipa::path(post, path = "/api/groups", tag = "identity", request_body = CreateGroup,
    responses((status = 201, body = Group), (status = 409, body = ErrorEnvelope)))]
pub async fn create_group(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(req): ApiJson<CreateGroup>,
) -> ApiResult<(StatusCode, Json<Group>)> {
    auth.require_staff()?;
    if !is_valid_username(&req.name) {
        return Err(ApiError::validation(
            "name",
            "1-64 characters: letters, digits, '.', '_', '-'",
        ));
    }
    let id = groups::insert(&state.db, state.workspace, &req.name, now())
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                ApiError::conflict(format!("group {} already exists", req.name))
            } else {
                e.into()
            }
        })?;
    audit::record(
        &state,
        audit::event("group.created", SUCCESS)
            .actor(&auth.username)
            .target(&req.name),
    )
    .await?;
    let group = groups::get(&state.db, state.workspace, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(group)))
}

/// A group with its members and server patterns.
#[utoipa::path(get, path = "/api/groups/{id}/members", tag = "identity",
    params(("id" = String, Path, description = "group id")),
    responses((status = 200, body = Group), (status = 404, body = ErrorEnvelope)))]
pub async fn get_group(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<GroupId>,
) -> ApiResult<Json<Group>> {
    auth.require_staff()?;
    groups::get(&state.db, state.workspace, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("group"))
}

/// Add a member by username.
#[utoipa::path(post, path = "/api/groups/{id}/members", tag = "identity", request_body = AddGroupMember,
    params(("id" = String, Path, description = "group id")),
    responses((status = 200, body = Group), (status = 404, body = ErrorEnvelope)))]
pub async fn add_member(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<GroupId>,
    ApiJson(req): ApiJson<AddGroupMember>,
) -> ApiResult<Json<Group>> {
    auth.require_staff()?;
    let group = groups::get(&state.db, state.workspace, id)
        .await?
        .ok_or_else(|| ApiError::not_found("group"))?;
    let user = users::by_username(&state.db, state.workspace, &req.username)
        .await?
        .ok_or_else(|| ApiError::validation("username", format!("no user {}", req.username)))?;
    groups::add_member(&state.db, state.workspace, id, user.user_id()?).await?;
    audit::record(
        &state,
        audit::event("group.member_added", SUCCESS)
            .actor(&auth.username)
            .target(&group.name)
            .details(serde_json::json!({"username": req.username})),
    )
    .await?;
    get_group(State(state), auth, ApiPath(id)).await
}

/// Grant the group's members servers by name pattern (`web-*`).
#[utoipa::path(post, path = "/api/groups/{id}/servers", tag = "identity", request_body = AddGroupServers,
    params(("id" = String, Path, description = "group id")),
    responses((status = 200, body = Group), (status = 404, body = ErrorEnvelope)))]
pub async fn add_servers(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<GroupId>,
    ApiJson(req): ApiJson<AddGroupServers>,
) -> ApiResult<Json<Group>> {
    auth.require_staff()?;
    if !is_valid_pattern(&req.pattern) {
        return Err(ApiError::validation(
            "pattern",
            "a server name or pattern such as web-*",
        ));
    }
    let group = groups::get(&state.db, state.workspace, id)
        .await?
        .ok_or_else(|| ApiError::not_found("group"))?;
    groups::add_pattern(&state.db, state.workspace, id, &req.pattern).await?;
    audit::record(
        &state,
        audit::event("group.servers_granted", SUCCESS)
            .actor(&auth.username)
            .target(&group.name)
            .details(serde_json::json!({"pattern": req.pattern})),
    )
    .await?;
    get_group(State(state), auth, ApiPath(id)).await
}
