//! Staff resets of a person's password and MFA, step-up verification and recovery codes: who
//! may (roles, self, superuser targets, API tokens), the step-up rule (no MFA → 403
//! `mfa_enrolment_required`, stale → 401 `mfa_step_up_required`), that a reset ends the target's
//! sign-ins and sessions, that the one-time password forces a change, that a recovery code
//! works once, and that no secret reaches the audit log.

mod common;

use chrono::Utc;
use common::{Caller, TestApp, PASSWORD};
use gatehouse::auth::totp;
use serde_json::{json, Value};

/// Enrols TOTP for `who` and proves a code on that sign-in (a fresh step-up); the secret.
async fn enrol(app: &TestApp, who: &Caller) -> String {
    let enrolment = app
        .call("POST", "/api/auth/mfa/totp", None, who)
        .await
        .expect(200);
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    // This step's code confirms, the next one verifies: both inside the ±1 step window even if
    // the clock crosses a step boundary meanwhile, and each spent once.
    let step = totp::step_at(Utc::now());
    let confirm = totp::code_at_step(&secret, step).unwrap();
    app.post("/api/auth/mfa/totp/confirm", json!({"otp": confirm}), who)
        .await
        .expect(204);
    let verify = totp::code_at_step(&secret, step + 1).unwrap();
    app.post("/api/auth/mfa/verify", json!({"otp": verify}), who)
        .await
        .expect(200);
    secret
}

/// Makes `who`'s proof of MFA older than the 900-second step-up window, as time would.
async fn age_mfa(app: &TestApp, who: &Caller) {
    let old = (Utc::now() - chrono::Duration::seconds(901)).timestamp_micros();
    sqlx::query("UPDATE login_sessions SET mfa_verified_at = ? WHERE user_id = ?")
        .bind(old)
        .bind(&who.id)
        .execute(&app.raw)
        .await
        .unwrap();
}

fn reset_path(target: &Caller, what: &str) -> String {
    format!("/api/users/{}/{what}", target.id)
}

/// The whole audit log as exported text.
async fn audit_text(app: &TestApp, admin: &Caller) -> String {
    let export = app.get("/api/audit?format=jsonl", admin).await;
    assert_eq!(export.status.as_u16(), 200);
    export.text
}

async fn audit_of(app: &TestApp, admin: &Caller, action: &str) -> Value {
    app.get(&format!("/api/audit?action={action}"), admin)
        .await
        .expect(200)
}

#[tokio::test]
async fn resets_need_staff_fresh_mfa_and_a_target_they_may_touch() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let member = app.user(&root, "mia", "member").await;
    let staff = app.user(&root, "sam", "staff").await;
    let other_member = app.user(&root, "max", "member").await;
    let staff_token = app.token(&staff, "ci").await;

    for what in ["password-reset", "mfa-reset"] {
        // Members are refused by role before anything else.
        app.post(&reset_path(&other_member, what), json!({}), &member)
            .await
            .expect_error(403, "forbidden");
        // Staff without TOTP are told to enrol, in words that point at the Account page.
        let err = app
            .post(&reset_path(&member, what), json!({}), &staff)
            .await
            .expect_error(403, "mfa_enrolment_required");
        assert!(err["message"].as_str().unwrap().contains("Account page"));
        // An API token never can, whatever its owner's MFA.
        app.post(&reset_path(&member, what), json!({}), &staff_token)
            .await
            .expect_error(403, "forbidden");
    }
    enrol(&app, &staff).await;
    age_mfa(&app, &staff).await;
    for what in ["password-reset", "mfa-reset"] {
        let err = app
            .post(&reset_path(&member, what), json!({}), &staff)
            .await
            .expect_error(401, "mfa_step_up_required");
        assert_eq!(err["next_actions"], json!(["POST /api/auth/mfa/verify"]));
    }
    // A stale step-up is not a lost sign-in: whoami still answers, with the old time.
    let me = app.get("/api/auth/whoami", &staff).await.expect(200);
    assert!(me["mfa_verified_at"].is_string(), "{me}");
    // A wrong code refreshes nothing.
    app.post("/api/auth/mfa/verify", json!({"otp": "000000"}), &staff)
        .await
        .expect_error(400, "validation_error");
    app.post(&reset_path(&member, "password-reset"), json!({}), &staff)
        .await
        .expect_error(401, "mfa_step_up_required");
    let codes = app
        .call("POST", "/api/auth/mfa/recovery-codes", None, &staff)
        .await
        .expect_error(401, "mfa_step_up_required");
    assert_eq!(codes["next_actions"][0], "POST /api/auth/mfa/verify");
    // The older step-up checks (new API tokens, TOTP changes) keep their 403 and name the same
    // way out.
    let token = app
        .post("/api/tokens", json!({"name": "later"}), &staff)
        .await
        .expect_error(403, "forbidden");
    assert_eq!(token["next_actions"], json!(["POST /api/auth/mfa/verify"]));

    // Fresh again: the TOTP steps of this minute are spent, so the proof is renewed in the
    // database, as a verify would.
    sqlx::query("UPDATE login_sessions SET mfa_verified_at = ? WHERE user_id = ?")
        .bind(Utc::now().timestamp_micros())
        .bind(&staff.id)
        .execute(&app.raw)
        .await
        .unwrap();
    app.post("/api/tokens", json!({"name": "later"}), &staff)
        .await
        .expect(201);
    for what in ["password-reset", "mfa-reset"] {
        // Unknown and malformed ids name nothing.
        app.post(
            &format!("/api/users/{}/{what}", uuid::Uuid::new_v4()),
            json!({}),
            &staff,
        )
        .await
        .expect_error(404, "not_found");
        app.post(&format!("/api/users/not-an-id/{what}"), json!({}), &staff)
            .await
            .expect_error(404, "not_found");
        // Nobody resets themselves here, and staff never reset a superuser.
        app.post(&reset_path(&staff, what), json!({}), &staff)
            .await
            .expect_error(409, "conflict");
        let err = app
            .post(&reset_path(&root, what), json!({}), &staff)
            .await
            .expect_error(403, "forbidden");
        assert!(err["message"].as_str().unwrap().contains("superuser"));
    }
    // A member without MFA has none to reset.
    app.post(&reset_path(&member, "mfa-reset"), json!({}), &staff)
        .await
        .expect_error(409, "conflict");
    // Nothing above reset anyone: the member still signs in with the old password.
    app.login("mia").await;
    assert_eq!(
        audit_of(&app, &root, "user.password_reset").await["total"],
        0
    );

    // A superuser may reset another superuser.
    let sue = app.user(&root, "sue", "superuser").await;
    enrol(&app, &root).await;
    let done = app
        .post(&reset_path(&sue, "password-reset"), json!({}), &root)
        .await
        .expect(200);
    assert_eq!(done["user"]["username"], "sue");
    assert_eq!(done["user"]["must_change_password"], true);
}

#[tokio::test]
async fn a_password_reset_ends_sign_ins_and_sessions_and_the_one_time_password_forces_a_change() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let staff = app.user(&root, "sam", "staff").await;
    let member = app.user(&root, "mia", "member").await;
    let member_token = app.token(&member, "ci").await;
    app.server(&root, "web-01").await;
    app.grant(&root, "web", "web-01", &["mia"]).await;
    let session = app.request_session(&member, &["websh"], &["web-01"]).await;
    let sid = common::id(&session);
    app.approve(&root, &sid).await;
    let elsewhere = app.login("mia").await;
    enrol(&app, &staff).await;

    let done = app
        .post(&reset_path(&member, "password-reset"), json!({}), &staff)
        .await
        .expect(200);
    let one_time = done["one_time_password"].as_str().unwrap().to_owned();
    assert!(one_time.len() >= 12, "{one_time}");
    assert_eq!(done["signins_ended"], 2);
    assert_eq!(done["user"]["must_change_password"], true);

    // Every sign-in ended, the old password is gone, and the work session was ended saying why.
    for signin in [&member, &elsewhere] {
        app.get("/api/auth/whoami", signin)
            .await
            .expect_error(401, "unauthenticated");
    }
    app.post(
        "/api/auth/login",
        json!({"username": "mia", "password": PASSWORD}),
        &Caller::default(),
    )
    .await
    .expect_error(401, "unauthenticated");
    let s = app
        .get(&format!("/api/work-sessions/{sid}"), &root)
        .await
        .expect(200);
    assert_eq!(s["status"], "revoked", "{s}");
    assert_eq!(
        s["decision_reason"],
        "the account's password was reset by sam"
    );

    // The one-time password signs in, and buys only the way to replace it.
    let r = app
        .post(
            "/api/auth/login",
            json!({"username": "mia", "password": one_time}),
            &Caller::default(),
        )
        .await;
    let cookie = common::session_cookie(&r.headers);
    let body = r.expect(200);
    assert_eq!(body["must_change_password"], true);
    let fresh = Caller {
        cookie: Some(cookie),
        csrf: body["csrf_token"].as_str().map(str::to_owned),
        username: "mia".into(),
        id: member.id.clone(),
        ..Caller::default()
    };
    let me = app.get("/api/auth/whoami", &fresh).await.expect(200);
    assert_eq!(me["must_change_password"], true);
    assert!(me["mfa_verified_at"].is_null(), "{me}");
    for caller in [&fresh, &member_token] {
        app.get("/api/work-sessions", caller)
            .await
            .expect_error(403, "password_change_required");
        app.get("/api/servers", caller)
            .await
            .expect_error(403, "password_change_required");
    }
    // The change is checked as ever: a short new password is a field error.
    let err = app
        .post(
            "/api/auth/password",
            json!({"current": one_time, "new": "short"}),
            &fresh,
        )
        .await
        .expect_error(400, "validation_error");
    assert_eq!(err["fields"][0]["field"], "new");
    // Keeping the one-time password is no change.
    let err = app
        .post(
            "/api/auth/password",
            json!({"current": one_time, "new": one_time}),
            &fresh,
        )
        .await
        .expect_error(400, "validation_error");
    assert_eq!(err["fields"][0]["field"], "new");
    app.get("/api/work-sessions", &fresh)
        .await
        .expect_error(403, "password_change_required");
    app.post(
        "/api/auth/password",
        json!({"current": one_time, "new": "mia's own new passphrase"}),
        &fresh,
    )
    .await
    .expect(204);
    let me = app.get("/api/auth/whoami", &fresh).await.expect(200);
    assert_eq!(me["must_change_password"], false);
    app.get("/api/work-sessions", &fresh).await.expect(200);
    app.get("/api/work-sessions", &member_token)
        .await
        .expect(200);
    // The one-time password is spent: it no longer signs in.
    app.post(
        "/api/auth/login",
        json!({"username": "mia", "password": one_time}),
        &Caller::default(),
    )
    .await
    .expect_error(401, "unauthenticated");

    let audit = audit_of(&app, &root, "user.password_reset").await;
    assert_eq!(audit["total"], 1);
    assert_eq!(audit["items"][0]["actor"], "sam");
    assert_eq!(audit["items"][0]["target"], "mia");
    assert_eq!(audit["items"][0]["details"]["signins_ended"], 2);
    assert!(!audit_text(&app, &root).await.contains(&one_time));
}

#[tokio::test]
async fn an_mfa_reset_removes_totp_and_recovery_codes_and_ends_sign_ins() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let member = app.user(&root, "mia", "member").await;
    enrol(&app, &member).await;
    let codes = app
        .call("POST", "/api/auth/mfa/recovery-codes", None, &member)
        .await
        .expect(200);
    let code = codes["codes"][0].as_str().unwrap().to_owned();
    enrol(&app, &root).await;

    let done = app
        .post(&reset_path(&member, "mfa-reset"), json!({}), &root)
        .await
        .expect(200);
    assert_eq!(done["user"]["mfa_enabled"], false);
    assert_eq!(done["signins_ended"], 1);
    app.get("/api/auth/whoami", &member)
        .await
        .expect_error(401, "unauthenticated");
    // The password alone signs in now; the recovery codes went with the TOTP.
    let again = app.login("mia").await;
    let left: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?")
        .bind(&member.id)
        .fetch_one(&app.raw)
        .await
        .unwrap();
    assert_eq!(left.0, 0);
    app.post("/api/auth/mfa/verify", json!({"otp": code}), &again)
        .await
        .expect_error(403, "mfa_enrolment_required");
    // Nothing left to reset.
    app.post(&reset_path(&member, "mfa-reset"), json!({}), &root)
        .await
        .expect_error(409, "conflict");
    let audit = audit_of(&app, &root, "user.mfa_reset").await;
    assert_eq!(audit["total"], 1);
    assert_eq!(audit["items"][0]["actor"], "root");
    assert_eq!(audit["items"][0]["target"], "mia");
}

#[tokio::test]
async fn verify_refreshes_the_sign_in_and_recovery_codes_work_once() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let member = app.user(&root, "mia", "member").await;
    let token = app.token(&root, "ci").await;

    // Without TOTP there is nothing to verify with; a token has no sign-in to refresh.
    app.post("/api/auth/mfa/verify", json!({"otp": "123456"}), &member)
        .await
        .expect_error(403, "mfa_enrolment_required");
    app.call("POST", "/api/auth/mfa/recovery-codes", None, &member)
        .await
        .expect_error(403, "mfa_enrolment_required");
    app.post("/api/auth/mfa/verify", json!({"otp": "123456"}), &token)
        .await
        .expect_error(403, "forbidden");
    app.call("POST", "/api/auth/mfa/recovery-codes", None, &token)
        .await
        .expect_error(403, "forbidden");
    // Malformed bodies are the envelope.
    app.post("/api/auth/mfa/verify", json!({"code": "123456"}), &member)
        .await
        .expect_error(400, "validation_error");
    app.call_raw(
        "POST",
        "/api/auth/mfa/verify",
        Some("{".into()),
        &member,
        &[],
    )
    .await
    .expect_error(400, "bad_request");
    let me = app.get("/api/auth/whoami", &member).await.expect(200);
    assert!(me["mfa_verified_at"].is_null(), "{me}");

    let secret = enrol(&app, &root).await;
    let me = app.get("/api/auth/whoami", &root).await.expect(200);
    assert!(me["mfa_verified_at"].is_string(), "{me}");

    let first = app
        .call("POST", "/api/auth/mfa/recovery-codes", None, &root)
        .await
        .expect(200);
    let old_code = first["codes"][0].as_str().unwrap().to_owned();
    // A new set replaces the old one.
    let set = app
        .call("POST", "/api/auth/mfa/recovery-codes", None, &root)
        .await
        .expect(200);
    let codes: Vec<String> = set["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 10);

    // A recovery code signs in in place of a one-time code, and counts as verified then.
    let anon = Caller::default();
    let r = app
        .post(
            "/api/auth/login",
            json!({"username": "root", "password": PASSWORD, "otp": codes[0]}),
            &anon,
        )
        .await;
    let cookie = common::session_cookie(&r.headers);
    let body = r.expect(200);
    let by_code = Caller {
        cookie: Some(cookie),
        csrf: body["csrf_token"].as_str().map(str::to_owned),
        username: "root".into(),
        id: root.id.clone(),
        ..Caller::default()
    };
    let me = app.get("/api/auth/whoami", &by_code).await.expect(200);
    assert!(me["mfa_verified_at"].is_string(), "{me}");
    // ... once: at sign-in and at verify alike.
    app.post(
        "/api/auth/login",
        json!({"username": "root", "password": PASSWORD, "otp": codes[0]}),
        &anon,
    )
    .await
    .expect_error(401, "unauthenticated");
    app.post("/api/auth/mfa/verify", json!({"otp": codes[0]}), &root)
        .await
        .expect_error(400, "validation_error");
    // The replaced set's codes never work.
    app.post("/api/auth/mfa/verify", json!({"otp": old_code}), &root)
        .await
        .expect_error(400, "validation_error");
    // Another code verifies (typed without its dashes), once.
    let typed = codes[1].replace('-', "");
    let verified = app
        .post("/api/auth/mfa/verify", json!({"otp": typed}), &root)
        .await
        .expect(200);
    assert_eq!(verified["recovery_codes_left"], 8);
    app.post("/api/auth/mfa/verify", json!({"otp": codes[1]}), &root)
        .await
        .expect_error(400, "validation_error");
    // Stored hashed: no stored value is a code, and the audit log never holds one.
    let stored: Vec<(String,)> = sqlx::query_as("SELECT code_hash FROM recovery_codes")
        .fetch_all(&app.raw)
        .await
        .unwrap();
    assert_eq!(stored.len(), 10);
    let log = audit_text(&app, &root).await;
    for code in codes.iter().chain([&old_code]) {
        assert!(!stored.iter().any(|(h,)| h.contains(code.as_str())));
        assert!(
            !log.contains(code.as_str()),
            "a recovery code in the audit log"
        );
        assert!(!log.contains(&code.replace('-', "")));
    }
    assert!(!log.contains(&secret));
    assert_eq!(
        audit_of(&app, &root, "auth.mfa.recovery_codes_generated").await["total"],
        2
    );
    assert_eq!(
        audit_of(&app, &root, "auth.mfa.recovery_code_used").await["total"],
        2
    );
    let verified = audit_of(&app, &root, "auth.mfa.verified").await;
    assert!(verified["total"].as_i64().unwrap() >= 2, "{verified}");
}

/// Makes every audit append fail (a trigger on the real database), or mends it.
async fn set_audit_broken(app: &TestApp, broken: bool) {
    for sql in [
        "CREATE TABLE IF NOT EXISTS audit_fault (broken INTEGER NOT NULL)",
        "CREATE TRIGGER IF NOT EXISTS break_audit BEFORE INSERT ON audit_log \
         WHEN (SELECT broken FROM audit_fault) = 1 \
         BEGIN SELECT RAISE(ABORT, 'injected audit failure'); END",
        "DELETE FROM audit_fault",
    ] {
        sqlx::query(sql).execute(&app.raw).await.unwrap();
    }
    sqlx::query("INSERT INTO audit_fault (broken) VALUES (?)")
        .bind(broken)
        .execute(&app.raw)
        .await
        .unwrap();
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&app.raw).await.unwrap();
    n
}

#[tokio::test]
async fn a_failed_audit_append_rolls_back_resets_and_recovery_codes() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let member = app.user(&root, "mia", "member").await;
    enrol(&app, &member).await;
    enrol(&app, &root).await;
    let rows = count(&app, "SELECT COUNT(*) FROM audit_log").await;

    set_audit_broken(&app, true).await;
    app.post(&reset_path(&member, "password-reset"), json!({}), &root)
        .await
        .expect_error(500, "internal");
    app.post(&reset_path(&member, "mfa-reset"), json!({}), &root)
        .await
        .expect_error(500, "internal");
    app.call("POST", "/api/auth/mfa/recovery-codes", None, &root)
        .await
        .expect_error(500, "internal");
    set_audit_broken(&app, false).await;

    // Nothing changed: the sign-in lives, the password is not one-time, TOTP is there, no codes.
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_log").await, rows);
    let me = app.get("/api/auth/whoami", &member).await.expect(200);
    assert_eq!(me["must_change_password"], false);
    assert_eq!(me["user"]["mfa_enabled"], true);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM recovery_codes").await, 0);
    let verify = app.get("/api/audit/verify", &root).await.expect(200);
    assert_eq!(verify["ok"], true, "{verify}");
}

#[tokio::test]
async fn one_recovery_code_presented_twice_at_once_works_once() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    // A second sign-in of the same person, made before TOTP asks for a code.
    let other = app.login("root").await;
    enrol(&app, &root).await;
    let set = app
        .call("POST", "/api/auth/mfa/recovery-codes", None, &root)
        .await
        .expect(200);
    let code = set["codes"][0].as_str().unwrap().to_owned();
    let body = json!({"otp": code});
    let (a, b) = tokio::join!(
        app.post("/api/auth/mfa/verify", body.clone(), &root),
        app.post("/api/auth/mfa/verify", body.clone(), &other),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400]);
    assert_eq!(
        audit_of(&app, &root, "auth.mfa.recovery_code_used").await["total"],
        1
    );
}
