//! `GET /api/events`: the console's live-update push, over a real server.

use crate::websh_session;
use futures_util::StreamExt;
use gatehouse_e2e::{create_user, Api, Server};
use gatehouse_shared::server::CreateServer;
use std::time::Duration;

/// How long an event may take to arrive after the change that causes it.
const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn events_need_a_sign_in_and_announce_session_changes_without_details() {
    let dir = tempfile::tempdir().expect("tempdir");
    create_user(dir.path(), "ops", "superuser");
    let server = Server::start(dir.path(), 0);

    // Raw: the test is about the stream on the wire (its content type, what its bytes carry).
    let anonymous = reqwest::get(format!("{}/api/events", server.base))
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);

    let api = Api::login(&server.base, "ops").await;
    let response = api
        .request(reqwest::Method::GET, "/api/events")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/event-stream"));
    let mut stream = response.bytes_stream();

    api.client
        .create_server(&CreateServer {
            name: "web-01".to_owned(),
            platform: None,
            groups: None,
        })
        .await
        .expect("a server");
    api.client
        .create_work_session(&websh_session("secret purpose text"))
        .await
        .expect("a work session");
    let mut seen = String::new();
    let arrived = tokio::time::timeout(WAIT, async {
        while let Some(chunk) = stream.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
            if seen.contains("event: work_sessions") {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(arrived, "no work_sessions event; got {seen:?}");
    assert!(
        !seen.contains("secret purpose text"),
        "events must not carry session data: {seen:?}"
    );

    // After signing out, the next change ends the stream instead of being announced.
    api.client.logout().await.expect("signed out");
    let other = Api::login(&server.base, "ops").await;
    other
        .client
        .create_work_session(&websh_session("after sign-out"))
        .await
        .expect("a work session");
    let ended = tokio::time::timeout(WAIT, async {
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) if String::from_utf8_lossy(&bytes).contains("event:") => return false,
                Ok(_) => continue,
                Err(_) => return true,
            }
        }
        true
    })
    .await
    .unwrap_or(false);
    assert!(ended, "the stream outlived the sign-in");
}
