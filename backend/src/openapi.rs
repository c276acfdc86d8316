//! The OpenAPI 3 description served at `/api/openapi.json`, generated from the handlers, with
//! the error answers every operation can give added by one rule set, so a client generated from
//! it (or a fuzzer reading it) meets no status it was not told of.

use crate::routes;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Gatehouse API", description = "Privileged access through approved, scoped, time-bound work sessions."),
    paths(
        routes::setup::setup, routes::setup::setup_status, routes::events::events,
        routes::version::version,
        routes::auth::login, routes::auth::logout, routes::auth::whoami,
        routes::auth::totp_enroll, routes::auth::totp_confirm,
        routes::auth::mfa_verify, routes::auth::recovery_codes,
        routes::device::request, routes::device::token, routes::device::describe,
        routes::device::decide, routes::signins::list, routes::signins::revoke,
        routes::users::reset_password, routes::users::reset_mfa,
        routes::users::list_users, routes::users::create_user, routes::users::grant_servers,
        routes::users::update_user, routes::groups::add_run_as, routes::servers::run_as_choices,
        routes::servers::list_registration_tokens, routes::servers::revoke_registration_token,
        routes::auth::change_password, routes::groups::delete_group, routes::groups::remove_member,
        routes::groups::remove_servers,
        routes::groups::list_groups, routes::groups::create_group, routes::groups::get_group,
        routes::groups::add_member, routes::groups::add_servers,
        routes::tokens::list_tokens, routes::tokens::create_token, routes::tokens::revoke_token,
        routes::token_acl::token_acl, routes::token_acl::list_servers, routes::token_acl::grant_server,
        routes::token_acl::list_commands, routes::token_acl::grant_command,
        routes::token_acl::list_files, routes::token_acl::grant_file,
        routes::token_acl::list_tunnels, routes::token_acl::grant_tunnel,
        routes::token_acl::remove_rule, routes::token_acl::test_acl,
        routes::service_accounts::list_accounts, routes::service_accounts::create_account,
        routes::service_accounts::create_account_token, routes::service_accounts::list_account_tokens,
        routes::servers::list_servers, routes::servers::create_server, routes::servers::get_server,
        routes::servers::delete_server, routes::servers::update_server, routes::servers::create_registration_token,
        routes::agents::register,
        routes::work_sessions::create_work_session, routes::work_sessions::list_work_sessions,
        routes::work_sessions::get_work_session, routes::work_sessions::timeline,
        routes::work_sessions::approve, routes::work_sessions::reject, routes::work_sessions::revoke,
        routes::work_sessions::cancel, routes::work_sessions::activate,
        routes::work_sessions::complete, routes::work_sessions::extend,
        routes::work_sessions::use_session,
        routes::gate::check,
        routes::websh::open_websh, routes::websh::recording, routes::websh::terminate,
        routes::websh::share::create_share, routes::websh::share::list_shares,
        routes::websh::share::revoke_share, routes::websh::share::list_participants,
        routes::websh::share::remove_participant, routes::websh::join::join,
        routes::websh::live::live_terminals,
        routes::recordings::list_recordings, routes::recordings::get_recording,
        routes::exec::run_exec, routes::exec::get_exec, routes::exec::socket::exec_socket,
        routes::files::list, routes::files::stat, routes::files::download::download,
        routes::files::upload::upload,
        routes::files::mkdir, routes::files::rename, routes::files::delete,
        routes::tunnels::create_tunnel, routes::tunnels::list_tunnels,
        routes::tunnels::get_tunnel, routes::tunnels::end_tunnel,
        routes::tunnels::socket::tunnel_socket,
        routes::audit::list_audit, routes::audit::verify_audit,
        routes::settings::read, routes::settings::update,
        routes::approvals::list, routes::approvals::read, routes::approvals::approve,
        routes::approvals::reject,
    ),
    tags(
        (name = "identity", description = "Set-up, sign-in, MFA, users, groups, API tokens"),
        (name = "servers", description = "Server entries and agent registration"),
        (name = "work-sessions", description = "Requesting, deciding and using work sessions"),
        (name = "approvals", description = "One queue of decisions: new work sessions and extensions"),
        (name = "settings", description = "Workspace settings"),
        (name = "gate", description = "The gate decision"),
        (name = "websh", description = "Browser terminals, their recordings, shared links and oversight"),
        (name = "exec", description = "Commands across servers"),
        (name = "files", description = "WebFTP and the editor: files on servers, streamed"),
        (name = "tunnels", description = "TCP tunnels to services on and near servers"),
        (name = "audit", description = "The tamper-evident audit log"),
    )
)]
pub struct ApiDoc;

/// Operations anyone may call without signing in.
const PUBLIC: &[(&str, &str)] = &[
    ("GET", "/api/setup"),
    ("GET", "/api/version"),
    ("POST", "/api/setup"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/device"),
    ("POST", "/api/auth/device/token"),
    ("POST", "/api/agents/register"),
    ("POST", "/api/share/join"),
];

/// Operations that are throttled (429 with `Retry-After`).
const THROTTLED: &[(&str, &str)] = &[
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/mfa/verify"),
    ("POST", "/api/auth/device"),
    ("POST", "/api/agents/register"),
    ("POST", "/api/share/join"),
    ("POST", "/api/websh"),
];

/// The error answers an operation can give besides its own, from what it takes:
/// input that can be malformed (400), a body that can be too large (413), a path id that can
/// name nothing (404), a sign-in that can be missing (401), a refusal by role, CSRF, step-up or
/// the gate (403), a work-session transition its state refuses (409), and throttling (429).
fn error_statuses(method: &str, path: &str, op: &Operation) -> Vec<(&'static str, &'static str)> {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has = |place: ParameterIn| params.iter().any(|p| p.parameter_in == place);
    let mut statuses = Vec::new();
    if op.request_body.is_some() || has(ParameterIn::Query) || has(ParameterIn::Path) {
        statuses.push(("400", "malformed input (`bad_request`, `validation_error`)"));
    }
    if op.request_body.is_some() {
        statuses.push(("413", "the body is larger than this endpoint accepts"));
    }
    if has(ParameterIn::Path) {
        statuses.push(("404", "nothing by that id that the caller may see"));
    }
    if !PUBLIC.contains(&(method, path)) {
        statuses.push(("401", "no valid sign-in or API token"));
        statuses.push((
            "403",
            "refused by role, CSRF, step-up MFA or the gate (`work_session_*`, `token_acl_denied`)",
        ));
    }
    // Every work-session transition is refused when the session is in a state it does not
    // leave that way (`invalid_transition`), or another decision got there first.
    if method == "POST"
        && (path.starts_with("/api/work-sessions/{id}/")
            || path.starts_with("/api/approvals/{id}/"))
    {
        statuses.push((
            "409",
            "the session's state does not allow this (`invalid_transition`)",
        ));
    }
    if THROTTLED.contains(&(method, path)) {
        statuses.push((
            "429",
            "too many attempts; `Retry-After` says when to try again",
        ));
    }
    statuses
}

/// The document as JSON.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [
            ("GET", &mut item.get),
            ("PUT", &mut item.put),
            ("POST", &mut item.post),
            ("DELETE", &mut item.delete),
            ("PATCH", &mut item.patch),
            ("HEAD", &mut item.head),
        ];
        for (method, op) in operations {
            let Some(op) = op.as_mut() else { continue };
            for (status, description) in error_statuses(method, path, op) {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| RefOr::T(error_response(description)));
            }
        }
    }
    for request in ["CreateWorkSession", "ExtendWorkSession"] {
        require_one_window(&mut doc, request);
    }
    doc
}

/// A work-session request or extension names its window exactly one way, `duration_secs` or
/// `expires_at`; `oneOf` of the two "required" says so (both present match both, so they fail
/// too).
fn require_one_window(doc: &mut utoipa::openapi::OpenApi, schema: &str) {
    use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, OneOfBuilder, Schema};
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let Some(request) = components.schemas.remove(schema) else {
        return;
    };
    let window = OneOfBuilder::new()
        .item(ObjectBuilder::new().required("duration_secs"))
        .item(ObjectBuilder::new().required("expires_at"));
    let combined = AllOfBuilder::new().item(request).item(window).build();
    components
        .schemas
        .insert(schema.to_owned(), RefOr::T(Schema::AllOf(combined)));
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                .build(),
        )
        .build()
}
