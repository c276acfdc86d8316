//! Server entries, their registration tokens, whom one may run as on a server, and the
//! workspace's settings, through the typed client the CLI uses too.

use super::{client, parse_id, ApiResult};
use gatehouse_shared::api::{Page, RunAsChoices};
use gatehouse_shared::server::{CreateRegistrationToken, CreateServer, RegistrationToken, Server};
use gatehouse_shared::settings::{Settings, SettingsPatch};

/// One server, by the id the page's address holds.
pub async fn server(id: &str) -> ApiResult<Server> {
    Ok(client()?.server(parse_id(id, "server")?).await?)
}

/// The servers the caller may see whose name contains `q` (all of them for `""`).
pub async fn servers(q: &str) -> ApiResult<Page<Server>> {
    let q = Some(q.to_owned()).filter(|q| !q.is_empty());
    Ok(client()?.servers(q).await?)
}

/// The accounts the caller may run as on `server`.
pub async fn run_as_choices(server: &str) -> ApiResult<RunAsChoices> {
    Ok(client()?.run_as_choices(server).await?)
}

/// Creates a server entry that an agent later registers into.
pub async fn create_server(body: &CreateServer) -> ApiResult<Server> {
    Ok(client()?.create_server(body).await?)
}

pub async fn create_registration_token(
    body: &CreateRegistrationToken,
) -> ApiResult<RegistrationToken> {
    Ok(client()?.create_registration_token(body).await?)
}

pub async fn settings() -> ApiResult<Settings> {
    Ok(client()?.settings().await?)
}

pub async fn update_settings(patch: &SettingsPatch) -> ApiResult<Settings> {
    Ok(client()?.update_settings(patch).await?)
}
