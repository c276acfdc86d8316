//! Account upkeep: changing one's own password (the current one checked, other sign-ins
//! ended), and staff listing and revoking outstanding agent registration tokens (never their
//! secrets), each audited, with bad input refused.

mod common;

use common::{Caller, TestApp, PASSWORD};
use serde_json::json;

#[tokio::test]
async fn changing_ones_password_checks_the_current_one_and_ends_other_sign_ins() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    app.user(&root, "mia", "member").await;
    let here = app.login("mia").await;
    let elsewhere = app.login("mia").await;
    let token = app.token(&here, "ci").await;

    for (body, field) in [
        (
            json!({"current": "wrong password!", "new": "a brand new passphrase"}),
            "current",
        ),
        (json!({"current": PASSWORD, "new": "short"}), "new"),
    ] {
        let err = app
            .post("/api/auth/password", body, &here)
            .await
            .expect_error(400, "validation_error");
        assert_eq!(err["fields"][0]["field"], field, "{err}");
    }
    app.post("/api/auth/password", json!({"current": PASSWORD}), &here)
        .await
        .expect_error(400, "validation_error");
    app.post(
        "/api/auth/password",
        json!({"current": PASSWORD, "new": "x".repeat(20)}),
        &Caller::default(),
    )
    .await
    .expect_error(401, "unauthenticated");
    // Nothing changed yet: the old password still signs in.
    app.login("mia").await;

    app.post(
        "/api/auth/password",
        json!({"current": PASSWORD, "new": "a brand new passphrase"}),
        &here,
    )
    .await
    .expect(204);
    app.get("/api/auth/whoami", &here).await.expect(200);
    app.get("/api/auth/whoami", &elsewhere)
        .await
        .expect_error(401, "unauthenticated");
    // API tokens are separate credentials and keep working.
    app.get("/api/auth/whoami", &token).await.expect(200);
    app.post(
        "/api/auth/login",
        json!({"username": "mia", "password": PASSWORD}),
        &Caller::default(),
    )
    .await
    .expect_error(401, "unauthenticated");
    app.post(
        "/api/auth/login",
        json!({"username": "mia", "password": "a brand new passphrase"}),
        &Caller::default(),
    )
    .await
    .expect(200);
    let audit = app
        .get("/api/audit?action=auth.password_changed", &root)
        .await
        .expect(200);
    assert_eq!(audit["total"], 1);
    assert_eq!(audit["items"][0]["actor"], "mia");
    // The sign-in `user` made, `elsewhere`, and the check above; `here` stays.
    assert_eq!(audit["items"][0]["details"]["other_signins_ended"], 3);
}

#[tokio::test]
async fn staff_list_and_revoke_outstanding_registration_tokens() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let member = app.user(&root, "mia", "member").await;
    let first = app.registration_token(&root, json!({})).await;
    let second = app.registration_token(&root, json!({"max_uses": 3})).await;
    let list = app
        .get("/api/servers/registration-tokens", &root)
        .await
        .expect(200);
    assert_eq!(list["total"], 2, "{list}");
    let text = list.to_string();
    for created in [&first, &second] {
        assert!(text.contains(created["id"].as_str().unwrap()));
        assert!(
            !text.contains(created["token"].as_str().unwrap()),
            "a secret in the list"
        );
    }
    assert_eq!(list["items"][0]["created_by"], "root");
    app.get("/api/servers/registration-tokens", &member)
        .await
        .expect_error(403, "forbidden");

    let id = first["id"].as_str().unwrap();
    let path = format!("/api/servers/registration-tokens/{id}");
    app.call("DELETE", &path, None, &member)
        .await
        .expect_error(403, "forbidden");
    app.call("DELETE", &path, None, &root).await.expect(204);
    app.call("DELETE", &path, None, &root)
        .await
        .expect_error(404, "not_found");
    // A malformed id names nothing, like an unknown one.
    app.call(
        "DELETE",
        "/api/servers/registration-tokens/nope",
        None,
        &root,
    )
    .await
    .expect_error(404, "not_found");
    let list = app
        .get("/api/servers/registration-tokens", &root)
        .await
        .expect(200);
    assert_eq!(list["total"], 1);
    // A revoked token no longer registers an agent.
    app.post(
        "/api/agents/register",
        json!({"registration_token": first["token"], "name": "web-01", "os": "linux",
               "platform": "x", "hostname": "web-01"}),
        &Caller::default(),
    )
    .await
    .expect_error(401, "unauthenticated");
    let audit = app
        .get("/api/audit?action=registration_token.revoked", &root)
        .await
        .expect(200);
    assert_eq!(audit["total"], 1);
    assert_eq!(audit["items"][0]["target"], id);
}
