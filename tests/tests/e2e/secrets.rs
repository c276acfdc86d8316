//! Every secret the server issues or accepts during a run (passwords, session cookies, API
//! tokens, registration tokens, agent secrets, link secrets and passwords, join tickets, a staff
//! reset's one-time password, recovery codes) is
//! looked for in the database files and in a debug-level server log, and never found.

use crate::share::{guest, share};
use crate::{api_token, new_member, refused, Fixture};
use gatehouse_e2e::browser::{totp_code, totp_step_now};
use gatehouse_e2e::{bearer_client, create_user, Server, PASSWORD};
use gatehouse_shared::api::LoginRequest;
use gatehouse_shared::server::CreateRegistrationToken;
use gatehouse_shared::share::CreateShare;
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
    let client = |credential: Option<&str>| bearer_client(&fx.server.base, credential);
    let (token, _) = api_token(&fx.api, "ci").await;
    let whoami = client(Some(&token))
        .whoami()
        .await
        .expect("whoami by token");
    assert_eq!(whoami.user.username, "ops");
    secrets.push(("an API token", token));

    // A registration token, spent by an agent, and the agent secret it was exchanged for.
    let reg = fx
        .api
        .client
        .create_registration_token(&CreateRegistrationToken {
            expires_in_secs: None,
            max_uses: None,
        })
        .await
        .expect("a registration token")
        .token;
    // The agent's own registration: no client method speaks it, so it goes raw.
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
    let login = LoginRequest {
        username: "ops".to_owned(),
        password: wrong.to_owned(),
        otp: None,
        client: None,
        client_name: None,
    };
    assert_eq!(refused(client(None).login(&login).await).status, 401);
    secrets.push(("a wrong password", wrong.to_owned()));

    // A shared link's secret and password, and the ticket a guest joined with.
    fx.session(&["websh"], &["web-01"]).await;
    let (id, _) = fx.terminal("web-01").await;
    let link = share(&fx, &id, CreateShare::default()).await;
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
    secrets.push(("a join ticket", joined.ticket));

    // A staff reset's one-time password, and recovery codes (one spent at step-up), after the
    // TOTP enrolment and verification they need.
    let ops = &fx.api.client;
    let seed = ops.totp_enroll().await.expect("an enrolment").secret;
    let step = totp_step_now();
    ops.totp_confirm(&totp_code(&seed, step))
        .await
        .expect("TOTP confirmed");
    ops.mfa_verify(&totp_code(&seed, step + 1))
        .await
        .expect("a step-up");
    let mia = ops
        .create_user(&new_member("mia"))
        .await
        .expect("a new member");
    let reset = ops.reset_password(mia.id).await.expect("a reset");
    secrets.push(("a one-time password", reset.one_time_password));
    let codes = ops.recovery_codes().await.expect("recovery codes").codes;
    ops.mfa_verify(&codes[0])
        .await
        .expect("a step-up by recovery code");
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
