//! Set-up, sign-in, CSRF, TOTP, throttling, API tokens, users and groups through the API.

mod common;

use chrono::Utc;
use common::{session_cookie, Caller, TestApp, PASSWORD};
use gatehouse::auth::totp;
use gatehouse::config::{Config, ThrottleLimits};
use serde_json::json;

#[tokio::test]
async fn setup_creates_the_first_superuser_once() {
    let app = TestApp::new().await;
    let anon = Caller::default();
    app.post(
        "/api/setup",
        json!({"username": "root", "password": "short"}),
        &anon,
    )
    .await
    .expect_error(400, "validation_error");
    let user = app
        .post(
            "/api/setup",
            json!({"username": "root", "password": PASSWORD}),
            &anon,
        )
        .await
        .expect(201);
    assert_eq!(user["role"], "superuser");
    assert!(user.get("password_hash").is_none());
    app.post(
        "/api/setup",
        json!({"username": "eve", "password": PASSWORD}),
        &anon,
    )
    .await
    .expect_error(409, "conflict");
}

#[tokio::test]
async fn sign_in_failures_are_generic_and_audited() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let anon = Caller::default();
    let wrong = app
        .post(
            "/api/auth/login",
            json!({"username": "root", "password": "not the password"}),
            &anon,
        )
        .await
        .expect_error(401, "unauthenticated");
    let unknown = app
        .post(
            "/api/auth/login",
            json!({"username": "ghost", "password": "whatever it is"}),
            &anon,
        )
        .await
        .expect_error(401, "unauthenticated");
    assert_eq!(wrong["message"], unknown["message"], "no user enumeration");

    let who = app.get("/api/auth/whoami", &root).await.expect(200);
    assert_eq!(who["user"]["username"], "root");
    assert_eq!(who["auth_method"], "password");
    assert_eq!(who["work_session_required"], true);
    assert_eq!(who["csrf_token"], root.csrf.clone().unwrap());

    let actions = app.audit_actions(&root).await;
    assert!(actions.iter().filter(|a| *a == "auth.login").count() >= 3);

    app.call("POST", "/api/auth/logout", None, &root)
        .await
        .expect(204);
    app.get("/api/auth/whoami", &root)
        .await
        .expect_error(401, "unauthenticated");
}

#[tokio::test]
async fn cookie_state_changes_need_the_csrf_header() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let no_csrf = Caller {
        csrf: None,
        ..root.clone()
    };
    app.post("/api/servers", json!({"name": "web-01"}), &no_csrf)
        .await
        .expect_error(403, "csrf_required");
    let forged = Caller {
        csrf: Some("forged".into()),
        ..root.clone()
    };
    app.post("/api/servers", json!({"name": "web-01"}), &forged)
        .await
        .expect_error(403, "csrf_required");
    // Reads need no CSRF token; nothing was created by the refused calls.
    let servers = app.get("/api/servers", &no_csrf).await.expect(200);
    assert_eq!(servers["total"], 0);
    app.post("/api/servers", json!({"name": "web-01"}), &root)
        .await
        .expect(201);
}

#[tokio::test]
async fn totp_enrolment_then_sign_in_needs_a_fresh_code_used_once() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let enrol = app
        .call("POST", "/api/auth/mfa/totp", None, &root)
        .await
        .expect(200);
    let secret = enrol["secret"].as_str().unwrap().to_owned();
    assert!(enrol["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/Gatehouse:root?secret="));
    app.post(
        "/api/auth/mfa/totp/confirm",
        json!({"otp": "000000x"}),
        &root,
    )
    .await
    .expect_error(400, "validation_error");
    let step = totp::step_at(Utc::now());
    // Confirm with this step's code and sign in with the next one: both stay inside the ±1 step
    // window even if the clock crosses a step boundary while the test runs.
    let confirm_code = totp::code_at_step(&secret, step).unwrap();
    app.post(
        "/api/auth/mfa/totp/confirm",
        json!({"otp": confirm_code}),
        &root,
    )
    .await
    .expect(204);

    let anon = Caller::default();
    app.post(
        "/api/auth/login",
        json!({"username": "root", "password": PASSWORD}),
        &anon,
    )
    .await
    .expect_error(401, "mfa_required");
    // The code used to confirm cannot be used again.
    app.post(
        "/api/auth/login",
        json!({"username": "root", "password": PASSWORD, "otp": confirm_code}),
        &anon,
    )
    .await
    .expect_error(401, "unauthenticated");
    let code = totp::code_at_step(&secret, step + 1).unwrap();
    let ok = app
        .post(
            "/api/auth/login",
            json!({"username": "root", "password": PASSWORD, "otp": code}),
            &anon,
        )
        .await;
    session_cookie(&ok.headers);
    assert_eq!(ok.expect(200)["user"]["mfa_enabled"], true);
    // Replay of the same code is refused.
    app.post(
        "/api/auth/login",
        json!({"username": "root", "password": PASSWORD, "otp": code}),
        &anon,
    )
    .await
    .expect_error(401, "unauthenticated");
    let actions = app.audit_actions(&root).await;
    assert!(actions.contains(&"auth.mfa.enrolled".to_string()));
    assert!(actions.contains(&"auth.mfa".to_string()));
}

#[tokio::test]
async fn sign_in_is_throttled_per_account_and_per_peer() {
    let config = Config {
        throttle: ThrottleLimits {
            per_account: 3,
            per_peer: 5,
            window_secs: 900,
        },
        ..Config::default()
    };
    let app = TestApp::with_config(config).await;
    let root = app.superuser().await;
    let attacker = Caller {
        peer: Some("10.9.9.9:5555".parse().unwrap()),
        ..Caller::default()
    };
    for _ in 0..3 {
        app.post(
            "/api/auth/login",
            json!({"username": "root", "password": "wrong password!"}),
            &attacker,
        )
        .await
        .expect_error(401, "unauthenticated");
    }
    // Locked for the account now, even with the right password and from another peer.
    let other_peer = Caller {
        peer: Some("10.1.1.1:1".parse().unwrap()),
        ..Caller::default()
    };
    let r = app
        .post(
            "/api/auth/login",
            json!({"username": "root", "password": PASSWORD}),
            &other_peer,
        )
        .await;
    assert!(r.headers.get("retry-after").is_some());
    let body = r.expect_error(429, "rate_limited");
    assert!(body["retry_after_secs"].as_u64().unwrap() > 0);

    // Per peer: failures across other usernames add up to the peer limit.
    for name in ["a1", "a2"] {
        app.post(
            "/api/auth/login",
            json!({"username": name, "password": "wrong password!"}),
            &attacker,
        )
        .await
        .expect_error(401, "unauthenticated");
    }
    app.user(&root, "mia", "member").await;
    app.post(
        "/api/auth/login",
        json!({"username": "mia", "password": PASSWORD}),
        &attacker,
    )
    .await
    .expect_error(429, "rate_limited");
    // A client-supplied X-Forwarded-For from an untrusted peer changes nothing.
    let spoof = app
        .call_raw(
            "POST",
            "/api/auth/login",
            Some(json!({"username": "mia", "password": PASSWORD}).to_string()),
            &attacker,
            &[("x-forwarded-for", "192.0.2.77")],
        )
        .await;
    spoof.expect_error(429, "rate_limited");
    // Mia from her own address is fine.
    app.login("mia").await;
}

#[tokio::test]
async fn api_tokens_are_shown_once_hashed_and_revocable() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let created = app
        .post(
            "/api/tokens",
            json!({"name": "ci", "expires_in_days": 7}),
            &root,
        )
        .await
        .expect(201);
    let secret = created["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("gh_"));
    let list = app.get("/api/tokens", &root).await.expect(200);
    assert_eq!(list["total"], 1);
    assert!(
        !list.to_string().contains(&secret),
        "the secret is never listed"
    );

    let stored: (String,) = sqlx::query_as("SELECT token_hash FROM api_tokens")
        .fetch_one(&app.raw)
        .await
        .unwrap();
    assert_ne!(stored.0, secret, "only a hash is stored");

    let bot = Caller {
        bearer: Some(secret.clone()),
        ..Caller::default()
    };
    let who = app.get("/api/auth/whoami", &bot).await.expect(200);
    assert_eq!(who["auth_method"], "api_token");
    assert_eq!(who["work_session_required"], false);
    // Bearer calls need no CSRF header.
    app.post("/api/servers", json!({"name": "db-01"}), &bot)
        .await
        .expect(201);

    app.post(
        "/api/tokens",
        json!({"name": "x", "expires_in_days": 0}),
        &root,
    )
    .await
    .expect_error(400, "validation_error");
    let id = created["id"].as_str().unwrap();
    app.call("DELETE", &format!("/api/tokens/{id}"), None, &root)
        .await
        .expect(204);
    app.call("DELETE", &format!("/api/tokens/{id}"), None, &root)
        .await
        .expect_error(404, "not_found");
    app.get("/api/auth/whoami", &bot)
        .await
        .expect_error(401, "unauthenticated");
    let bad = Caller {
        bearer: Some("gh_nonsense".into()),
        ..Caller::default()
    };
    app.get("/api/auth/whoami", &bad)
        .await
        .expect_error(401, "unauthenticated");
}

#[tokio::test]
async fn roles_bound_user_and_group_administration() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let staff = app.user(&root, "stu", "staff").await;
    let member = app.user(&root, "mia", "member").await;

    app.get("/api/users", &member)
        .await
        .expect_error(403, "forbidden");
    app.post(
        "/api/users",
        json!({"username": "x1", "password": PASSWORD, "role": "member"}),
        &member,
    )
    .await
    .expect_error(403, "forbidden");
    app.post(
        "/api/users",
        json!({"username": "boss2", "password": PASSWORD, "role": "superuser"}),
        &staff,
    )
    .await
    .expect_error(403, "forbidden");
    app.post(
        "/api/users",
        json!({"username": "new1", "password": PASSWORD, "role": "member"}),
        &staff,
    )
    .await
    .expect(201);
    app.post(
        "/api/users",
        json!({"username": "new1", "password": PASSWORD, "role": "member"}),
        &staff,
    )
    .await
    .expect_error(409, "conflict");
    app.post(
        "/api/users",
        json!({"username": "bad name", "password": PASSWORD, "role": "member"}),
        &staff,
    )
    .await
    .expect_error(400, "validation_error");
    app.post(
        "/api/users",
        json!({"username": "r", "password": PASSWORD, "role": "king"}),
        &staff,
    )
    .await
    .expect_error(400, "validation_error");

    let page = app.get("/api/users?limit=2", &staff).await.expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["total"], 4);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = app
        .get(&format!("/api/users?limit=2&cursor={cursor}"), &staff)
        .await
        .expect(200);
    assert_eq!(rest["items"].as_array().unwrap().len(), 2);
    assert!(rest["next_cursor"].is_null());

    app.post("/api/groups", json!({"name": "web"}), &member)
        .await
        .expect_error(403, "forbidden");
    app.grant(&staff, "web", "web-*", &["mia"]).await;
    let groups = app.get("/api/groups", &staff).await.expect(200);
    assert_eq!(groups["items"][0]["members"], json!(["mia"]));
    assert_eq!(groups["items"][0]["server_patterns"], json!(["web-*"]));
    app.post("/api/groups", json!({"name": "web"}), &staff)
        .await
        .expect_error(409, "conflict");

    // Members see only the servers granted to them.
    app.server(&staff, "web-01").await;
    app.server(&staff, "db-01").await;
    let seen = app.get("/api/servers", &member).await.expect(200);
    assert_eq!(seen["total"], 1);
    assert_eq!(seen["items"][0]["name"], "web-01");
    assert_eq!(seen["items"][0]["groups"], json!(["web"]));
    assert_eq!(
        app.get("/api/servers", &staff).await.expect(200)["total"],
        2
    );
    let db = app.get("/api/servers?q=db", &staff).await.expect(200);
    let db_id = db["items"][0]["id"].as_str().unwrap();
    app.get(&format!("/api/servers/{db_id}"), &member)
        .await
        .expect_error(404, "not_found");
    app.call("DELETE", &format!("/api/servers/{db_id}"), None, &member)
        .await
        .expect_error(403, "forbidden");
    app.call("DELETE", &format!("/api/servers/{db_id}"), None, &staff)
        .await
        .expect(204);
}

#[tokio::test]
async fn agent_registration_spends_tokens_and_binds_entries_once() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let member = app.user(&root, "mia", "member").await;
    app.post("/api/servers/registration-tokens", json!({}), &member)
        .await
        .expect_error(403, "forbidden");
    let reg = app
        .post(
            "/api/servers/registration-tokens",
            json!({"max_uses": 2}),
            &root,
        )
        .await
        .expect(201);
    let token = reg["token"].as_str().unwrap();
    app.server(&root, "web-01").await;
    let anon = Caller::default();
    let body = |name: &str, token: &str| json!({"registration_token": token, "name": name, "os": "linux", "platform": "x86_64", "hostname": "h1"});
    let cred = app
        .post("/api/agents/register", body("web-01", token), &anon)
        .await
        .expect(201);
    assert!(cred["agent_secret"].as_str().unwrap().len() >= 40);
    // The entry already has an agent: refused, and the token use is given back.
    app.post("/api/agents/register", body("web-01", token), &anon)
        .await
        .expect_error(409, "conflict");
    app.post("/api/agents/register", body("web-02", token), &anon)
        .await
        .expect(201);
    app.post("/api/agents/register", body("web-03", token), &anon)
        .await
        .expect_error(401, "unauthenticated");
    app.post("/api/agents/register", body("web-04", "ghr_forged"), &anon)
        .await
        .expect_error(401, "unauthenticated");
    let servers = app.get("/api/servers", &root).await.expect(200);
    assert_eq!(
        servers["total"], 2,
        "nothing half-registered is left behind"
    );
    assert_eq!(servers["items"][0]["os"], "linux");
}

#[tokio::test]
async fn a_trusted_proxy_forwards_the_client_address_for_throttling() {
    let proxy: std::net::SocketAddr = "10.0.0.2:443".parse().unwrap();
    let config = Config {
        trusted_proxies: vec![proxy.ip()],
        throttle: ThrottleLimits {
            per_account: 100,
            per_peer: 2,
            window_secs: 900,
        },
        ..Config::default()
    };
    let app = TestApp::with_config(config).await;
    app.superuser().await;
    let via_proxy = Caller {
        peer: Some(proxy),
        ..Caller::default()
    };
    let attempt = |client: &'static str| {
        let body = Some(json!({"username": "root", "password": "wrong password!"}).to_string());
        let caller = via_proxy.clone();
        let app = &app;
        async move {
            app.call_raw(
                "POST",
                "/api/auth/login",
                body,
                &caller,
                &[("x-forwarded-for", client)],
            )
            .await
        }
    };
    attempt("198.51.100.7")
        .await
        .expect_error(401, "unauthenticated");
    attempt("198.51.100.7")
        .await
        .expect_error(401, "unauthenticated");
    attempt("198.51.100.7")
        .await
        .expect_error(429, "rate_limited");
    // Another client behind the same proxy is counted on its own.
    attempt("198.51.100.8")
        .await
        .expect_error(401, "unauthenticated");
}

#[tokio::test]
async fn direct_server_grants_let_a_member_request_that_server() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let mia = app.user(&root, "mia", "member").await;
    app.server(&root, "db-01").await;
    let body = json!({"purpose": "vacuum", "scopes": ["command"], "servers": ["db-01"], "duration_secs": 600});
    app.post("/api/work-sessions", body.clone(), &mia)
        .await
        .expect_error(403, "forbidden");
    app.post(
        &format!("/api/users/{}/servers", mia.id),
        json!({"pattern": "db/*"}),
        &root,
    )
    .await
    .expect_error(400, "validation_error");
    app.post(
        &format!("/api/users/{}/servers", mia.id),
        json!({"pattern": "db-01"}),
        &mia,
    )
    .await
    .expect_error(403, "forbidden");
    app.post(
        &format!("/api/users/{}/servers", mia.id),
        json!({"pattern": "db-01"}),
        &root,
    )
    .await
    .expect(204);
    app.post("/api/work-sessions", body, &mia).await.expect(201);
    let seen = app.get("/api/servers", &mia).await.expect(200);
    let id = seen["items"][0]["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/api/servers/{id}"), &mia)
            .await
            .expect(200)["name"],
        "db-01"
    );
}

#[tokio::test]
async fn failed_agent_registrations_are_throttled_per_peer() {
    let config = Config {
        throttle: ThrottleLimits {
            per_account: 5,
            per_peer: 2,
            window_secs: 900,
        },
        ..Config::default()
    };
    let app = TestApp::with_config(config).await;
    let root = app.superuser().await;
    let good = app
        .post(
            "/api/servers/registration-tokens",
            json!({"max_uses": 5}),
            &root,
        )
        .await
        .expect(201);
    let body = |token: &str, name: &str| json!({"registration_token": token, "name": name, "os": "linux", "platform": "x86_64", "hostname": "h"});
    let anon = Caller::default();
    // Successes do not count: a fleet may register in a burst.
    for name in ["a-1", "a-2", "a-3"] {
        app.post(
            "/api/agents/register",
            body(good["token"].as_str().unwrap(), name),
            &anon,
        )
        .await
        .expect(201);
    }
    for name in ["b-1", "b-2"] {
        app.post("/api/agents/register", body("ghr_guess", name), &anon)
            .await
            .expect_error(401, "unauthenticated");
    }
    app.post(
        "/api/agents/register",
        body(good["token"].as_str().unwrap(), "c-1"),
        &anon,
    )
    .await
    .expect_error(429, "rate_limited");
    let elsewhere = Caller {
        peer: Some("10.2.3.4:5".parse().unwrap()),
        ..Caller::default()
    };
    app.post(
        "/api/agents/register",
        body(good["token"].as_str().unwrap(), "c-1"),
        &elsewhere,
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn the_version_is_public_and_names_the_api() {
    let app = TestApp::new().await;
    let version = app
        .get("/api/version", &Caller::default())
        .await
        .expect(200);
    assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(version["api"], gatehouse_shared::api::API_VERSION);
    let spec = app
        .get("/api/openapi.json", &Caller::default())
        .await
        .expect(200);
    assert!(spec["paths"]["/api/version"]["get"].is_object());
}
