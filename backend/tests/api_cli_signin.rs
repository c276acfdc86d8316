//! The `gate` CLI's sign-ins: `client: "cli"` password sign-in and device sign-in (RFC 8628).
//! Both give a `ghs_` bearer secret that is a person's interactive sign-in (work sessions
//! needed, no CSRF, listed and revocable with the browser's), never an API token.

mod common;

use common::{Caller, TestApp, PASSWORD};
use gatehouse::auth::totp;
use serde_json::{json, Value};

fn bearer(secret: &str) -> Caller {
    Caller {
        bearer: Some(secret.to_owned()),
        ..Caller::default()
    }
}

async fn cli_login(app: &TestApp, username: &str, otp: Option<&str>) -> common::Response {
    let mut body = json!({"username": username, "password": PASSWORD, "client": "cli",
                          "client_name": "gate on build-07"});
    if let Some(otp) = otp {
        body["otp"] = otp.into();
    }
    app.post("/api/auth/login", body, &Caller::default()).await
}

#[tokio::test]
async fn a_cli_password_sign_in_is_an_interactive_bearer_credential() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    app.user(&root, "mia", "member").await;
    let browser = app.login("mia").await;
    app.server(&root, "web-01").await;
    app.grant(&root, "web", "web-*", &["mia"]).await;

    let r = cli_login(&app, "mia", None).await;
    assert!(
        r.headers.get("set-cookie").is_none(),
        "a CLI sign-in sets no cookie"
    );
    let body = r.expect(200);
    let secret = body["access_token"].as_str().expect("access_token");
    assert!(secret.starts_with("ghs_"), "{secret}");
    assert_eq!(body["user"]["username"], "mia");
    assert!(body["expires_at"].as_str().is_some());
    let cli = bearer(secret);

    let me = app.get("/api/auth/whoami", &cli).await.expect(200);
    assert_eq!(me["auth_method"], "cli");
    assert_eq!(me["work_session_required"], true);
    assert_eq!(me["principal"], "user");
    assert!(me.get("csrf_token").is_none(), "{me}");

    // Interactive: the gate wants a work session, exactly as for the browser.
    app.post(
        "/api/gate/check",
        json!({"scope": "websh", "server": "web-01"}),
        &cli,
    )
    .await
    .expect_error(403, "work_session_required");
    // A bearer is not sent by a browser on its own: no CSRF token is asked for.
    app.post(
        "/api/work-sessions",
        json!({"purpose": "from the terminal", "scopes": ["websh"], "servers": ["web-01"],
               "duration_secs": 600}),
        &cli,
    )
    .await
    .expect(201);

    // The secret is a bearer, never a cookie.
    let as_cookie = Caller {
        cookie: Some(format!("gatehouse_session={secret}")),
        ..Caller::default()
    };
    app.get("/api/auth/whoami", &as_cookie)
        .await
        .expect_error(401, "unauthenticated");

    // Listed with the browser sign-in, each told apart, the caller's own marked.
    let list = app.get("/api/auth/signins", &cli).await.expect(200);
    let items = list["items"].as_array().expect("items");
    // `user` signed mia in to the browser once, and so did `login` above.
    assert_eq!(items.len(), 3, "{list}");
    let cli_row = items.iter().find(|s| s["client"] == "cli").expect("cli");
    assert_eq!(cli_row["client_name"], "gate on build-07");
    assert_eq!(cli_row["address"], "127.0.0.1");
    assert_eq!(cli_row["current"], true);
    assert!(cli_row["last_used_at"].as_str().is_some());
    assert!(items
        .iter()
        .filter(|s| s["client"] == "browser")
        .all(|s| s["current"] == false));

    // Someone else cannot end it; the person can, from the browser, and it stops at once.
    let other = app.user(&root, "olga", "member").await;
    let cli_id = cli_row["id"].as_str().unwrap();
    app.delete(&format!("/api/auth/signins/{cli_id}"), &other)
        .await
        .expect_error(404, "not_found");
    app.delete(&format!("/api/auth/signins/{cli_id}"), &browser)
        .await
        .expect(204);
    app.get("/api/auth/whoami", &cli)
        .await
        .expect_error(401, "unauthenticated");
    app.get("/api/auth/whoami", &browser).await.expect(200);
    app.delete("/api/auth/signins/not-a-uuid", &browser)
        .await
        .expect_error(404, "not_found");
    assert!(app
        .audit_actions(&root)
        .await
        .contains(&"auth.signin_revoked".to_owned()));

    // An expired CLI sign-in is refused.
    let body = cli_login(&app, "mia", None).await.expect(200);
    let cli = bearer(body["access_token"].as_str().unwrap());
    app.get("/api/auth/whoami", &cli).await.expect(200);
    sqlx::query("UPDATE login_sessions SET expires_at = 0 WHERE client = 'cli'")
        .execute(&app.raw)
        .await
        .unwrap();
    app.get("/api/auth/whoami", &cli)
        .await
        .expect_error(401, "unauthenticated");

    // An API token has no sign-ins to list.
    let token = app.token(&browser, "ci").await;
    app.get("/api/auth/signins", &token)
        .await
        .expect_error(403, "forbidden");
}

#[tokio::test]
async fn a_cli_sign_in_asks_for_the_code_verifies_step_up_signs_out_and_expires() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let browser = app.user(&root, "mia", "member").await;
    let secret = common::elevation::enrol(&app, &browser).await;

    cli_login(&app, "mia", None)
        .await
        .expect_error(401, "mfa_required");
    // `enrol` spent the previous step's code: this step's signs in, the next one verifies.
    let step = totp::step_at(chrono::Utc::now());
    let code = totp::code_at_step(&secret, step).unwrap();
    let body = cli_login(&app, "mia", Some(&code)).await.expect(200);
    let cli = bearer(body["access_token"].as_str().unwrap());
    let me = app.get("/api/auth/whoami", &cli).await.expect(200);
    assert!(me["mfa_verified_at"].as_str().is_some(), "{me}");

    // `gate mfa verify` refreshes this sign-in's step-up time.
    let next = totp::code_at_step(&secret, step + 1).unwrap();
    app.post("/api/auth/mfa/verify", json!({"otp": next}), &cli)
        .await
        .expect(200);

    // Signing out ends only this sign-in.
    app.post("/api/auth/logout", json!({}), &cli)
        .await
        .expect(204);
    app.get("/api/auth/whoami", &cli)
        .await
        .expect_error(401, "unauthenticated");
    app.get("/api/auth/whoami", &browser).await.expect(200);

    // Bad input: an unknown client, an over-long name.
    app.post(
        "/api/auth/login",
        json!({"username": "mia", "password": PASSWORD, "client": "fax"}),
        &Caller::default(),
    )
    .await
    .expect_error(400, "validation_error");
    app.post(
        "/api/auth/login",
        json!({"username": "mia", "password": PASSWORD, "client": "cli",
               "client_name": "x".repeat(101)}),
        &Caller::default(),
    )
    .await
    .expect_error(400, "validation_error");
}

async fn device_request(app: &TestApp) -> Value {
    app.post(
        "/api/auth/device",
        json!({"client_name": "gate on laptop"}),
        &Caller::default(),
    )
    .await
    .expect(200)
}

async fn decide(app: &TestApp, who: &Caller, user_code: Value, approve: bool) -> common::Response {
    app.post(
        "/api/auth/device/decide",
        json!({"user_code": user_code, "approve": approve}),
        who,
    )
    .await
}

async fn poll(app: &TestApp, device: &Value) -> common::Response {
    app.post(
        "/api/auth/device/token",
        json!({"device_code": device["device_code"]}),
        &Caller::default(),
    )
    .await
}

#[tokio::test]
async fn a_device_sign_in_is_approved_in_the_console_and_handed_out_once() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let browser = app.user(&root, "mia", "member").await;

    let device = device_request(&app).await;
    let user_code = device["user_code"].as_str().unwrap().to_owned();
    assert_eq!(user_code.len(), 9, "{device}");
    assert_eq!(device["interval"], 5);
    assert_eq!(device["expires_in"], 600);
    assert!(device["verification_uri"]
        .as_str()
        .unwrap()
        .ends_with("/device"));
    assert!(device["verification_uri_complete"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/device?user_code={user_code}")));

    poll(&app, &device)
        .await
        .expect_error(400, "authorization_pending");
    // Too soon again: told to slow down, with the longer interval.
    let r = poll(&app, &device).await;
    assert_eq!(r.headers["retry-after"], "10");
    r.expect_error(400, "slow_down");

    // The console shows what asked, from where and when, typed in any case.
    let typed = user_code.to_lowercase().replace('-', " ");
    let shown = app
        .get(
            &format!("/api/auth/device?user_code={}", typed.replace(' ', "%20")),
            &browser,
        )
        .await
        .expect(200);
    assert_eq!(shown["client_name"], "gate on laptop");
    assert_eq!(shown["address"], "127.0.0.1");
    assert_eq!(shown["user_code"], user_code.as_str());
    assert!(shown["requested_at"].as_str().is_some());

    // Only a console sign-in decides: not a token, not another CLI.
    let token = app.token(&browser, "ci").await;
    decide(&app, &token, json!(user_code), true)
        .await
        .expect_error(403, "forbidden");
    decide(&app, &browser, json!("BCDF-GHJK"), true)
        .await
        .expect_error(404, "not_found");
    decide(&app, &browser, json!("not a code"), true)
        .await
        .expect_error(400, "validation_error");
    decide(&app, &browser, json!(user_code), true)
        .await
        .expect(204);
    // Decided once.
    decide(&app, &browser, json!(user_code), false)
        .await
        .expect_error(404, "not_found");

    let token_body = poll(&app, &device).await.expect(200);
    assert_eq!(token_body["token_type"], "Bearer");
    assert_eq!(token_body["user"]["username"], "mia");
    let secret = token_body["access_token"].as_str().unwrap();
    assert!(secret.starts_with("ghs_"));
    let me = app
        .get("/api/auth/whoami", &bearer(secret))
        .await
        .expect(200);
    assert_eq!(me["auth_method"], "cli");
    assert_eq!(me["user"]["username"], "mia");
    // Handed out once.
    poll(&app, &device).await.expect_error(400, "expired_token");

    let signins = app.get("/api/auth/signins", &browser).await.expect(200);
    assert!(signins["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["client"] == "cli" && s["client_name"] == "gate on laptop"));
    let actions = app.audit_actions(&root).await;
    for action in ["auth.device_requested", "auth.device_approved"] {
        assert!(
            actions.contains(&action.to_owned()),
            "{action}: {actions:?}"
        );
    }
}

#[tokio::test]
async fn a_denied_expired_or_unknown_device_code_gets_no_sign_in() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let browser = app.user(&root, "mia", "member").await;

    let denied = device_request(&app).await;
    decide(&app, &browser, json!(denied["user_code"]), false)
        .await
        .expect(204);
    poll(&app, &denied).await.expect_error(400, "access_denied");
    poll(&app, &denied).await.expect_error(400, "access_denied");

    let expired = device_request(&app).await;
    sqlx::query("UPDATE device_requests SET expires_at = 0 WHERE user_code = ?")
        .bind(expired["user_code"].as_str().unwrap())
        .execute(&app.raw)
        .await
        .unwrap();
    poll(&app, &expired)
        .await
        .expect_error(400, "expired_token");
    app.get(
        &format!(
            "/api/auth/device?user_code={}",
            expired["user_code"].as_str().unwrap()
        ),
        &browser,
    )
    .await
    .expect_error(404, "not_found");
    decide(&app, &browser, json!(expired["user_code"]), true)
        .await
        .expect_error(404, "not_found");

    poll(&app, &json!({"device_code": "nothing-like-it"}))
        .await
        .expect_error(400, "expired_token");
    app.call_raw(
        "POST",
        "/api/auth/device/token",
        Some("{not json".to_owned()),
        &Caller::default(),
        &[],
    )
    .await
    .expect_error(400, "bad_request");
    app.post(
        "/api/auth/device",
        json!({"client_name": "x".repeat(101)}),
        &Caller::default(),
    )
    .await
    .expect_error(400, "validation_error");
    app.post(
        "/api/auth/device",
        json!({"client_name": "evil\u{1b}[2J"}),
        &Caller::default(),
    )
    .await
    .expect_error(400, "validation_error");

    // Approved, then the person is disabled before the CLI polls: nothing is handed out.
    let late = device_request(&app).await;
    decide(&app, &browser, json!(late["user_code"]), true)
        .await
        .expect(204);
    let mia_id = browser.id.clone();
    app.call(
        "PATCH",
        &format!("/api/users/{mia_id}"),
        Some(json!({"disabled": true})),
        &root,
    )
    .await
    .expect(200);
    poll(&app, &late).await.expect_error(400, "access_denied");
    // And the server is fine.
    app.get("/api/auth/whoami", &root).await.expect(200);
}
