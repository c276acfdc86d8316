//! Disabling a leaver cuts them off at once: their live terminal ends within a second (read from
//! the server's own audit timestamps) with the reason, and a staff member watching someone
//! else's terminal is cut off when their own account is disabled.

use crate::{refused, session_request, terminal_request, Fixture};
use gatehouse_client::api::sessions::SessionStep;
use gatehouse_e2e::terminal::Term;
use gatehouse_e2e::{bearer_client, create_user, eventually, Api};
use gatehouse_shared::api::{LoginRequest, UpdateUser};
use gatehouse_shared::audit::AuditEvent;
use gatehouse_shared::work_session::{ApproveWorkSession, CreateWorkSession};
use gatehouse_shared::{Status, UserId};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// The (first) `action` row about `target`, once it exists.
async fn row_about(api: &Api, action: &str, target: &str) -> AuditEvent {
    eventually(&format!("a {action} row"), WAIT, || async {
        api.audit(action)
            .await
            .into_iter()
            .find(|e| e.target.as_deref() == Some(target))
    })
    .await
}

/// The id of the person named `username`.
async fn user_id(fx: &Fixture, username: &str) -> UserId {
    let users = fx.api.client.users(None).await.expect("the users");
    users
        .items
        .into_iter()
        .find(|u| u.username == username)
        .expect("the user")
        .id
}

async fn disable(fx: &Fixture, username: &str) {
    let id = user_id(fx, username).await;
    let disabled = UpdateUser {
        disabled: Some(true),
        ..UpdateUser::default()
    };
    fx.api
        .client
        .update_user(id, &disabled)
        .await
        .expect("disabled");
}

#[tokio::test]
async fn a_disabled_persons_terminal_and_watching_end_within_a_second() {
    let fx = Fixture::start(&["web-01"]).await;
    create_user(fx.dir.path(), "leo", "member");
    create_user(fx.dir.path(), "ida", "staff");
    let leo_id = user_id(&fx, "leo").await;
    fx.api
        .client
        .grant_user_servers(leo_id, "web-01")
        .await
        .expect("web-01 granted");
    let leo = Api::login(&fx.server.base, "leo").await;
    let request = CreateWorkSession {
        purpose: "last day".to_owned(),
        ..session_request(&["websh"], &["web-01"])
    };
    let session = leo
        .client
        .create_work_session(&request)
        .await
        .expect("a work session");
    let sid = session.id;
    fx.api
        .client
        .approve_work_session(sid, &ApproveWorkSession::default())
        .await
        .expect("approved");
    leo.client
        .transition_work_session(sid, SessionStep::Use)
        .await
        .expect("in use");
    let opened = leo
        .client
        .open_websh(&terminal_request("web-01"))
        .await
        .expect("a terminal");
    let url = fx.server.ws_url(&opened.ws_path);
    let mut term = Term::connect(&url, &leo, None)
        .await
        .expect("leo's terminal");
    term.type_text("echo up-$((2+3))\r").await;
    assert!(term.read_until(WAIT, |t| t.text().contains("up-5")).await);
    let ida = Api::login(&fx.server.base, "ida").await;
    let mut watcher = Term::connect(&format!("{url}?watch=true"), &ida, None)
        .await
        .expect("ida watches");
    assert!(
        watcher
            .read_until(WAIT, |t| t.text().contains("up-5"))
            .await
    );

    // Ida leaves first: her watching ends, Leo's shell goes on.
    disable(&fx, "ida").await;
    assert!(watcher.read_until(WAIT, |t| t.closed.is_some()).await);
    assert_eq!(watcher.closed, Some(4011), "ida's watch is cut");
    term.type_text("echo still-$((3+4))\r").await;
    assert!(
        term.read_until(WAIT, |t| t.text().contains("still-7"))
            .await
    );

    // Then Leo: his terminal ends, revoked, within a second of the disabling.
    disable(&fx, "leo").await;
    assert!(term.read_until(WAIT, |t| t.closed.is_some()).await);
    assert_eq!(term.closed, Some(4010), "the session ended");
    assert_eq!(
        term.has_message("ended").map(|m| m["reason"].clone()),
        Some(json!("revoked"))
    );
    let disabled = row_about(&fx.api, "user.disabled", "leo").await;
    let closed = row_about(&fx.api, "websh.closed", &opened.id.to_string()).await;
    let took = closed.at - disabled.at;
    assert!(
        took < chrono::Duration::seconds(1),
        "the terminal ended {took} after the disabling"
    );
    let s = fx.api.client.work_session(sid).await.expect("the session");
    assert_eq!(s.status, Status::Revoked);
    // And Leo cannot come back.
    let anonymous = bearer_client(&fx.server.base, None);
    let login = LoginRequest {
        username: "leo".to_owned(),
        password: gatehouse_e2e::PASSWORD.to_owned(),
        otp: None,
        client: None,
        client_name: None,
    };
    assert_eq!(refused(anonymous.login(&login).await).status, 403);
}
