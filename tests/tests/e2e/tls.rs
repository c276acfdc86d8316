//! TLS on both hops: the agent dials WSS with the server's CA, clients use HTTPS and WSS.

use crate::Fixture;
use gatehouse_e2e::terminal::Term;
use gatehouse_e2e::{client_tls, create_user, https_client, wait_connected, Agent, Api, Server};
use gatehouse_shared::server::CreateRegistrationToken;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn agents_and_clients_speak_tls_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    create_user(dir.path(), "ops", "superuser");
    let server = Server::start_with(dir.path(), 0, &["--tls-self-signed"]);
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let ca_path = dir.path().join("tls/ca.pem");
    let ca = std::fs::read(&ca_path).expect("the CA was written to the data dir");

    // Without the CA a client refuses the server.
    let untrusting = reqwest::Client::builder().use_rustls_tls().build().unwrap();
    assert!(untrusting
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .is_err());
    // Plain HTTP to the TLS port gets nothing useful.
    let plain = server.base.replacen("https://", "http://", 1);
    let answer = reqwest::get(format!("{plain}/healthz")).await;
    assert!(answer.map(|r| !r.status().is_success()).unwrap_or(true));

    // Raw: the cookie's attributes are on the wire only.
    let http = https_client(&ca);
    let set_cookie = http
        .post(format!("{}/api/auth/login", server.base))
        .json(&json!({"username": "ops", "password": gatehouse_e2e::PASSWORD}))
        .send()
        .await
        .unwrap()
        .headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
    let api = Api::login_tls(&server.base, "ops", &ca).await;

    let token = api
        .client
        .create_registration_token(&CreateRegistrationToken::default())
        .await
        .expect("a registration token")
        .token;
    let _agent =
        Agent::register_and_run_with_ca(&server.base, &token, "web-01", dir.path(), Some(&ca_path));
    wait_connected(&api, "web-01", true).await;

    let fx = Fixture {
        agents: Vec::new(),
        api,
        server,
        dir,
    };
    fx.session(&["websh", "sudo"], &["web-01"]).await;
    let (_, url) = fx.terminal("web-01").await;
    assert!(url.starts_with("wss://"));
    let mut term = Term::connect_tls(&url, &fx.api, None, Some(client_tls(&ca)))
        .await
        .expect("wss connect");
    term.type_text("echo over-tls-$((2*21))\r").await;
    assert!(
        term.read_until(Duration::from_secs(20), |t| t
            .text()
            .contains("over-tls-42"))
            .await,
        "{}",
        term.text()
    );
}
