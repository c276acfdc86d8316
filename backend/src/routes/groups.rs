//! Groups: members and the server-name patterns they grant (staff and above).

use crate::core::admin::{self, GroupRemoval};
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, Staff};
use crate::store::groups;
use crate::time::now;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use gatehouse_shared::api::{
    AddGroupMember, AddGroupServers, CreateGroup, Group, Page, RunAsGrant,
};
use gatehouse_shared::{ErrorEnvelope, GroupId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/groups", get(list_groups).post(create_group))
        .route("/api/groups/{id}/members", get(get_group).post(add_member))
        .route("/api/groups/{id}/servers", get(get_group).post(add_servers))
        .route("/api/groups/{id}/run-as", post(add_run_as))
        .route("/api/groups/{id}", delete(delete_group))
        .route("/api/groups/{id}/members/{username}", delete(remove_member))
        .route("/api/groups/{id}/servers/{pattern}", delete(remove_servers))
}

/// Delete a group: its members lose what it granted.
#[utoipa::path(delete, path = "/api/groups/{id}", tag = "identity",
    params(("id" = String, Path, description = "group id")),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
pub async fn delete_group(
    State(state): State<AppState>,
    Staff(auth): Staff,
    ApiPath(id): ApiPath<GroupId>,
) -> ApiResult<StatusCode> {
    let removal = GroupRemoval::Group;
    admin::remove_from_group(&state.db, state.workspace, auth.by(), id, removal, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take a member out of a group.
#[utoipa::path(delete, path = "/api/groups/{id}/members/{username}", tag = "identity",
    params(("id" = String, Path, description = "group id"),
           ("username" = String, Path, description = "the member")),
    responses((status = 200, body = Group), (status = 404, body = ErrorEnvelope)))]
pub async fn remove_member(
    State(state): State<AppState>,
    Staff(auth): Staff,
    ApiPath((id, username)): ApiPath<(GroupId, String)>,
) -> ApiResult<Json<Group>> {
    let removal = GroupRemoval::Member(&username);
    admin::remove_from_group(&state.db, state.workspace, auth.by(), id, removal, now()).await?;
    get_group(State(state), Staff(auth), ApiPath(id)).await
}

/// Take a server pattern from a group; the pattern itself names it (URL-encoded: `web-%2A`).
#[utoipa::path(delete, path = "/api/groups/{id}/servers/{pattern}", tag = "identity",
    params(("id" = String, Path, description = "group id"),
           ("pattern" = String, Path, description = "the pattern, as the group lists it")),
    responses((status = 200, body = Group), (status = 404, body = ErrorEnvelope)))]
pub async fn remove_servers(
    State(state): State<AppState>,
    Staff(auth): Staff,
    ApiPath((id, pattern)): ApiPath<(GroupId, String)>,
) -> ApiResult<Json<Group>> {
    let removal = GroupRemoval::Pattern(&pattern);
    admin::remove_from_group(&state.db, state.workspace, auth.by(), id, removal, now()).await?;
    get_group(State(state), Staff(auth), ApiPath(id)).await
}

/// List groups with their members and patterns.
#[utoipa::path(get, path = "/api/groups", tag = "identity",
    responses((status = 200, body = Page<Group>), (status = 403, body = ErrorEnvelope)))]
pub async fn list_groups(State(state): State<AppState>, _: Staff) -> ApiResult<Json<Page<Group>>> {
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
    Staff(auth): Staff,
    ApiJson(req): ApiJson<CreateGroup>,
) -> ApiResult<(StatusCode, Json<Group>)> {
    let id = admin::create_group(&state.db, state.workspace, auth.by(), &req.name, now()).await?;
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
    _: Staff,
    ApiPath(id): ApiPath<GroupId>,
) -> ApiResult<Json<Group>> {
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
    Staff(auth): Staff,
    ApiPath(id): ApiPath<GroupId>,
    ApiJson(req): ApiJson<AddGroupMember>,
) -> ApiResult<Json<Group>> {
    admin::add_group_member(
        &state.db,
        state.workspace,
        auth.by(),
        id,
        &req.username,
        now(),
    )
    .await?;
    get_group(State(state), Staff(auth), ApiPath(id)).await
}

/// Grant the group's members servers by name pattern (`web-*`).
#[utoipa::path(post, path = "/api/groups/{id}/servers", tag = "identity", request_body = AddGroupServers,
    params(("id" = String, Path, description = "group id")),
    responses((status = 200, body = Group), (status = 404, body = ErrorEnvelope)))]
pub async fn add_servers(
    State(state): State<AppState>,
    Staff(auth): Staff,
    ApiPath(id): ApiPath<GroupId>,
    ApiJson(req): ApiJson<AddGroupServers>,
) -> ApiResult<Json<Group>> {
    admin::add_group_servers(
        &state.db,
        state.workspace,
        auth.by(),
        id,
        &req.pattern,
        now(),
    )
    .await?;
    get_group(State(state), Staff(auth), ApiPath(id)).await
}

/// Let the group's members run as a shared server account (such as `deploy`) on servers
/// matching `pattern` (every server when absent).
#[utoipa::path(post, path = "/api/groups/{id}/run-as", tag = "identity", request_body = RunAsGrant,
    params(("id" = String, Path, description = "group id")),
    responses((status = 200, body = Group), (status = 404, body = ErrorEnvelope)))]
pub async fn add_run_as(
    State(state): State<AppState>,
    Staff(auth): Staff,
    ApiPath(id): ApiPath<GroupId>,
    ApiJson(req): ApiJson<RunAsGrant>,
) -> ApiResult<Json<Group>> {
    admin::grant_group_run_as(&state.db, state.workspace, auth.by(), id, &req, now()).await?;
    get_group(State(state), Staff(auth), ApiPath(id)).await
}
