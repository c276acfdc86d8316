//! One's own sign-ins (browser and `gate` CLI) and the device sign-in a CLI asks for, through
//! the typed client the CLI uses too.

use super::{client, ApiResult};
use gatehouse_shared::api::Page;
use gatehouse_shared::signin::{DeviceDecision, PendingDevice, Signin};

/// The caller's sign-ins, newest first.
pub async fn signins() -> ApiResult<Page<Signin>> {
    Ok(client()?.signins().await?)
}

/// Ends one of the caller's sign-ins.
pub async fn revoke_signin(id: uuid::Uuid) -> ApiResult<()> {
    Ok(client()?.revoke_signin(id).await?)
}

/// What asked to sign in with `user_code`, from where and when.
pub async fn pending_device(user_code: &str) -> ApiResult<PendingDevice> {
    Ok(client()?.pending_device(user_code).await?)
}

/// Approves or denies the device sign-in `user_code`.
pub async fn decide_device(user_code: String, approve: bool) -> ApiResult<()> {
    Ok(client()?
        .decide_device(&DeviceDecision { user_code, approve })
        .await?)
}
