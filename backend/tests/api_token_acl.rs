//! Token ACLs through the API: who may grant (superusers signed in, never a token, never a
//! member or staff), what each kind of rule lets a token do, the bypass shapes a token might
//! try (each refused as `token_acl_denied` or a 400 naming the field, and audited), personal
//! tokens bounded by their owner, and service accounts.
//!
//! No agent runs here: an allowed operation passes the gate and then finds its server offline
//! (exec reports the run as not connected, files answer 409), which is how "allowed" shows.

mod common;

use common::{id, Caller, TestApp};
use serde_json::{json, Value};

async fn grant(app: &TestApp, root: &Caller, token: &str, kind: &str, body: Value) -> Value {
    app.post(&format!("/api/tokens/{token}/acl/{kind}"), body, root)
        .await
        .expect(201)
}

/// A token of `owner` and its id.
async fn token_of(app: &TestApp, owner: &Caller, name: &str) -> (Caller, String) {
    let created = app
        .post("/api/tokens", json!({"name": name}), owner)
        .await
        .expect(201);
    let caller = Caller {
        bearer: Some(created["token"].as_str().unwrap().to_owned()),
        ..Caller::default()
    };
    (caller, id(&created))
}

/// How many `action` events ended with `outcome`.
async fn outcomes(app: &TestApp, root: &Caller, action: &str, outcome: &str) -> usize {
    app.get(&format!("/api/audit?action={action}&limit=500"), root)
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == outcome)
        .count()
}

async fn denials(app: &TestApp, root: &Caller) -> i64 {
    app.get("/api/audit?action=gate.denied", root)
        .await
        .expect(200)["total"]
        .as_i64()
        .unwrap()
}

/// Runs `body` as an exec by `token`: `Ok(())` when the gate let it through (the run then
/// finds the server offline), else the error code, with one new audited denial checked.
async fn exec(app: &TestApp, root: &Caller, token: &Caller, body: Value) -> Result<(), String> {
    let before = denials(app, root).await;
    let answer = app.post("/api/exec?wait=true", body.clone(), token).await;
    match answer.status.as_u16() {
        201 => {
            let run = &answer.body["runs"][0];
            assert_eq!(run["status"], "error", "{body}: {run}");
            assert!(
                run["error"].as_str().unwrap().contains("not connected"),
                "{body}: {run}"
            );
            Ok(())
        }
        403 => {
            assert_eq!(
                denials(app, root).await,
                before + 1,
                "{body}: the denial is audited"
            );
            Err(answer.body["error_code"].as_str().unwrap().to_owned())
        }
        other => Err(format!("{other} {}", answer.body["error_code"])),
    }
}

#[tokio::test]
async fn only_an_interactive_superuser_grants_and_every_refusal_is_audited() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let staff = app.user(&root, "stan", "staff").await;
    let member = app.user(&root, "mia", "member").await;
    let (root_token, root_token_id) = token_of(&app, &root, "ci").await;
    let (_, mia_token_id) = token_of(&app, &member, "mine").await;

    // A token, even a superuser's, never changes ACLs: not its own, not another's.
    for target in [&root_token_id, &mia_token_id] {
        app.post(
            &format!("/api/tokens/{target}/acl/servers"),
            json!({"pattern": "*"}),
            &root_token,
        )
        .await
        .expect_error(403, "token_acl_denied");
    }
    // Members and staff are refused, even for their own tokens.
    for who in [&staff, &member] {
        app.post(
            &format!("/api/tokens/{mia_token_id}/acl/commands"),
            json!({"command": "*"}),
            who,
        )
        .await
        .expect_error(403, "forbidden");
    }
    assert_eq!(
        outcomes(&app, &root, "token.acl_granted", "denied").await,
        4
    );

    // A superuser grants; each grant is audited with the rule.
    let rule = grant(
        &app,
        &root,
        &mia_token_id,
        "servers",
        json!({"pattern": "web-*"}),
    )
    .await;
    assert_eq!(rule["pattern"], "web-*");
    let cmd = grant(
        &app,
        &root,
        &mia_token_id,
        "commands",
        json!({"command": "systemctl status nginx"}),
    )
    .await;
    assert_eq!(cmd["command"], "systemctl status nginx");
    assert_eq!(cmd["user"], Value::Null);
    let file = grant(
        &app,
        &root,
        &mia_token_id,
        "files",
        json!({"path": "/srv/app/**", "action": "download"}),
    )
    .await;
    assert_eq!(file["path"], "/srv/app/**");
    let tunnel = grant(&app, &root, &mia_token_id, "tunnels", json!({"port": 5432})).await;
    assert_eq!(tunnel["host"], "127.0.0.1");
    assert_eq!(
        outcomes(&app, &root, "token.acl_granted", "success").await,
        4
    );
    let granted = app
        .get(
            "/api/audit?action=token.acl_granted&order=newest&limit=4",
            &root,
        )
        .await
        .expect(200);
    assert_eq!(
        granted["items"][2]["details"]["rule"]["command"],
        "systemctl status nginx"
    );
    assert_eq!(granted["items"][2]["actor"], "root");

    // The owner reads the rules; another member does not even learn the token exists.
    let acl = app
        .get(&format!("/api/tokens/{mia_token_id}/acl"), &member)
        .await
        .expect(200);
    assert_eq!(acl["servers"].as_array().unwrap().len(), 1);
    assert_eq!(acl["commands"][0]["command"], "systemctl status nginx");
    let other = app.user(&root, "otto", "member").await;
    app.get(&format!("/api/tokens/{mia_token_id}/acl"), &other)
        .await
        .expect_error(404, "not_found");

    // Bad rules: 400 naming the field, audited as refused, nothing stored.
    for (kind, body, field) in [
        ("commands", json!({"command": "ls; rm -rf /"}), "command"),
        (
            "commands",
            json!({"command": "ls", "user": "bad name"}),
            "user",
        ),
        (
            "files",
            json!({"path": "/srv/../etc/**", "action": "any"}),
            "path",
        ),
        (
            "files",
            json!({"path": "/srv/./app/**", "action": "any"}),
            "path",
        ),
        (
            "files",
            json!({"path": "/srv//app/**", "action": "any"}),
            "path",
        ),
        (
            "files",
            json!({"path": "relative/x", "action": "any"}),
            "path",
        ),
        ("tunnels", json!({"port": 0}), "port"),
        ("servers", json!({"pattern": ""}), "pattern"),
    ] {
        let body = app
            .post(
                &format!("/api/tokens/{mia_token_id}/acl/{kind}"),
                body,
                &root,
            )
            .await
            .expect_error(400, "validation_error");
        assert!(
            body["message"].as_str().unwrap().starts_with(field),
            "{kind}: {body}"
        );
    }
    assert_eq!(
        outcomes(&app, &root, "token.acl_granted", "denied").await,
        12
    );
    let acl = app
        .get(&format!("/api/tokens/{mia_token_id}/acl"), &root)
        .await
        .expect(200);
    assert_eq!(acl["commands"].as_array().unwrap().len(), 1);

    // Removal: by superusers only, audited; an unknown rule is 404.
    let path = format!("/api/tokens/{mia_token_id}/acl/tunnels/{}", id(&tunnel));
    app.delete(&path, &member)
        .await
        .expect_error(403, "forbidden");
    app.delete(&path, &root).await.expect(204);
    app.delete(&path, &root)
        .await
        .expect_error(404, "not_found");
    assert_eq!(
        outcomes(&app, &root, "token.acl_removed", "success").await,
        1
    );
    assert_eq!(
        outcomes(&app, &root, "token.acl_removed", "denied").await,
        1
    );
    let _ = (rule, file, staff);
}

#[tokio::test]
async fn command_rules_match_argv_and_refuse_every_bypass_shape() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    app.server(&root, "web-01").await;
    app.server(&root, "db-01").await;
    let (token, token_id) = token_of(&app, &root, "deploy").await;
    grant(
        &app,
        &root,
        &token_id,
        "servers",
        json!({"pattern": "web-*"}),
    )
    .await;
    grant(
        &app,
        &root,
        &token_id,
        "commands",
        json!({"command": "systemctl status nginx"}),
    )
    .await;
    grant(
        &app,
        &root,
        &token_id,
        "commands",
        json!({"command": "journalctl -u *.service --no-pager"}),
    )
    .await;
    let ok = |argv: Value| json!({"servers": ["web-01"], "argv": argv});
    let line = |command: &str| json!({"servers": ["web-01"], "command": command});
    let denied = Err("token_acl_denied".to_owned());

    assert_eq!(
        exec(
            &app,
            &root,
            &token,
            ok(json!(["systemctl", "status", "nginx"]))
        )
        .await,
        Ok(())
    );
    assert_eq!(
        exec(&app, &root, &token, line("systemctl status nginx")).await,
        Ok(())
    );
    assert_eq!(
        exec(&app, &root, &token, line("systemctl 'status' \"nginx\"")).await,
        Ok(())
    );
    assert_eq!(
        exec(
            &app,
            &root,
            &token,
            ok(json!(["journalctl", "-u", "nginx.service", "--no-pager"]))
        )
        .await,
        Ok(())
    );

    for (what, body) in [
        (
            "a metacharacter in the line",
            line("systemctl status nginx; rm -rf /"),
        ),
        ("a pipe", line("systemctl status nginx | sh")),
        ("a substitution", line("systemctl status $(id)")),
        ("a backquote", line("systemctl status `id`")),
        ("a newline", line("systemctl status nginx\nreboot")),
        (
            "argv[0] spelled as a path",
            ok(json!(["/bin/systemctl", "status", "nginx"])),
        ),
        (
            "argv[0] in another case",
            ok(json!(["SYSTEMCTL", "status", "nginx"])),
        ),
        (
            "an extra argument",
            ok(json!(["systemctl", "status", "nginx", "--now"])),
        ),
        (
            "* spanning two arguments",
            ok(json!(["journalctl", "-u", "a", "b.service", "--no-pager"])),
        ),
        (
            "* spanning a space inside one argument is fine, but not a missing one",
            ok(json!(["journalctl", "-u", "--no-pager"])),
        ),
        (
            "a control character",
            ok(json!(["systemctl", "status", "ngi\u{1b}nx"])),
        ),
        (
            "another server",
            json!({"servers": ["db-01"], "argv": ["systemctl", "status", "nginx"]}),
        ),
    ] {
        assert_eq!(exec(&app, &root, &token, body).await, denied, "{what}");
    }
    // Root is never implied: not as root, 0 or #0, not even for an allowed argv.
    for user in ["root", "0", "#0"] {
        let body =
            json!({"servers": ["web-01"], "argv": ["systemctl", "status", "nginx"], "user": user});
        assert_eq!(exec(&app, &root, &token, body).await, denied, "user {user}");
    }
    // A token passes no environment; argv and command are exclusive.
    let body = app
        .post(
            "/api/exec",
            json!({"servers": ["web-01"], "argv": ["systemctl", "status", "nginx"], "env": {"LD_PRELOAD": "/x"}}),
            &token,
        )
        .await
        .expect_error(400, "validation_error");
    assert!(body["message"].as_str().unwrap().starts_with("env"));
    app.post(
        "/api/exec",
        json!({"servers": ["web-01"], "argv": ["true"], "command": "true"}),
        &token,
    )
    .await
    .expect_error(400, "validation_error");

    // A denial names the reason and the token's owner is the audit actor.
    let last = app
        .get("/api/audit?action=gate.denied&order=newest&limit=1", &root)
        .await
        .expect(200);
    assert_eq!(last["items"][0]["actor"], "root");
    assert_eq!(
        last["items"][0]["details"]["error_code"],
        "token_acl_denied"
    );

    // The explain box agrees with the gate.
    let test = |body: Value| {
        let app = &app;
        let root = &root;
        let path = format!("/api/tokens/{token_id}/acl/test");
        async move { app.post(&path, body, root).await.expect(200) }
    };
    let yes = test(
        json!({"scope": "command", "server": "web-01", "argv": ["systemctl", "status", "nginx"]}),
    )
    .await;
    assert_eq!(yes["allowed"], true, "{yes}");
    assert!(yes["rule"].is_string());
    let no = test(json!({"scope": "command", "server": "web-01", "command": "systemctl status nginx && reboot"})).await;
    assert_eq!(no["allowed"], false);
    assert!(no["reason"].as_str().unwrap().contains("shell"), "{no}");
    let no = test(json!({"server": "db-01", "argv": ["systemctl", "status", "nginx"]})).await;
    assert_eq!(no["allowed"], false);

    // Revoked, the token is no credential at all.
    app.delete(&format!("/api/tokens/{token_id}"), &root)
        .await
        .expect(204);
    app.post(
        "/api/exec",
        ok(json!(["systemctl", "status", "nginx"])),
        &token,
    )
    .await
    .expect_error(401, "unauthenticated");
}

#[tokio::test]
async fn file_rules_match_normalised_paths_and_their_action() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    app.server(&root, "web-01").await;
    let (token, token_id) = token_of(&app, &root, "logs").await;
    grant(
        &app,
        &root,
        &token_id,
        "servers",
        json!({"pattern": "web-01"}),
    )
    .await;
    grant(
        &app,
        &root,
        &token_id,
        "files",
        json!({"path": "/srv/app/**", "action": "download"}),
    )
    .await;
    grant(
        &app,
        &root,
        &token_id,
        "files",
        json!({"path": "/srv/drop/*", "action": "upload"}),
    )
    .await;
    // Allowed: the gate passes, then the offline server answers 409. A path is normalised
    // once before it is matched, so `.` and `//` spellings of a path inside stay inside.
    for path in [
        "/api/files/web-01/list?path=/srv/app/./logs",
        "/api/files/web-01/list?path=/srv//app/logs/",
        "/api/files/web-01/list?path=/srv/app",
        "/api/files/web-01/list?path=/srv/app/logs",
        "/api/files/web-01/content?path=/srv/app/logs/today.log",
    ] {
        app.get(path, &token).await.expect_error(409, "conflict");
    }
    app.post(
        "/api/files/web-01/delete",
        json!({"path": "/srv/drop/x"}),
        &token,
    )
    .await
    .expect_error(409, "conflict");
    // Refused, each audited.
    let before = denials(&app, &root).await;
    // Dot segments never reach the gate: the path is refused as a bad field first.
    for path in [
        "/api/files/web-01/list?path=/srv/app/../../etc",
        "/api/files/web-01/content?path=/srv/app/logs/../../../etc/shadow",
    ] {
        let body = app
            .get(path, &token)
            .await
            .expect_error(400, "validation_error");
        assert!(
            body["message"].as_str().unwrap().starts_with("path"),
            "{body}"
        );
    }
    let refused = [
        "/api/files/web-01/content?path=/etc/shadow",
        "/api/files/web-01/content?path=/srv/application",
        "/api/files/web-01/list?path=/srv/drop",
    ];
    for path in refused {
        app.get(path, &token)
            .await
            .expect_error(403, "token_acl_denied");
    }
    // Download-only is not upload; a rename needs both ends allowed.
    app.post(
        "/api/files/web-01/mkdir",
        json!({"path": "/srv/app/new"}),
        &token,
    )
    .await
    .expect_error(403, "token_acl_denied");
    app.post(
        "/api/files/web-01/rename",
        json!({"from": "/srv/drop/a", "to": "/tmp/a"}),
        &token,
    )
    .await
    .expect_error(403, "token_acl_denied");
    app.post(
        "/api/files/web-01/delete",
        json!({"path": "/srv/drop/sub/x"}),
        &token,
    )
    .await
    .expect_error(403, "token_acl_denied");
    assert_eq!(
        denials(&app, &root).await,
        before + refused.len() as i64 + 3
    );
}

#[tokio::test]
async fn a_personal_token_never_exceeds_its_owner_and_dies_with_them() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    app.server(&root, "web-01").await;
    app.server(&root, "db-01").await;
    let member = app.user(&root, "mia", "member").await;
    app.grant(&root, "web", "web-*", &["mia"]).await;
    let (token, token_id) = token_of(&app, &member, "mine").await;
    grant(&app, &root, &token_id, "servers", json!({"pattern": "*"})).await;
    grant(
        &app,
        &root,
        &token_id,
        "commands",
        json!({"command": "uptime"}),
    )
    .await;
    let run = |server: &str| json!({"servers": [server], "argv": ["uptime"]});
    assert_eq!(exec(&app, &root, &token, run("web-01")).await, Ok(()));
    // The superuser's rule says every server, but mia has no grant on db-01.
    assert_eq!(
        exec(&app, &root, &token, run("db-01")).await,
        Err("token_acl_denied".into())
    );
    let explained = app
        .post(
            &format!("/api/tokens/{token_id}/acl/test"),
            json!({"server": "db-01", "argv": ["uptime"]}),
            &member,
        )
        .await
        .expect(200);
    assert!(
        explained["reason"].as_str().unwrap().contains("owner"),
        "{explained}"
    );
    // Disabling the owner stops the token at once.
    app.call(
        "PATCH",
        &format!("/api/users/{}", member.id),
        Some(json!({"disabled": true})),
        &root,
    )
    .await
    .expect(200);
    app.post("/api/exec", run("web-01"), &token)
        .await
        .expect_error(401, "unauthenticated");
}

#[tokio::test]
async fn service_accounts_act_only_through_their_own_tokens() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    app.server(&root, "web-01").await;
    let staff = app.user(&root, "stan", "staff").await;
    app.post("/api/service-accounts", json!({"name": "deployer"}), &staff)
        .await
        .expect_error(403, "forbidden");
    let account = app
        .post(
            "/api/service-accounts",
            json!({"name": "deployer", "description": "CI deploys"}),
            &root,
        )
        .await
        .expect(201);
    assert_eq!(account["username"], "svc:deployer");
    app.post("/api/service-accounts", json!({"name": "deployer"}), &root)
        .await
        .expect_error(409, "conflict");
    app.post("/api/service-accounts", json!({"name": "bad name"}), &root)
        .await
        .expect_error(400, "validation_error");
    // Listed as a service account, not among people; no password ever signs it in.
    let listed = app.get("/api/service-accounts", &root).await.expect(200);
    assert_eq!(listed["items"][0]["name"], "deployer");
    let people = app.get("/api/users", &root).await.expect(200);
    assert!(!people.to_string().contains("svc:deployer"));
    app.post(
        "/api/auth/login",
        json!({"username": "svc:deployer", "password": "!service-account"}),
        &Caller::default(),
    )
    .await
    .expect_error(401, "unauthenticated");

    let issued = app
        .post(
            &format!("/api/service-accounts/{}/tokens", id(&account)),
            json!({"name": "pipeline"}),
            &root,
        )
        .await
        .expect(201);
    let secret = issued["token"].as_str().unwrap();
    assert!(secret.starts_with("ghst_"), "{secret}");
    let token = Caller {
        bearer: Some(secret.to_owned()),
        ..Caller::default()
    };
    // Deny by default, then exactly its rules; the audit log names it as a service account.
    let run = json!({"servers": ["web-01"], "argv": ["uptime"]});
    assert_eq!(
        exec(&app, &root, &token, run.clone()).await,
        Err("token_acl_denied".into())
    );
    let token_id = id(&issued);
    grant(
        &app,
        &root,
        &token_id,
        "servers",
        json!({"pattern": "web-01"}),
    )
    .await;
    grant(
        &app,
        &root,
        &token_id,
        "commands",
        json!({"command": "uptime"}),
    )
    .await;
    assert_eq!(exec(&app, &root, &token, run).await, Ok(()));
    let started = app
        .get("/api/audit?action=exec.started", &root)
        .await
        .expect(200);
    assert_eq!(started["items"][0]["actor"], "svc:deployer");
    // It cannot mint tokens or change ACLs.
    app.post("/api/tokens", json!({"name": "more"}), &token)
        .await
        .expect_error(403, "forbidden");
    app.post(
        &format!("/api/tokens/{token_id}/acl/commands"),
        json!({"command": "*"}),
        &token,
    )
    .await
    .expect_error(403, "token_acl_denied");
    // A superuser sees every token with its owner, and revokes the service account's.
    let all = app.get("/api/tokens?all=true", &root).await.expect(200);
    assert_eq!(all["items"][0]["service_account"], true);
    app.get("/api/tokens?all=true", &staff)
        .await
        .expect_error(403, "forbidden");
    app.delete(&format!("/api/tokens/{token_id}"), &root)
        .await
        .expect(204);
    app.post(
        "/api/exec",
        json!({"servers": ["web-01"], "argv": ["uptime"]}),
        &token,
    )
    .await
    .expect_error(401, "unauthenticated");
}

#[tokio::test]
async fn the_explain_endpoint_decides_every_kind_as_the_gate_does() {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    app.server(&root, "web-01").await;
    let member = app.user(&root, "mia", "member").await;
    let (_, token_id) = token_of(&app, &root, "kinds").await;
    let test = |body: Value, who: &Caller| {
        let app = &app;
        let who = who.clone();
        let path = format!("/api/tokens/{token_id}/acl/test");
        async move { app.post(&path, body, &who).await }
    };
    // Nothing granted: every kind is denied, for want of a server rule first.
    let denied = test(
        json!({"scope": "tunnel", "server": "web-01", "port": 5432}),
        &root,
    )
    .await
    .expect(200);
    assert_eq!(denied["allowed"], false);
    assert!(
        denied["reason"].as_str().unwrap().contains("server rule"),
        "{denied}"
    );

    grant(
        &app,
        &root,
        &token_id,
        "servers",
        json!({"pattern": "web-01"}),
    )
    .await;
    let tunnel = grant(&app, &root, &token_id, "tunnels", json!({"port": 5432})).await;
    grant(
        &app,
        &root,
        &token_id,
        "commands",
        json!({"command": "*", "user": "deploy"}),
    )
    .await;
    for (body, allowed) in [
        (
            json!({"scope": "tunnel", "server": "web-01", "port": 5432}),
            true,
        ),
        (
            json!({"scope": "tunnel", "server": "web-01", "port": 5433}),
            false,
        ),
        (
            json!({"scope": "tunnel", "server": "web-01", "port": 5432, "host": "10.0.0.5"}),
            false,
        ),
        // A lone `*` for `deploy` opens a terminal as deploy, and nothing as anyone else.
        (
            json!({"scope": "websh", "server": "web-01", "user": "deploy"}),
            true,
        ),
        (
            json!({"scope": "websh", "server": "web-01", "user": "root"}),
            false,
        ),
        (json!({"scope": "websh", "server": "web-01"}), false),
        // No file rule at all: files are denied whatever the path.
        (
            json!({"scope": "webftp", "server": "web-01", "path": "/tmp", "action": "download"}),
            false,
        ),
    ] {
        let decision = test(body.clone(), &root).await.expect(200);
        assert_eq!(decision["allowed"], allowed, "{body}: {decision}");
    }
    let decision = test(
        json!({"scope": "tunnel", "server": "web-01", "port": 5432}),
        &root,
    )
    .await
    .expect(200);
    assert_eq!(decision["rule"], tunnel["id"]);
    // Someone who neither owns the token nor is a superuser learns nothing; bad input is a 400.
    test(json!({"server": "web-01"}), &member)
        .await
        .expect_error(404, "not_found");
    test(json!({"server": ""}), &root)
        .await
        .expect_error(400, "validation_error");
    test(json!({"server": "web-01", "bogus": 1}), &root)
        .await
        .expect_error(400, "validation_error");
}
