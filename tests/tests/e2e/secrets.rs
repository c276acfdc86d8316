//! Every secret the server issues or accepts during a run (passwords, session cookies, API
//! tokens, registration tokens, agent secrets, link secrets and passwords, join tickets, a staff
//! reset's one-time password, recovery codes) is
//! looked for in the database files and in a debug-level server log, and never found.

use crate::share::{guest, share};
use crate::Fixture;
use gatehouse_e2e::browser::{totp_code, totp_step_now};
use gatehouse_e2e::{create_user, Server, PASSWORD};
use serde_json::{json, Value};
use std::path::Path;

/// The database and its write-ahead log, as bytes.
fn database_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    ["gatehouse.db", "gatehouse.db-wal"]
        .iter()
        .filter_map(|name| {
            let bytes = std::fs::read(dir.join(name)).ok()?;
            Some((name.to_string(), bytes))
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn no_secret_reaches_the_database_or_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    create_user(dir.path(), "ops", "superuser");
    let log = dir.path().join("server.log");
    let server = Server::start_logged(dir.path(), &[], &log);
    let fx = Fixture::with_server(&["web-01"], dir, server).await;
    let mut secrets: Vec<(&str, String)> = vec![("the password", PASSWORD.to_owned())];

    // The sign-in cookie.
    let cookie = fx.api.cookie.split_once('=').expect("name=value").1;
    secrets.push(("a session cookie", cookie.to_owned()));

    // An API token, used once as a bearer credential.
    let token = fx.api.post("/api/tokens", json!({"name": "ci"})).await;
    let token = token["token"].as_str().expect("token").to_owned();
    let whoami = reqwest::Client::new()
        .get(format!("{}/api/auth/whoami", fx.server.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("whoami");
    assert_eq!(whoami.status(), 200);
    secrets.push(("an API token", token));

    // A registration token, spent by an agent, and the agent secret it was exchanged for.
    let reg = fx
        .api
        .post("/api/servers/registration-tokens", json!({}))
        .await;
    let reg = reg["token"]
        .as_str()
        .expect("registration token")
        .to_owned();
    let credential: Value = reqwest::Client::new()
        .post(format!("{}/api/agents/register", fx.server.base))
        .json(&json!({
            "registration_token": reg, "name": "web-02",
            "os": "linux", "platform": "test", "hostname": "web-02",
        }))
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("credential");
    secrets.push(("a registration token", reg));
    secrets.push((
        "an agent secret",
        credential["agent_secret"]
            .as_str()
            .expect("agent_secret")
            .to_owned(),
    ));
    // The running agent's own credential, which it presents on every connection.
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(&fx.agents[0].config).unwrap()).unwrap();
    secrets.push((
        "the running agent's secret",
        config["agent_secret"]
            .as_str()
            .expect("agent_secret")
            .to_owned(),
    ));

    // A failed sign-in's password.
    let wrong = "not-the-password-but-secret-all-the-same";
    let refused = reqwest::Client::new()
        .post(format!("{}/api/auth/login", fx.server.base))
        .json(&json!({"username": "ops", "password": wrong}))
        .send()
        .await
        .expect("login");
    assert_eq!(refused.status(), 401);
    secrets.push(("a wrong password", wrong.to_owned()));

    // A shared link's secret and password, and the ticket a guest joined with.
    fx.session(&["websh"], &["web-01"]).await;
    let (id, _) = fx.terminal("web-01").await;
    let link = share(&fx, &id, json!({})).await;
    let (joined, mut guest) = guest(&fx, &link, "scan").await;
    guest.control(json!({"t": "ping"})).await;
    assert!(
        guest
            .read_until(std::time::Duration::from_secs(20), |t| t
                .has_message("pong")
                .is_some())
            .await
    );
    secrets.push(("a link secret", link.secret.clone()));
    secrets.push(("a link password", link.password.clone()));
    secrets.push((
        "a join ticket",
        joined["ticket"].as_str().expect("ticket").to_owned(),
    ));

    // A staff reset's one-time password, and recovery codes (one spent at step-up), after the
    // TOTP enrolment and verification they need.
    let enrolment = fx.api.post("/api/auth/mfa/totp", json!({})).await;
    let seed = enrolment["secret"].as_str().expect("secret").to_owned();
    let step = totp_step_now();
    fx.api
        .post(
            "/api/auth/mfa/totp/confirm",
            json!({"otp": totp_code(&seed, step)}),
        )
        .await;
    fx.api
        .post(
            "/api/auth/mfa/verify",
            json!({"otp": totp_code(&seed, step + 1)}),
        )
        .await;
    let mia = fx
        .api
        .post(
            "/api/users",
            json!({"username": "mia", "password": PASSWORD, "role": "member"}),
        )
        .await;
    let reset = fx
        .api
        .post(
            &format!(
                "/api/users/{}/password-reset",
                mia["id"].as_str().expect("id")
            ),
            json!({}),
        )
        .await;
    secrets.push((
        "a one-time password",
        reset["one_time_password"]
            .as_str()
            .expect("one_time_password")
            .to_owned(),
    ));
    let codes = fx.api.post("/api/auth/mfa/recovery-codes", json!({})).await;
    let codes: Vec<String> = codes["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_owned())
        .collect();
    fx.api
        .post("/api/auth/mfa/verify", json!({"otp": codes[0]}))
        .await;
    for code in codes {
        secrets.push(("a recovery code, as shown", code.clone()));
        secrets.push(("a recovery code, as typed", code.replace('-', "")));
    }

    let text = std::fs::read_to_string(&log).expect("read the log");
    assert!(
        text.contains("/api/auth/login") && text.contains("/api/share/join"),
        "the log is on at debug level and saw the requests"
    );
    let files = database_bytes(fx.dir.path());
    // The scan finds what is there: the CSRF token (not a credential on its own) is stored as is.
    assert!(
        files.iter().any(|(_, bytes)| contains(bytes, &fx.api.csrf)),
        "the scan reads the database"
    );
    for (what, secret) in &secrets {
        assert!(secret.len() >= 12, "{what} is long enough to search for");
        assert!(
            !text.contains(secret.as_str()),
            "{what} is in the server log"
        );
        for (name, bytes) in &files {
            assert!(!contains(bytes, secret), "{what} is in {name}");
        }
    }
}
