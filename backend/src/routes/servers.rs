//! Server entries and registration tokens (staff and above manage; members see their grants).

use crate::core::access::{allowed_patterns, is_allowed};
use crate::core::admin;
use crate::core::runas::Person;
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, AuthUser, Staff};
use crate::store::servers::ServerRow;
use crate::store::{groups, servers};
use crate::time::now;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use gatehouse_shared::api::{Page, RunAsChoices};
use gatehouse_shared::pattern;
use gatehouse_shared::server::{
    CreateRegistrationToken, CreateServer, RegistrationToken, RegistrationTokenInfo, Server,
    UpdateServer,
};
use gatehouse_shared::{ErrorEnvelope, ServerId};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/servers", get(list_servers).post(create_server))
        .route(
            "/api/servers/registration-tokens",
            get(list_registration_tokens).post(create_registration_token),
        )
        .route(
            "/api/servers/registration-tokens/{id}",
            delete(revoke_registration_token),
        )
        .route(
            "/api/servers/{id}",
            get(get_server).patch(update_server).delete(delete_server),
        )
        .route("/api/run-as/{server}", get(run_as_choices))
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
#[into_params(parameter_in = Query)]
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
    Staff(auth): Staff,
    ApiJson(req): ApiJson<CreateServer>,
) -> ApiResult<(StatusCode, Json<Server>)> {
    let row = admin::create_server(
        &state.db,
        state.workspace,
        auth.by(),
        &req.name,
        req.platform.as_deref(),
        req.groups.as_deref(),
        now(),
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

/// Change a server entry (staff): the groups accounts created there on first use join, and
/// what tunnels through it may reach (`tunnel_allow`).
#[utoipa::path(patch, path = "/api/servers/{id}", tag = "servers", request_body = UpdateServer,
    params(("id" = String, Path, description = "server id")),
    responses((status = 200, body = Server), (status = 400, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope)))]
pub async fn update_server(
    State(state): State<AppState>,
    Staff(auth): Staff,
    ApiPath(id): ApiPath<ServerId>,
    ApiJson(body): ApiJson<UpdateServer>,
) -> ApiResult<Json<Server>> {
    let row = visible_server(&state, &auth, id).await?;
    if let Some(groups) = &body.provision_groups {
        admin::set_provision_groups(&state.db, state.workspace, auth.by(), &row, groups, now())
            .await?;
    }
    if let Some(rules) = &body.tunnel_allow {
        crate::core::tunnels::set_allow(&state, &auth.username, &row, rules).await?;
    }
    let row = visible_server(&state, &auth, id).await?;
    Ok(Json(with_groups(&state, vec![row]).await?.remove(0)))
}

/// Whom the caller may run as on a server: their own account (the default), the shared accounts
/// their groups grant there, and whether the agent is root (so root, with `sudo`, is possible).
#[utoipa::path(get, path = "/api/run-as/{server}", tag = "servers",
    params(("server" = String, Path, description = "server name")),
    responses((status = 200, body = RunAsChoices), (status = 404, body = ErrorEnvelope)))]
pub async fn run_as_choices(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(server): ApiPath<String>,
) -> ApiResult<Json<RunAsChoices>> {
    let row = servers::by_name(&state.db, state.workspace, &server)
        .await?
        .ok_or_else(|| ApiError::not_found("server"))?;
    let allowed = allowed_patterns(&state, auth.id, auth.role).await?;
    if !is_allowed(&allowed, &row.name) {
        return Err(ApiError::not_found("server"));
    }
    let agent_is_root = row
        .server_id()
        .ok()
        .and_then(|id| state.hub.link(id))
        .is_none_or(|link| link.privileged);
    let person = Person::load(&state, auth.id).await?;
    Ok(Json(RunAsChoices {
        own: person.decide(&row.name, None, agent_is_root).user,
        granted: person.granted_on(&row.name),
        agent_is_root,
    }))
}

/// Delete a server entry and its agent credential.
#[utoipa::path(delete, path = "/api/servers/{id}", tag = "servers",
    params(("id" = String, Path, description = "server id")),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
pub async fn delete_server(
    State(state): State<AppState>,
    Staff(auth): Staff,
    ApiPath(id): ApiPath<ServerId>,
) -> ApiResult<StatusCode> {
    let row = visible_server(&state, &auth, id).await?;
    admin::delete_server(&state.db, state.workspace, auth.by(), id, &row.name, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Outstanding registration tokens (unexpired, uses left), newest first; never their secrets.
#[utoipa::path(get, path = "/api/servers/registration-tokens", tag = "servers",
    responses((status = 200, body = Page<RegistrationTokenInfo>), (status = 403, body = ErrorEnvelope)))]
pub async fn list_registration_tokens(
    State(state): State<AppState>,
    _: Staff,
) -> ApiResult<Json<Page<RegistrationTokenInfo>>> {
    let items = servers::outstanding_registration_tokens(&state.db, state.workspace, now()).await?;
    Ok(Json(Page {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}

/// Revoke an outstanding registration token.
#[utoipa::path(delete, path = "/api/servers/registration-tokens/{id}", tag = "servers",
    params(("id" = String, Path, description = "registration token id")),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
pub async fn revoke_registration_token(
    State(state): State<AppState>,
    Staff(auth): Staff,
    ApiPath(id): ApiPath<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    admin::revoke_registration_token(&state.db, state.workspace, auth.by(), id, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Issue a one-time (or few-times) token an agent exchanges for its credential.
#[utoipa::path(post, path = "/api/servers/registration-tokens", tag = "servers",
    request_body = CreateRegistrationToken,
    responses((status = 201, body = RegistrationToken), (status = 403, body = ErrorEnvelope)))]
pub async fn create_registration_token(
    State(state): State<AppState>,
    Staff(auth): Staff,
    ApiJson(req): ApiJson<CreateRegistrationToken>,
) -> ApiResult<(StatusCode, Json<RegistrationToken>)> {
    let issued = admin::issue_registration_token(
        &state.db,
        state.workspace,
        auth.by(),
        auth.id,
        req.expires_in_secs.unwrap_or(3600),
        req.max_uses.unwrap_or(1),
        now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(RegistrationToken {
            id: issued.id,
            token: issued.token,
            expires_at: issued.expires_at,
            max_uses: issued.max_uses,
        }),
    ))
}
