//! Agents register, connect, show presence, and a duplicate connection is refused.

use crate::Fixture;
use gatehouse_e2e::wait_connected;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

#[tokio::test]
async fn two_agents_connect_a_duplicate_is_refused_and_a_killed_one_shows_disconnected() {
    let mut fx = Fixture::start(&["web-01", "web-02"]).await;
    let list = fx.api.client.servers(None).await.expect("the servers");
    for server in &list.items {
        assert!(server.connected);
        assert!(server.last_seen.is_some());
        assert_eq!(server.os.as_deref(), Some(std::env::consts::OS));
    }
    // The credential file is private to its owner.
    let mode = std::fs::metadata(&fx.agents[0].config)
        .unwrap()
        .permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600
    );

    // A second connection with web-01's credential is refused before the upgrade...
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fx.agents[0].config).unwrap()).unwrap();
    let mut request = fx.server.ws_url("/ws/agent").into_client_request().unwrap();
    let credential = format!(
        "Agent {}:{}",
        config["agent_id"].as_str().unwrap(),
        config["agent_secret"].as_str().unwrap()
    );
    request
        .headers_mut()
        .insert("authorization", HeaderValue::from_str(&credential).unwrap());
    let refused = tokio_tungstenite::connect_async(request)
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("409"), "{refused}");
    // ...and a wrong secret as well.
    let mut forged = fx.server.ws_url("/ws/agent").into_client_request().unwrap();
    let bad = format!(
        "Agent {}:not-the-secret",
        config["agent_id"].as_str().unwrap()
    );
    forged
        .headers_mut()
        .insert("authorization", HeaderValue::from_str(&bad).unwrap());
    let refused = tokio_tungstenite::connect_async(forged)
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("401"), "{refused}");
    // The first connection stays.
    wait_connected(&fx.api, "web-01", true).await;

    fx.agents[1].kill();
    wait_connected(&fx.api, "web-02", false).await;
    wait_connected(&fx.api, "web-01", true).await;
    let audit = fx.api.audit("agent.*").await;
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"agent.registered"));
    assert!(actions.contains(&"agent.connected"));
    assert!(actions.contains(&"agent.disconnected"));
}
