//! Service accounts: non-human principals a superuser creates for CI pipelines and AI agents.
//! They have no password (no sign-in can ever succeed), act only through their own `ghst_`
//! tokens, and are named `svc:<name>` wherever the audit log names an actor.

use crate::core::admin::{self, By, IssuedApiToken};
use crate::core::audit::{self, SUCCESS};
use crate::core::state::AppState;
use crate::core::CoreError;
use crate::store::users::{self, NewUser, UserRow};
use crate::store::{StoreError, WriteTx};
use crate::time::{from_micros, now};
use gatehouse_shared::acl::api::{
    is_valid_service_name, service_username, ServiceAccount, SERVICE_PREFIX,
};
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::token::SERVICE_TOKEN_PREFIX;
use gatehouse_shared::{Role, UserId};

/// Stored in place of a password hash: not a PHC string, so no password ever verifies.
const NO_PASSWORD: &str = "!service-account";

/// Creates the service account `name`, audited.
pub async fn create(
    state: &AppState,
    by: By<'_>,
    name: &str,
    description: Option<&str>,
) -> Result<ServiceAccount, CoreError> {
    let name = name.trim();
    if !is_valid_service_name(name) {
        return Err(CoreError::invalid(
            "name",
            "1-48 characters: letters, digits, . _ -",
        ));
    }
    let description = description.map(str::trim).filter(|d| !d.is_empty());
    if description.is_some_and(|d| d.chars().count() > 500) {
        return Err(CoreError::invalid("description", "at most 500 characters"));
    }
    let username = service_username(name);
    let at = now();
    let mut tx = WriteTx::begin(&state.db, state.workspace, at).await?;
    let user = users::insert(
        &mut tx,
        state.workspace,
        &NewUser {
            username: &username,
            unix_user: None,
            email: None,
            role: Role::Member,
            password_hash: NO_PASSWORD,
        },
        at,
    )
    .await
    .map_err(|e| match e {
        StoreError::Duplicate => {
            CoreError::Conflict(format!("a service account named {name} exists"))
        }
        other => other.into(),
    })?;
    users::mark_service(&mut tx, user.id, description).await?;
    tx.commit(
        audit::event(AuditAction::ServiceAccountCreated, SUCCESS)
            .actor(by.name)
            .target(user.id.to_string())
            .details(serde_json::json!({"name": username, "unix_user": user.unix_user})),
    )
    .await?;
    Ok(ServiceAccount {
        id: user.id,
        name: name.to_owned(),
        username,
        description: description.map(str::to_owned),
        unix_user: user.unix_user,
        created_at: at,
        disabled: false,
    })
}

/// Every service account.
pub async fn list(state: &AppState) -> Result<Vec<ServiceAccount>, CoreError> {
    users::list_services(&state.db, state.workspace)
        .await?
        .into_iter()
        .map(|row| view(&row))
        .collect()
}

/// A token for service account `id`, issued by a superuser (`by`); its secret starts `ghst_`.
pub async fn issue_token(
    state: &AppState,
    by: By<'_>,
    id: UserId,
    name: &str,
    days: i64,
) -> Result<IssuedApiToken, CoreError> {
    let row = users::by_id(&state.db, state.workspace, id)
        .await?
        .filter(UserRow::is_service)
        .ok_or(CoreError::NotFound("service account"))?;
    if row.disabled_at.is_some() {
        return Err(CoreError::Conflict(
            "this service account is disabled".into(),
        ));
    }
    admin::issue_token(
        &state.db,
        state.workspace,
        by,
        id,
        SERVICE_TOKEN_PREFIX,
        name,
        days,
        now(),
    )
    .await
}

fn view(row: &UserRow) -> Result<ServiceAccount, CoreError> {
    Ok(ServiceAccount {
        id: row.user_id()?,
        name: row
            .username
            .strip_prefix(SERVICE_PREFIX)
            .unwrap_or(&row.username)
            .to_owned(),
        username: row.username.clone(),
        description: row.description.clone(),
        unix_user: row.unix_user(),
        created_at: from_micros(row.created_at),
        disabled: row.disabled_at.is_some(),
    })
}
