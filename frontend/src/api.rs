//! The console's one typed API client: every call to the server goes through here.
//!
//! Requests carry the session cookie (same origin) and, for state changes, the CSRF token that
//! sign-in or `whoami` returned. Failures come back as the server's own [`ErrorEnvelope`].

use gatehouse_shared::api::{
    AddGroupMember, AddGroupServers, ChangePassword, CreateGroup, CreateUser, Group, LoginRequest,
    LoginResponse, MfaReset, MfaVerified, MfaVerify, OtpBody, Page, PasswordReset, RecoveryCodes,
    SetupRequest, SetupStatus, TotpEnrollment, UpdateUser, WhoAmI,
};
use gatehouse_shared::approval::{Approval, PendingApproval};
use gatehouse_shared::audit::{AuditEvent, AuditVerification};
use gatehouse_shared::server::{CreateRegistrationToken, RegistrationToken, Server};
use gatehouse_shared::settings::{Settings, SettingsPatch};
use gatehouse_shared::token::{ApiToken, CreateApiToken, CreatedApiToken};
use gatehouse_shared::websh::{OpenWebsh, OpenedWebsh};
use gatehouse_shared::work_session::{
    ApproveWorkSession, CreateWorkSession, DecisionReason, ExtendWorkSession, TimelineEvent,
};
use gatehouse_shared::{ErrorCode, ErrorEnvelope, User, UserId, WorkSession, WorkSessionId};
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::RefCell;

pub mod acl;
pub mod signins;
pub mod tunnels;

thread_local! {
    /// The CSRF token of the signed-in console; sent on every state-changing request.
    static CSRF: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Remembers (or forgets) the CSRF token after sign-in, `whoami` or sign-out.
pub fn set_csrf(token: Option<String>) {
    CSRF.with(|slot| *slot.borrow_mut() = token);
}

/// A failed call: the HTTP status (0 when the network failed) and the server's envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub envelope: ErrorEnvelope,
}

impl ApiError {
    fn network(message: impl std::fmt::Display) -> Self {
        Self {
            status: 0,
            envelope: ErrorEnvelope::new(
                ErrorCode::Internal,
                format!("cannot reach the server: {message}"),
            ),
        }
    }

    pub fn code(&self) -> ErrorCode {
        self.envelope.error_code
    }

    /// The message for one form field, when the server named that field.
    pub fn field(&self, name: &str) -> Option<String> {
        self.envelope
            .fields
            .iter()
            .find(|f| f.field == name)
            .map(|f| f.message.clone())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.envelope.message.fmt(f)?;
        if let Some(reason) = &self.envelope.reason {
            write!(f, " ({reason})")?;
        }
        Ok(())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The typed client of the API the CLI also uses, as the console speaks it: the page's own
/// origin, its cookie (sent by the browser) and the CSRF token of this sign-in.
pub fn client() -> Result<gatehouse_client::Client, gatehouse_client::ClientError> {
    gatehouse_client::Client::new(gatehouse_client::ClientConfig {
        csrf_token: CSRF.with(|slot| slot.borrow().clone()),
        ..Default::default()
    })
}

impl From<gatehouse_client::ClientError> for ApiError {
    fn from(e: gatehouse_client::ClientError) -> Self {
        match &e {
            gatehouse_client::ClientError::Api(refusal) => ApiError {
                status: refusal.status,
                envelope: serde_json::from_value(refusal.envelope.clone()).unwrap_or_else(|_| {
                    ErrorEnvelope::new(ErrorCode::Internal, refusal.message.clone())
                }),
            },
            gatehouse_client::ClientError::Network(_) => ApiError::network(e),
            // Found in the browser itself: nothing reached the server.
            _ => ApiError::local(e),
        }
    }
}

/// Percent-encodes one query-string value.
pub fn encode(value: &str) -> String {
    String::from(js_sys::encode_uri_component(value))
}

/// Builds `?a=1&b=2` from pairs, skipping empty values.
pub fn query(pairs: &[(&str, String)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

fn with_csrf(builder: RequestBuilder) -> RequestBuilder {
    match CSRF.with(|slot| slot.borrow().clone()) {
        Some(token) => builder.header("X-CSRF-Token", &token),
        None => builder,
    }
}

async fn decode<T: DeserializeOwned>(response: Response) -> ApiResult<T> {
    let status = response.status();
    if response.ok() {
        // 204 and other empty bodies decode as JSON `null` (fits `()` and `Option`).
        let text = response.text().await.map_err(ApiError::network)?;
        let text = if text.is_empty() { "null" } else { &text };
        return serde_json::from_str(text).map_err(ApiError::network);
    }
    let envelope = match response.json::<ErrorEnvelope>().await {
        Ok(envelope) => envelope,
        Err(_) => ErrorEnvelope::new(ErrorCode::Internal, format!("the server answered {status}")),
    };
    Err(ApiError { status, envelope })
}

async fn send<T: DeserializeOwned>(request: Result<Request, gloo_net::Error>) -> ApiResult<T> {
    let request = request.map_err(ApiError::network)?;
    let response = request.send().await.map_err(ApiError::network)?;
    decode(response).await
}

/// `GET path`.
pub async fn get<T: DeserializeOwned>(path: &str) -> ApiResult<T> {
    send(Request::get(path).build()).await
}

/// `POST path` with a JSON body.
pub async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ApiResult<T> {
    send(with_csrf(Request::post(path)).json(body)).await
}

/// `POST path` with a JSON body, under an explicit work session (`X-Work-Session`).
pub async fn post_in_session<B: Serialize, T: DeserializeOwned>(
    path: &str,
    session: Option<WorkSessionId>,
    body: &B,
) -> ApiResult<T> {
    let mut builder = with_csrf(Request::post(path));
    if let Some(id) = session {
        builder = builder.header("X-Work-Session", &id.to_string());
    }
    send(builder.json(body)).await
}

/// `DELETE path`, ignoring the body of a success.
pub async fn delete(path: &str) -> ApiResult<()> {
    let request = with_csrf(Request::delete(path))
        .build()
        .map_err(ApiError::network)?;
    let response = request.send().await.map_err(ApiError::network)?;
    decode(response).await
}

/// `GET path` as text (recordings, exports).
pub async fn get_text(path: &str) -> ApiResult<String> {
    let response = Request::get(path).send().await.map_err(ApiError::network)?;
    if response.ok() {
        return response.text().await.map_err(ApiError::network);
    }
    decode::<serde_json::Value>(response)
        .await
        .map(|_| String::new())
}

// ---- identity ----

pub async fn setup_status() -> ApiResult<SetupStatus> {
    get("/api/setup").await
}

pub async fn setup(body: &SetupRequest) -> ApiResult<User> {
    post("/api/setup", body).await
}

pub async fn login(body: &LoginRequest) -> ApiResult<LoginResponse> {
    let response: LoginResponse = post("/api/auth/login", body).await?;
    set_csrf(Some(response.csrf_token.clone()));
    Ok(response)
}

pub async fn logout() -> ApiResult<()> {
    let result: ApiResult<()> = post("/api/auth/logout", &()).await;
    set_csrf(None);
    result
}

pub async fn whoami() -> ApiResult<WhoAmI> {
    let me: WhoAmI = get("/api/auth/whoami").await?;
    if me.csrf_token.is_some() {
        set_csrf(me.csrf_token.clone());
    }
    Ok(me)
}

pub async fn totp_enroll() -> ApiResult<TotpEnrollment> {
    post("/api/auth/mfa/totp", &()).await
}

pub async fn totp_confirm(otp: String) -> ApiResult<()> {
    post("/api/auth/mfa/totp/confirm", &OtpBody { otp }).await
}

/// `POST /api/auth/password`: change one's own password (every other sign-in ends).
pub async fn change_password(current: String, new: String) -> ApiResult<()> {
    post("/api/auth/password", &ChangePassword { current, new }).await
}

/// Step-up: proves a one-time (or recovery) code on this sign-in.
pub async fn mfa_verify(otp: String) -> ApiResult<MfaVerified> {
    post("/api/auth/mfa/verify", &MfaVerify { otp }).await
}

/// Ten new recovery codes, replacing any earlier set (step-up).
pub async fn recovery_codes() -> ApiResult<RecoveryCodes> {
    post("/api/auth/mfa/recovery-codes", &()).await
}

/// Staff: a one-time password for `id` (step-up).
pub async fn reset_password(id: UserId) -> ApiResult<PasswordReset> {
    post(&format!("/api/users/{id}/password-reset"), &()).await
}

/// Staff: removes `id`'s TOTP and recovery codes (step-up).
pub async fn reset_mfa(id: UserId) -> ApiResult<MfaReset> {
    post(&format!("/api/users/{id}/mfa-reset"), &()).await
}

pub async fn users() -> ApiResult<Page<User>> {
    get("/api/users?limit=500").await
}

pub async fn create_user(body: &CreateUser) -> ApiResult<User> {
    post("/api/users", body).await
}

/// `PATCH /api/users/{id}`: role, disabled, own server account.
pub async fn update_user(id: UserId, body: &UpdateUser) -> ApiResult<User> {
    let request = with_csrf(Request::patch(&format!("/api/users/{id}"))).json(body);
    send(request).await
}

pub async fn groups() -> ApiResult<Page<Group>> {
    get("/api/groups").await
}

pub async fn create_group(name: String) -> ApiResult<Group> {
    post("/api/groups", &CreateGroup { name }).await
}

pub async fn add_group_member(group: &str, username: String) -> ApiResult<Group> {
    post(
        &format!("/api/groups/{group}/members"),
        &AddGroupMember { username },
    )
    .await
}

pub async fn add_group_servers(group: &str, pattern: String) -> ApiResult<Group> {
    post(
        &format!("/api/groups/{group}/servers"),
        &AddGroupServers { pattern },
    )
    .await
}

pub async fn tokens() -> ApiResult<Page<ApiToken>> {
    get("/api/tokens").await
}

pub async fn create_token(body: &CreateApiToken) -> ApiResult<CreatedApiToken> {
    post("/api/tokens", body).await
}

pub async fn revoke_token(id: &str) -> ApiResult<()> {
    delete(&format!("/api/tokens/{id}")).await
}

// ---- servers ----

pub async fn server(id: &str) -> ApiResult<Server> {
    get(&format!("/api/servers/{}", encode(id))).await
}

pub async fn servers(q: &str) -> ApiResult<Page<Server>> {
    get(&format!("/api/servers{}", query(&[("q", q.to_owned())]))).await
}

pub async fn create_registration_token(
    body: &CreateRegistrationToken,
) -> ApiResult<RegistrationToken> {
    post("/api/servers/registration-tokens", body).await
}

// ---- work sessions ----

pub async fn work_sessions(query_string: &str) -> ApiResult<Page<WorkSession>> {
    get(&format!("/api/work-sessions{query_string}")).await
}

pub async fn work_session(id: &str) -> ApiResult<WorkSession> {
    get(&format!("/api/work-sessions/{id}")).await
}

pub async fn timeline(id: &str) -> ApiResult<Vec<TimelineEvent>> {
    let page: Page<TimelineEvent> = get(&format!("/api/work-sessions/{id}/timeline")).await?;
    Ok(page.items)
}

pub async fn create_work_session(body: &CreateWorkSession) -> ApiResult<WorkSession> {
    post("/api/work-sessions", body).await
}

/// One of the lifecycle verbs (`approve`, `reject`, `revoke`, `cancel`, `activate`, `complete`,
/// `extend`, `use`) with its body.
pub async fn transition<B: Serialize, T: DeserializeOwned>(
    id: WorkSessionId,
    verb: &str,
    body: &B,
) -> ApiResult<T> {
    post(&format!("/api/work-sessions/{id}/{verb}"), body).await
}

pub async fn approve(id: WorkSessionId, body: &ApproveWorkSession) -> ApiResult<WorkSession> {
    transition(id, "approve", body).await
}

pub async fn decide_with_reason(
    id: WorkSessionId,
    verb: &str,
    reason: Option<String>,
) -> ApiResult<WorkSession> {
    transition(id, verb, &DecisionReason { reason }).await
}

/// What an extension did: applied now, or waiting for an approver (202).
pub enum Extended {
    Now(Box<WorkSession>),
    /// Waiting for an approver; `GET /api/approvals?work_session=` shows the request.
    Pending,
}

pub async fn extend(id: WorkSessionId, body: &ExtendWorkSession) -> ApiResult<Extended> {
    let answer: serde_json::Value = transition(id, "extend", body).await?;
    let parsed = if answer["status"] == "pending_approval" {
        serde_json::from_value::<PendingApproval>(answer).map(|_| Extended::Pending)
    } else {
        serde_json::from_value(answer).map(|s| Extended::Now(Box::new(s)))
    };
    parsed.map_err(ApiError::network)
}

// ---- the approvals queue and settings ----

/// `GET /api/approvals` with a query string such as `?kind=extension`.
pub async fn approvals(query_string: &str) -> ApiResult<Vec<Approval>> {
    let page: Page<Approval> = get(&format!("/api/approvals{query_string}")).await?;
    Ok(page.items)
}

/// Approves (`approve`) or rejects (`reject`) an approval.
pub async fn decide_approval(
    id: uuid::Uuid,
    verb: &str,
    reason: Option<String>,
) -> ApiResult<Approval> {
    post(
        &format!("/api/approvals/{id}/{verb}"),
        &DecisionReason { reason },
    )
    .await
}

pub async fn settings() -> ApiResult<Settings> {
    get("/api/settings").await
}

pub async fn update_settings(patch: &SettingsPatch) -> ApiResult<Settings> {
    send(with_csrf(Request::patch("/api/settings")).json(patch)).await
}

// ---- websh and audit ----

pub async fn open_websh(
    session: Option<WorkSessionId>,
    body: &OpenWebsh,
) -> ApiResult<OpenedWebsh> {
    post_in_session("/api/websh", session, body).await
}

/// Ends a live terminal (its shell is killed; viewers see `terminated`).
pub async fn terminate_websh(id: uuid::Uuid) -> ApiResult<()> {
    delete(&format!("/api/websh/{id}")).await
}

// ---- shared terminals and oversight ----

use gatehouse_shared::share::{
    CreateShare, JoinShare, Joined, LiveTerminal, Participant, ShareCreated, ShareInfo,
};
use gatehouse_shared::{ParticipantId, ShareId};

/// A new link to the caller's terminal `id`; its password is in this answer only.
pub async fn create_share(id: uuid::Uuid, body: &CreateShare) -> ApiResult<ShareCreated> {
    post(&format!("/api/websh/{id}/share"), body).await
}

/// The links to terminal `id` (owner or staff), never with their secrets.
pub async fn shares(id: uuid::Uuid) -> ApiResult<Page<ShareInfo>> {
    get(&format!("/api/websh/{id}/shares")).await
}

/// Revokes a link; guests who came through it are disconnected.
pub async fn revoke_share(id: uuid::Uuid, share: ShareId) -> ApiResult<()> {
    delete(&format!("/api/websh/{id}/shares/{share}")).await
}

/// Who is in terminal `id` now (the stream pushes the same list on every change).
pub async fn participants(id: uuid::Uuid) -> ApiResult<Page<Participant>> {
    get(&format!("/api/websh/{id}/participants")).await
}

/// Disconnects a participant (owner or staff; never the owner).
pub async fn remove_participant(id: uuid::Uuid, participant: ParticipantId) -> ApiResult<()> {
    delete(&format!("/api/websh/{id}/participants/{participant}")).await
}

/// A guest joins by link: no account, so no cookie and no CSRF header. Credentials are left out
/// on purpose, so a browser that happens to be signed in joins as the same guest as any other.
pub async fn join_share(body: &JoinShare) -> ApiResult<Joined> {
    send(
        Request::post("/api/share/join")
            .credentials(web_sys::RequestCredentials::Omit)
            .json(body),
    )
    .await
}

/// Live terminals: every one for staff and superusers, a member's own otherwise.
pub async fn live_terminals() -> ApiResult<Page<LiveTerminal>> {
    get("/api/websh/live?limit=500").await
}

pub async fn recording(id: &str) -> ApiResult<String> {
    get_text(&format!("/api/websh/{id}/recording")).await
}

pub async fn audit(query_string: &str) -> ApiResult<Page<AuditEvent>> {
    get(&format!("/api/audit{query_string}")).await
}

pub async fn audit_verify() -> ApiResult<AuditVerification> {
    get("/api/audit/verify").await
}

// ---- admin (users paging, direct grants, server entries) ----

/// One page of users after `cursor` (the last username of the previous page).
pub async fn users_after(cursor: &str) -> ApiResult<Page<User>> {
    get(&format!(
        "/api/users{}",
        query(&[("limit", "500".to_owned()), ("cursor", cursor.to_owned())])
    ))
    .await
}

/// Grants a user servers directly by name or pattern (`web-*`).
pub async fn grant_user_servers(user: &str, pattern: String) -> ApiResult<()> {
    post(
        &format!("/api/users/{user}/servers"),
        &AddGroupServers { pattern },
    )
    .await
}

/// Creates a server entry that an agent later registers into.
pub async fn create_server(body: &gatehouse_shared::server::CreateServer) -> ApiResult<Server> {
    post("/api/servers", body).await
}

// ---- files (WebFTP and the editor) ----

use gatehouse_shared::files::{FileEntry, FileListing, PathBody, RenameBody, TransferResult};

/// Where a file operation runs: the server, the work session it is done under (sent as
/// `X-Work-Session`), and the run-as user (`None`: the agent's default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTarget {
    pub server: String,
    pub session: Option<WorkSessionId>,
    pub user: Option<String>,
}

impl FileTarget {
    /// `/api/files/{server}/{op}?{pairs}&user=`, empty values left out.
    pub fn url(&self, op: &str, pairs: &[(&str, String)]) -> String {
        let mut pairs = pairs.to_vec();
        pairs.push(("user", self.user.clone().unwrap_or_default()));
        format!("/api/files/{}/{op}{}", encode(&self.server), query(&pairs))
    }

    fn with_session(&self, builder: RequestBuilder) -> RequestBuilder {
        match self.session {
            Some(id) => builder.header("X-Work-Session", &id.to_string()),
            None => builder,
        }
    }
}

/// The CSRF token, for requests built outside this module (uploads through `XMLHttpRequest`).
pub fn csrf_token() -> Option<String> {
    CSRF.with(|slot| slot.borrow().clone())
}

/// The error a failed request answered with `status` and `body` (the envelope, if it is one).
pub fn error_from(status: u16, body: &str) -> ApiError {
    if status == 0 {
        return ApiError::network("the connection failed");
    }
    let envelope = serde_json::from_str::<ErrorEnvelope>(body).unwrap_or_else(|_| {
        ErrorEnvelope::new(ErrorCode::Internal, format!("the server answered {status}"))
    });
    ApiError { status, envelope }
}

/// `GET path` under an explicit work session.
pub async fn get_in_session<T: DeserializeOwned>(
    path: &str,
    session: Option<WorkSessionId>,
) -> ApiResult<T> {
    let mut builder = Request::get(path);
    if let Some(id) = session {
        builder = builder.header("X-Work-Session", &id.to_string());
    }
    send(builder.build()).await
}

/// `PUT path` with a raw body under an explicit work session.
pub async fn put_in_session<T: DeserializeOwned>(
    path: &str,
    session: Option<WorkSessionId>,
    body: wasm_bindgen::JsValue,
) -> ApiResult<T> {
    let mut builder = with_csrf(Request::put(path));
    if let Some(id) = session {
        builder = builder.header("X-Work-Session", &id.to_string());
    }
    send(
        builder
            .header("Content-Type", "application/octet-stream")
            .body(body),
    )
    .await
}

pub async fn files_list(target: &FileTarget, path: &str) -> ApiResult<FileListing> {
    let url = target.url("list", &[("path", path.to_owned())]);
    get_in_session(&url, target.session).await
}

/// One entry; `editor` marks the editor's own check (the server may gate it as the editor).
pub async fn files_stat(target: &FileTarget, path: &str, editor: bool) -> ApiResult<FileEntry> {
    let editor = if editor { "true" } else { "" };
    let url = target.url(
        "stat",
        &[("path", path.to_owned()), ("editor", editor.to_owned())],
    );
    get_in_session(&url, target.session).await
}

/// POSTs a mkdir, rename or delete body; their `{ok: true}` answer carries nothing more.
async fn file_op<B: Serialize>(target: &FileTarget, op: &str, body: &B) -> ApiResult<()> {
    let url = target.url(op, &[]);
    post_in_session::<B, serde::de::IgnoredAny>(&url, target.session, body)
        .await
        .map(|_| ())
}

pub async fn files_mkdir(target: &FileTarget, path: String) -> ApiResult<()> {
    file_op(target, "mkdir", &PathBody { path }).await
}

pub async fn files_rename(
    target: &FileTarget,
    from: String,
    to: String,
    overwrite: bool,
) -> ApiResult<()> {
    file_op(
        target,
        "rename",
        &RenameBody {
            from,
            to,
            overwrite,
        },
    )
    .await
}

pub async fn files_delete(target: &FileTarget, path: String) -> ApiResult<()> {
    file_op(target, "delete", &PathBody { path }).await
}

/// The content URL of `path`; uploads add `overwrite`, the editor `editor=true`.
pub fn files_content_url(target: &FileTarget, path: &str, extra: &[(&str, String)]) -> String {
    let mut pairs = vec![("path", path.to_owned())];
    pairs.extend_from_slice(extra);
    target.url("content", &pairs)
}

/// `GET content` with the work-session header; the response once it is known to be a success.
async fn fetch_content(
    target: &FileTarget,
    path: &str,
    editor: bool,
    abort: Option<&web_sys::AbortSignal>,
) -> ApiResult<Response> {
    let editor = if editor { "true" } else { "" };
    let url = files_content_url(target, path, &[("editor", editor.to_owned())]);
    let request = target
        .with_session(Request::get(&url))
        .abort_signal(abort)
        .build()
        .map_err(ApiError::network)?;
    let response = request.send().await.map_err(ApiError::network)?;
    if response.ok() {
        return Ok(response);
    }
    decode::<serde::de::IgnoredAny>(response).await?;
    Err(ApiError::network("unexpected answer"))
}

/// A file fetched whole, for downloads: the browser keeps it as a Blob, not in wasm memory.
pub async fn files_blob(target: &FileTarget, path: &str) -> ApiResult<web_sys::Blob> {
    let response = fetch_content(target, path, false, None).await?;
    let promise = web_sys::Response::from(response).blob().map_err(|e| {
        ApiError::network(
            e.as_string()
                .unwrap_or_else(|| "cannot read the file".into()),
        )
    })?;
    let blob = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|_| ApiError::network("the download broke off"))?;
    Ok(wasm_bindgen::JsCast::unchecked_into(blob))
}

/// The state of a file as the server last reported it (at a load or a save): what a save sends
/// back so the server refuses it if the file changed meanwhile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileState {
    /// Seconds since the epoch (`X-File-Mtime`).
    pub mtime: Option<i64>,
    /// The server's version token (`X-File-Version`): also sees a change within the same second.
    pub version: Option<String>,
}

/// What the editor loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRead {
    /// The bytes and the file's state as the server reported it.
    Content { bytes: Vec<u8>, state: FileState },
    /// Larger than the caller's limit (by `Content-Length`); the transfer was cancelled.
    TooLarge(u64),
}

/// Reads a file for the editor, refusing (and cancelling) one over `max_bytes`.
pub async fn files_read(target: &FileTarget, path: &str, max_bytes: u64) -> ApiResult<FileRead> {
    let abort = web_sys::AbortController::new().ok();
    let signal = abort.as_ref().map(|a| a.signal());
    let response = fetch_content(target, path, true, signal.as_ref()).await?;
    let header = |name: &str| response.headers().get(name);
    let size = header("content-length").and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(size) = size.filter(|s| *s > max_bytes) {
        if let Some(abort) = abort {
            abort.abort();
        }
        return Ok(FileRead::TooLarge(size));
    }
    let state = FileState {
        mtime: header("x-file-mtime").and_then(|v| v.trim().parse::<i64>().ok()),
        version: header("x-file-version").filter(|v| !v.is_empty()),
    };
    let bytes = response.binary().await.map_err(ApiError::network)?;
    Ok(FileRead::Content { bytes, state })
}

/// Saves the editor's text: with `since`, the server refuses (409) when the file is no longer in
/// that state (by its version when known, else its modification time); `None` overwrites
/// whatever is there.
pub async fn files_save(
    target: &FileTarget,
    path: &str,
    text: &str,
    since: Option<&FileState>,
) -> ApiResult<TransferResult> {
    let mut query = vec![
        ("overwrite", "true".to_owned()),
        ("editor", "true".to_owned()),
    ];
    match since {
        Some(FileState {
            version: Some(version),
            ..
        }) => query.push(("if_version", version.clone())),
        Some(FileState {
            mtime: Some(mtime), ..
        }) => query.push(("if_mtime", mtime.to_string())),
        _ => {}
    }
    let url = files_content_url(target, path, &query);
    put_in_session(&url, target.session, wasm_bindgen::JsValue::from_str(text)).await
}

impl ApiError {
    /// A failure found in the browser itself (nothing reached the server), as an `ApiError` so
    /// it shows like the others.
    pub fn local(message: impl std::fmt::Display) -> Self {
        Self {
            status: 0,
            envelope: ErrorEnvelope::new(ErrorCode::Internal, message.to_string()),
        }
    }
}
