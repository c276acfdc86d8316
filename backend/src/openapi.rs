//! The OpenAPI 3 description served at `/api/openapi.json`, generated from the handlers.

use crate::routes;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Gatehouse API", description = "Privileged access through approved, scoped, time-bound work sessions."),
    paths(
        routes::setup::setup, routes::setup::setup_status, routes::events::events,
        routes::auth::login, routes::auth::logout, routes::auth::whoami,
        routes::auth::totp_enroll, routes::auth::totp_confirm,
        routes::users::list_users, routes::users::create_user, routes::users::grant_servers,
        routes::groups::list_groups, routes::groups::create_group, routes::groups::get_group,
        routes::groups::add_member, routes::groups::add_servers,
        routes::tokens::list_tokens, routes::tokens::create_token, routes::tokens::revoke_token,
        routes::servers::list_servers, routes::servers::create_server, routes::servers::get_server,
        routes::servers::delete_server, routes::servers::create_registration_token,
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
        routes::exec::run_exec, routes::exec::get_exec,
        routes::files::list, routes::files::stat, routes::files::download::download,
        routes::files::upload::upload,
        routes::files::mkdir, routes::files::rename, routes::files::delete,
        routes::audit::list_audit, routes::audit::verify_audit,
    ),
    tags(
        (name = "identity", description = "Set-up, sign-in, MFA, users, groups, API tokens"),
        (name = "servers", description = "Server entries and agent registration"),
        (name = "work-sessions", description = "Requesting, deciding and using work sessions"),
        (name = "gate", description = "The gate decision"),
        (name = "websh", description = "Browser terminals, their recordings, shared links and oversight"),
        (name = "exec", description = "Commands across servers"),
        (name = "files", description = "WebFTP and the editor: files on servers, streamed"),
        (name = "audit", description = "The tamper-evident audit log"),
    )
)]
pub struct ApiDoc;

/// The document as JSON.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
