//! People's own server accounts and shared run-as accounts through the API: derivation (never
//! root or a system account, never two people on one account by accident), changing one
//! (staff, audited, validated), group grants and removals, the console's choices, and bad input.

mod common;

use common::{id, TestApp};
use serde_json::{json, Value};

async fn create(app: &TestApp, admin: &common::Caller, body: Value) -> Value {
    app.post("/api/users", body, admin).await.expect(201)
}

#[tokio::test]
async fn own_accounts_are_derived_unique_and_never_system_accounts() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    // The first superuser called `root` is not uid 0 on servers.
    let me = app.get("/api/auth/whoami", &root).await.expect(200);
    let users = app.get("/api/users", &root).await.expect(200);
    let first = &users["items"][0];
    assert_eq!(first["username"], "root", "{me}");
    assert_eq!(first["unix_user"], "gh-root");

    let pw = common::PASSWORD;
    let a = create(
        &app,
        &root,
        json!({"username": "Ann.Lee", "password": pw, "role": "member"}),
    )
    .await;
    let b = create(
        &app,
        &root,
        json!({"username": "ann_lee", "password": pw, "role": "member"}),
    )
    .await;
    let c = create(
        &app,
        &root,
        json!({"username": "ann@lee", "password": pw, "role": "member"}),
    )
    .await;
    assert_eq!(a["unix_user"], "ann_lee");
    assert_eq!(
        b["unix_user"], "ann_lee2",
        "two people never share a derived account"
    );
    assert_eq!(c["unix_user"], "ann_lee3");
    // Staff may name it at creation.
    let d = create(
        &app,
        &root,
        json!({"username": "dev", "password": pw, "role": "member", "unix_user": "devops"}),
    )
    .await;
    assert_eq!(d["unix_user"], "devops");
}

#[tokio::test]
async fn staff_change_an_account_validated_and_audited() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let member = app.user(&root, "mia", "member").await;
    let staff = app.user(&root, "sam", "staff").await;
    let mia = member.id.clone();

    let path = format!("/api/users/{mia}");
    for (bad, why) in [
        ("root", "system account"),
        ("www-data", "system account"),
        ("Mia", "lowercase"),
        ("1mia", "lowercase letter"),
        ("mia smith", "lowercase"),
        (&*"m".repeat(33), "1-32"),
    ] {
        let body = app
            .call("PATCH", &path, Some(json!({"unix_user": bad})), &staff)
            .await
            .expect_error(400, "validation_error");
        assert!(
            body["message"].as_str().unwrap().contains(why),
            "{bad}: {body}"
        );
    }
    // Unknown fields, malformed JSON, an unknown id: the envelope, nothing changed.
    app.call("PATCH", &path, Some(json!({"shell": "/bin/zsh"})), &staff)
        .await
        .expect_error(400, "validation_error");
    app.call_raw("PATCH", &path, Some("{".into()), &staff, &[])
        .await
        .expect_error(400, "bad_request");
    app.call(
        "PATCH",
        "/api/users/00000000-0000-4000-8000-000000000000",
        Some(json!({"unix_user": "x"})),
        &staff,
    )
    .await
    .expect_error(404, "not_found");
    // A member may not; staff may not change a staff member's account (a superuser may).
    app.call("PATCH", &path, Some(json!({"unix_user": "mia2"})), &member)
        .await
        .expect_error(403, "forbidden");
    app.call(
        "PATCH",
        &format!("/api/users/{}", staff.id),
        Some(json!({"unix_user": "sammy"})),
        &staff,
    )
    .await
    .expect_error(403, "forbidden");

    let changed = app
        .call(
            "PATCH",
            &path,
            Some(json!({"unix_user": "mia_ops"})),
            &staff,
        )
        .await
        .expect(200);
    assert_eq!(changed["unix_user"], "mia_ops");
    let audit = app
        .get("/api/audit?action=user.updated&limit=10", &root)
        .await
        .expect(200);
    assert_eq!(audit["total"], 1, "{audit}");
    let event = &audit["items"][0];
    assert_eq!(event["actor"], "sam");
    assert_eq!(event["target"], "mia");
    assert_eq!(event["details"]["unix_user"]["from"], "mia");
    assert_eq!(event["details"]["unix_user"]["to"], "mia_ops");
}

#[tokio::test]
async fn groups_grant_shared_accounts_and_the_console_sees_them() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let member = app.user(&root, "max", "member").await;
    app.server(&root, "web-01").await;
    app.server(&root, "db-01").await;
    app.grant(&root, "web", "*-01", &["max"]).await;
    let groups = app.get("/api/groups", &root).await.expect(200);
    let gid = id(&groups["items"][0]);
    let path = format!("/api/groups/{gid}/run-as");

    for bad in [
        json!({"account": "root"}),
        json!({"account": "Deploy"}),
        json!({"account": "deploy", "pattern": "web 01"}),
        json!({"account": ""}),
    ] {
        app.post(&path, bad.clone(), &root)
            .await
            .expect_error(400, "validation_error");
    }
    app.post(&path, json!({"account": "deploy"}), &member)
        .await
        .expect_error(403, "forbidden");
    app.post(
        "/api/groups/00000000-0000-4000-8000-000000000000/run-as",
        json!({"account": "deploy"}),
        &root,
    )
    .await
    .expect_error(404, "not_found");

    let group = app
        .post(
            &path,
            json!({"account": "deploy", "pattern": "web-*"}),
            &root,
        )
        .await
        .expect(200);
    assert_eq!(
        group["run_as"],
        json!([{"account": "deploy", "pattern": "web-*"}])
    );
    // Granting it again changes nothing and audits once per request that changed something.
    app.post(
        &path,
        json!({"account": "deploy", "pattern": "web-*"}),
        &root,
    )
    .await
    .expect(200);

    // The console's choices: own account and the grants of that server only. No agent is
    // connected, so it is treated as a root agent (the gate still decides at open).
    let web = app.get("/api/run-as/web-01", &member).await.expect(200);
    assert_eq!(
        web,
        json!({"own": "max", "granted": ["deploy"], "agent_is_root": true})
    );
    let db = app.get("/api/run-as/db-01", &member).await.expect(200);
    assert_eq!(db["granted"], json!([]));
    // A server the member may not see is not found, as if it did not exist.
    app.server(&root, "vault").await;
    app.get("/api/run-as/vault", &member)
        .await
        .expect_error(404, "not_found");
    app.get("/api/run-as/nope", &member)
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn staff_remove_members_patterns_and_whole_groups() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let member = app.user(&root, "max", "member").await;
    app.server(&root, "web-01").await;
    app.grant(&root, "web", "web-*", &["max"]).await;
    let groups = app.get("/api/groups", &root).await.expect(200);
    let gid = id(&groups["items"][0]);
    let servers = app.get("/api/servers", &member).await.expect(200);
    assert_eq!(servers["total"], 1, "the group grants web-01");

    // Bad and foreign input first: the envelope, nothing removed.
    app.delete(&format!("/api/groups/{gid}/members/max"), &member)
        .await
        .expect_error(403, "forbidden");
    app.delete(&format!("/api/groups/{gid}/members/nobody"), &root)
        .await
        .expect_error(404, "not_found");
    app.delete(&format!("/api/groups/{gid}/servers/db-%2A"), &root)
        .await
        .expect_error(404, "not_found");
    app.delete("/api/groups/00000000-0000-4000-8000-000000000000", &root)
        .await
        .expect_error(404, "not_found");

    // The pattern, URL-encoded, names itself.
    let group = app
        .delete(&format!("/api/groups/{gid}/servers/web-%2A"), &root)
        .await
        .expect(200);
    assert_eq!(group["server_patterns"], json!([]));
    let servers = app.get("/api/servers", &member).await.expect(200);
    assert_eq!(servers["total"], 0, "the grant is gone at once");
    let group = app
        .delete(&format!("/api/groups/{gid}/members/max"), &root)
        .await
        .expect(200);
    assert_eq!(group["members"], json!([]));
    app.call("DELETE", &format!("/api/groups/{gid}"), None, &root)
        .await
        .expect(204);
    app.call("DELETE", &format!("/api/groups/{gid}"), None, &root)
        .await
        .expect_error(404, "not_found");
    let actions = app.audit_actions(&root).await;
    for action in [
        "group.servers_revoked",
        "group.member_removed",
        "group.deleted",
    ] {
        assert_eq!(
            actions.iter().filter(|a| *a == action).count(),
            1,
            "{action}: {actions:?}"
        );
    }
}

#[tokio::test]
async fn staff_name_the_groups_created_accounts_join_and_administrative_ones_are_refused() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let staff = app.user(&root, "stu", "staff").await;
    let mia = app.user(&root, "mia", "member").await;
    let server = app.server(&root, "web-01").await;
    let path = format!("/api/servers/{}", id(&server));
    assert_eq!(server["provision_groups"], json!([]));
    app.call(
        "PATCH",
        &path,
        Some(json!({"provision_groups": ["developers"]})),
        &mia,
    )
    .await
    .expect_error(403, "forbidden");
    for bad in [
        json!(["sudo"]),
        json!(["docker"]),
        json!(["Bad Name"]),
        json!(["a;b"]),
    ] {
        let err = app
            .call(
                "PATCH",
                &path,
                Some(json!({"provision_groups": bad})),
                &staff,
            )
            .await
            .expect_error(400, "validation_error");
        assert_eq!(err["fields"][0]["field"], "provision_groups", "{err}");
    }
    let many: Vec<String> = (0..33).map(|i| format!("g{i}")).collect();
    app.call(
        "PATCH",
        &path,
        Some(json!({"provision_groups": many})),
        &staff,
    )
    .await
    .expect_error(400, "validation_error");
    app.call(
        "PATCH",
        &path,
        Some(json!({"provision_groups": ["developers"], "tags": []})),
        &staff,
    )
    .await
    .expect_error(400, "validation_error");
    app.call(
        "PATCH",
        "/api/servers/00000000-0000-4000-8000-000000000000",
        Some(json!({"provision_groups": []})),
        &staff,
    )
    .await
    .expect_error(404, "not_found");
    // Nothing refused was written.
    let unchanged = app.get(&path, &root).await.expect(200);
    assert_eq!(unchanged["provision_groups"], json!([]));

    let changed = app
        .call(
            "PATCH",
            &path,
            Some(json!({"provision_groups": [" developers", "developers", "ops-readers"]})),
            &staff,
        )
        .await
        .expect(200);
    assert_eq!(
        changed["provision_groups"],
        json!(["developers", "ops-readers"])
    );
    // The same list again changes nothing and records nothing.
    app.call(
        "PATCH",
        &path,
        Some(json!({"provision_groups": ["developers", "ops-readers"]})),
        &staff,
    )
    .await
    .expect(200);
    let events = app
        .get("/api/audit?action=server.updated", &root)
        .await
        .expect(200);
    assert_eq!(events["items"].as_array().unwrap().len(), 1, "{events}");
    assert_eq!(events["items"][0]["actor"], "stu");
    assert_eq!(
        events["items"][0]["details"]["provision_groups"],
        json!({"from": [], "to": ["developers", "ops-readers"]})
    );
}
