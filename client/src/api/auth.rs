//! Identity: who am I, signing in from the command line (password or device flow), signing
//! out, step-up MFA, the server's version and the live-update stream.

use super::Client;
use crate::error::ClientError;
#[cfg(not(target_arch = "wasm32"))]
use crate::transport::EventStream;
use gatehouse_shared::api::{LoginRequest, MfaVerified, MfaVerify, Page, VersionInfo, WhoAmI};
use gatehouse_shared::signin::{
    CliLoginResponse, DeviceAuthorization, DeviceDecision, DeviceRequest, DeviceToken,
    DeviceTokenRequest, PendingDevice, Signin, SigninClient,
};

impl Client {
    /// `GET /api/auth/whoami`.
    pub async fn whoami(&self) -> Result<WhoAmI, ClientError> {
        self.get("/api/auth/whoami", Vec::new()).await
    }

    /// `POST /api/auth/login` with `client: "cli"`: a CLI sign-in instead of a cookie, in the
    /// shape a device sign-in also ends in. `mfa_required` (401) asks for the one-time code.
    pub async fn login_cli(
        &self,
        username: &str,
        password: &str,
        otp: Option<&str>,
        client_name: &str,
    ) -> Result<DeviceToken, ClientError> {
        let body = LoginRequest {
            username: username.to_owned(),
            password: password.to_owned(),
            otp: otp.map(str::to_owned),
            client: Some(SigninClient::Cli),
            client_name: Some(client_name.to_owned()),
        };
        let signed_in: CliLoginResponse = self.post("/api/auth/login", &body).await?;
        Ok(DeviceToken {
            access_token: signed_in.access_token,
            token_type: "Bearer".to_owned(),
            expires_at: signed_in.expires_at,
            user: signed_in.user,
        })
    }

    /// `POST /api/auth/device`: starts the device flow.
    pub async fn device_start(
        &self,
        client_name: &str,
    ) -> Result<DeviceAuthorization, ClientError> {
        let body = DeviceRequest {
            client_name: Some(client_name.to_owned()),
        };
        self.post("/api/auth/device", &body).await
    }

    /// `POST /api/auth/device/token`: one poll; `authorization_pending`, `slow_down`,
    /// `expired_token` and `access_denied` come back as [`ClientError::Api`].
    pub async fn device_token(&self, device_code: &str) -> Result<DeviceToken, ClientError> {
        let body = DeviceTokenRequest {
            device_code: device_code.to_owned(),
        };
        self.post("/api/auth/device/token", &body).await
    }

    /// `GET /api/auth/device?user_code=`: what asked to sign in, for the person to check
    /// (a browser sign-in only).
    pub async fn pending_device(&self, user_code: &str) -> Result<PendingDevice, ClientError> {
        let q = vec![("user_code".to_owned(), user_code.to_owned())];
        self.get("/api/auth/device", q).await
    }

    /// `POST /api/auth/device/decide`: approve or deny a device sign-in (a browser sign-in).
    pub async fn decide_device(&self, decision: &DeviceDecision) -> Result<(), ClientError> {
        self.post_empty("/api/auth/device/decide", decision).await
    }

    /// `POST /api/auth/logout`: ends this sign-in.
    pub async fn logout(&self) -> Result<(), ClientError> {
        self.post_empty("/api/auth/logout", &serde_json::json!({}))
            .await
    }

    /// `GET /api/auth/signins`: the caller's browser and CLI sign-ins, as the server shows them.
    pub async fn signins(&self) -> Result<Page<Signin>, ClientError> {
        self.get("/api/auth/signins", Vec::new()).await
    }

    /// `DELETE /api/auth/signins/{id}`: ends one sign-in.
    pub async fn revoke_signin(&self, id: uuid::Uuid) -> Result<(), ClientError> {
        self.delete(&format!("/api/auth/signins/{id}")).await
    }

    /// `POST /api/auth/mfa/verify`: proves a one-time code on this sign-in (step-up).
    pub async fn mfa_verify(&self, otp: &str) -> Result<MfaVerified, ClientError> {
        let body = MfaVerify {
            otp: otp.to_owned(),
        };
        self.post("/api/auth/mfa/verify", &body).await
    }

    /// `GET /api/version` (no sign-in needed).
    pub async fn version(&self) -> Result<VersionInfo, ClientError> {
        self.get("/api/version", Vec::new()).await
    }

    /// `GET /api/events`: "work sessions changed" pushes, to refetch on. (In a browser the
    /// console's own `EventSource` reads them.)
    #[cfg(not(target_arch = "wasm32"))]
    pub async fn events(&self) -> Result<EventStream, ClientError> {
        self.transport
            .stream(self.request(super::Method::Get, "/api/events"))
            .await
    }
}
