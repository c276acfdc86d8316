//! Identity: first-run setup, who am I, signing in (the console's cookie, or the command line's
//! password or device flow), signing out, one's own password and MFA (enrolment, step-up,
//! recovery codes), the server's version and the live-update stream.

use super::Client;
use crate::error::ClientError;
#[cfg(not(target_arch = "wasm32"))]
use crate::transport::EventStream;
use gatehouse_shared::api::{
    ChangePassword, LoginRequest, LoginResponse, MfaVerified, MfaVerify, OtpBody, Page,
    RecoveryCodes, SetupRequest, SetupStatus, TotpEnrollment, VersionInfo, WhoAmI,
};
use gatehouse_shared::signin::{
    CliLoginResponse, DeviceAuthorization, DeviceDecision, DeviceRequest, DeviceToken,
    DeviceTokenRequest, PendingDevice, Signin, SigninClient,
};
use gatehouse_shared::User;

impl Client {
    /// `GET /api/auth/whoami`.
    pub async fn whoami(&self) -> Result<WhoAmI, ClientError> {
        self.get("/api/auth/whoami", Vec::new()).await
    }

    /// `GET /api/setup`: whether the workspace still needs its first superuser.
    pub async fn setup_status(&self) -> Result<SetupStatus, ClientError> {
        self.get("/api/setup", Vec::new()).await
    }

    /// `POST /api/setup`: creates the first superuser (once).
    pub async fn setup(&self, body: &SetupRequest) -> Result<User, ClientError> {
        self.post("/api/setup", body).await
    }

    /// `POST /api/auth/login` as a browser: the sign-in travels as a cookie, and the answer
    /// carries the CSRF token state-changing requests must show.
    pub async fn login(&self, body: &LoginRequest) -> Result<LoginResponse, ClientError> {
        self.post("/api/auth/login", body).await
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

    /// `POST /api/auth/mfa/totp`: a new TOTP secret to confirm (not in force until then).
    pub async fn totp_enroll(&self) -> Result<TotpEnrollment, ClientError> {
        self.post("/api/auth/mfa/totp", &()).await
    }

    /// `POST /api/auth/mfa/totp/confirm`: a first code from the new secret puts it in force.
    pub async fn totp_confirm(&self, otp: &str) -> Result<(), ClientError> {
        let body = OtpBody {
            otp: otp.to_owned(),
        };
        self.post_empty("/api/auth/mfa/totp/confirm", &body).await
    }

    /// `POST /api/auth/password`: changes one's own password (every other sign-in ends).
    pub async fn change_password(&self, current: &str, new: &str) -> Result<(), ClientError> {
        let body = ChangePassword {
            current: current.to_owned(),
            new: new.to_owned(),
        };
        self.post_empty("/api/auth/password", &body).await
    }

    /// `POST /api/auth/mfa/recovery-codes`: ten new codes replacing any earlier set (step-up).
    pub async fn recovery_codes(&self) -> Result<RecoveryCodes, ClientError> {
        self.post("/api/auth/mfa/recovery-codes", &()).await
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
