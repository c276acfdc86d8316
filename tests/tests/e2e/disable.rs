//! Disabling a leaver cuts them off at once: their live terminal ends within a second (read from
//! the server's own audit timestamps) with the reason, and a staff member watching someone
//! else's terminal is cut off when their own account is disabled.

use crate::Fixture;
use gatehouse_e2e::terminal::Term;
use gatehouse_e2e::{create_user, eventually, Api};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn at(event: &Value) -> chrono::DateTime<chrono::Utc> {
    event["at"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no time in {event}"))
}

/// The (first) `action` row about `target`, once it exists.
async fn row_about(api: &Api, action: &str, target: &str) -> Value {
    eventually(&format!("a {action} row"), WAIT, || async {
        let page = api
            .get(&format!("/api/audit?action={action}&limit=100"))
            .await;
        page["items"]
            .as_array()?
            .iter()
            .find(|e| e["target"] == target)
            .cloned()
    })
    .await
}

async fn disable(fx: &Fixture, username: &str) {
    let users = fx.api.get("/api/users?limit=100").await;
    let id = users["items"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["username"] == username)
        .and_then(|u| u["id"].as_str())
        .expect("the user")
        .to_owned();
    let (status, body) = fx
        .api
        .call(
            reqwest::Method::PATCH,
            &format!("/api/users/{id}"),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_disabled_persons_terminal_and_watching_end_within_a_second() {
    let fx = Fixture::start(&["web-01"]).await;
    create_user(fx.dir.path(), "leo", "member");
    create_user(fx.dir.path(), "ida", "staff");
    let users = fx.api.get("/api/users?limit=100").await;
    let leo_id = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "leo")
        .and_then(|u| u["id"].as_str())
        .unwrap()
        .to_owned();
    fx.api
        .call(
            reqwest::Method::POST,
            &format!("/api/users/{leo_id}/servers"),
            Some(json!({"pattern": "web-01"})),
        )
        .await;
    let leo = Api::login(&fx.server.base, "leo").await;
    let session = leo
        .post(
            "/api/work-sessions",
            json!({"purpose": "last day", "scopes": ["websh"], "servers": ["web-01"],
                   "duration_secs": 3600}),
        )
        .await;
    let sid = session["id"].as_str().expect("id").to_owned();
    fx.api
        .post(&format!("/api/work-sessions/{sid}/approve"), json!({}))
        .await;
    leo.post(&format!("/api/work-sessions/{sid}/use"), json!({}))
        .await;
    let opened = leo
        .post(
            "/api/websh",
            json!({"server": "web-01", "cols": 80, "rows": 24,
                   "user": gatehouse_e2e::shell_user()}),
        )
        .await;
    let url = fx
        .server
        .ws_url(opened["ws_path"].as_str().expect("ws_path"));
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
    let terminal = opened["id"].as_str().expect("terminal id");
    let closed = row_about(&fx.api, "websh.closed", terminal).await;
    let took = at(&closed) - at(&disabled);
    assert!(
        took < chrono::Duration::seconds(1),
        "the terminal ended {took} after the disabling"
    );
    let s = fx.api.get(&format!("/api/work-sessions/{sid}")).await;
    assert_eq!(s["status"], "revoked");
    // And Leo cannot come back.
    let r = reqwest::Client::new()
        .post(format!("{}/api/auth/login", fx.server.base))
        .json(&json!({"username": "leo", "password": gatehouse_e2e::PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 403);
}
