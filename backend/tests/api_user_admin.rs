//! Changing people: roles (superusers only), disabling (sign-ins, tokens and sessions end at
//! once; the person cannot sign in), re-enabling, and the guards (not oneself, not the last
//! superuser), each audited.

mod common;

use common::{Caller, TestApp};
use serde_json::json;

async fn patch(
    app: &TestApp,
    who: &Caller,
    user: &str,
    body: serde_json::Value,
) -> common::Response {
    app.call("PATCH", &format!("/api/users/{user}"), Some(body), who)
        .await
}

#[tokio::test]
async fn only_superusers_change_roles_and_nobody_their_own() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let staff = app.user(&root, "sam", "staff").await;
    let member = app.user(&root, "mia", "member").await;

    patch(&app, &staff, &member.id, json!({"role": "staff"}))
        .await
        .expect_error(403, "forbidden");
    patch(&app, &member, &member.id, json!({"role": "superuser"}))
        .await
        .expect_error(403, "forbidden");
    patch(&app, &root, &member.id, json!({"role": "emperor"}))
        .await
        .expect_error(400, "validation_error");
    let promoted = patch(&app, &root, &member.id, json!({"role": "staff"}))
        .await
        .expect(200);
    assert_eq!(promoted["role"], "staff");
    let audit = app
        .get("/api/audit?action=user.role_changed", &root)
        .await
        .expect(200);
    assert_eq!(audit["total"], 1);
    assert_eq!(audit["items"][0]["details"]["from"], "member");
    assert_eq!(audit["items"][0]["details"]["to"], "staff");

    // Not oneself; not the last enabled superuser.
    patch(&app, &root, &root.id, json!({"role": "member"}))
        .await
        .expect_error(409, "conflict");
    patch(&app, &root, &root.id, json!({"disabled": true}))
        .await
        .expect_error(409, "conflict");
    let second = app.user(&root, "sue", "superuser").await;
    patch(&app, &second, &root.id, json!({"role": "staff"}))
        .await
        .expect(200);
    let body = patch(&app, &root, &second.id, json!({"disabled": true}))
        .await
        .expect_error(403, "forbidden");
    assert!(body["message"].as_str().is_some(), "{body}");
    // `root` is staff now, and staff do not change superusers. Another superuser may.
    let third = app.user(&second, "tom", "superuser").await;
    patch(&app, &third, &second.id, json!({"disabled": true}))
        .await
        .expect(200);
    let last = patch(&app, &second, &third.id, json!({"disabled": true})).await;
    // `sue` is disabled, so her sign-in no longer works at all.
    last.expect_error(401, "unauthenticated");
    patch(&app, &third, &third.id, json!({"role": "staff"}))
        .await
        .expect_error(409, "conflict");
}

#[tokio::test]
async fn disabling_ends_sign_ins_tokens_and_sessions_and_refuses_new_ones() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let member = app.user(&root, "leo", "member").await;
    app.server(&root, "web-01").await;
    app.grant(&root, "web", "web-*", &["leo"]).await;
    let bearer = app.token(&member, "laptop").await;
    app.get("/api/auth/whoami", &bearer).await.expect(200);
    let session = app.request_session(&member, &["websh"], &["web-01"]).await;
    let sid = common::id(&session);
    app.approve(&root, &sid).await;
    let pending = app.request_session(&member, &["webftp"], &["web-01"]).await;
    let pending_id = common::id(&pending);

    let disabled = patch(&app, &root, &member.id, json!({"disabled": true}))
        .await
        .expect(200);
    assert_eq!(disabled["disabled"], true);

    // The sign-in, the token and a new sign-in are all refused.
    app.get("/api/auth/whoami", &member)
        .await
        .expect_error(401, "unauthenticated");
    app.get("/api/auth/whoami", &bearer)
        .await
        .expect_error(401, "unauthenticated");
    let again = app
        .post(
            "/api/auth/login",
            json!({"username": "leo", "password": common::PASSWORD}),
            &Caller::default(),
        )
        .await
        .expect_error(403, "forbidden");
    assert!(again["message"].as_str().unwrap().contains("disabled"));
    // Their unfinished sessions are revoked, saying why and by whom.
    for id in [&sid, &pending_id] {
        let s = app
            .get(&format!("/api/work-sessions/{id}"), &root)
            .await
            .expect(200);
        assert_eq!(s["status"], "revoked", "{s}");
        assert_eq!(s["decision_reason"], "the account was disabled by root");
    }
    let audit = app
        .get("/api/audit?action=user.disabled", &root)
        .await
        .expect(200);
    assert_eq!(audit["total"], 1);
    assert_eq!(audit["items"][0]["actor"], "root");
    assert_eq!(audit["items"][0]["target"], "leo");
    assert_eq!(audit["items"][0]["details"]["signins_ended"], 1);

    // Disabling again changes nothing and audits nothing.
    patch(&app, &root, &member.id, json!({"disabled": true}))
        .await
        .expect(200);
    let audit = app
        .get("/api/audit?action=user.disabled", &root)
        .await
        .expect(200);
    assert_eq!(audit["total"], 1);

    // Enabled again: they sign in (the old token works again; revoking it is a separate act).
    patch(&app, &root, &member.id, json!({"disabled": false}))
        .await
        .expect(200);
    app.login("leo").await;
    app.get("/api/auth/whoami", &bearer).await.expect(200);
    let audit = app
        .get("/api/audit?action=user.enabled", &root)
        .await
        .expect(200);
    assert_eq!(audit["total"], 1);
}
