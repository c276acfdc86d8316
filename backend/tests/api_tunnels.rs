//! Tunnels through the API: the gate (scope `tunnel`), the session's declared `tunnel_ports`,
//! the server entry's `tunnel_allow` (default `127.0.0.1:*`, staff-editable, every rule
//! checked), token ACLs, and bad input answered with the envelope with nothing written. A
//! tunnel's owner sees and ends it; another member finds nothing (404); staff see all.
//! (The agent's own `--tunnel-allow` and the stream itself are proved end to end.)

mod common;

use common::{id, Caller, TestApp};
use gatehouse::core::gateway::tunnel::LiveTunnel;
use gatehouse_shared::{ServerId, UserId, UserRef};
use serde_json::{json, Value};
use uuid::Uuid;

/// `root`, a server web-01 (no agent), member `mia` granted it; web-01's id.
async fn setup() -> (TestApp, Caller, Caller, String) {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let server = app.server(&root, "web-01").await;
    let mia = app.user(&root, "mia", "member").await;
    app.grant(&root, "ops", "web-*", &["mia"]).await;
    (app, root, mia, id(&server))
}

/// An approved, active session of `who` with `scopes` and `tunnel_ports`, in use.
async fn session(app: &TestApp, root: &Caller, who: &Caller, scopes: &[&str], ports: &[u16]) {
    let extra = json!({"tunnel_ports": ports});
    common::elevation::session_with(app, root, who, scopes, extra).await;
}

async fn open(app: &TestApp, who: &Caller, body: Value) -> common::Response {
    app.post("/api/tunnels", body, who).await
}

#[tokio::test]
async fn the_gate_then_the_declared_ports_then_the_server_entry_decide() {
    let (app, root, mia, server) = setup().await;
    let to = |port: u16| json!({"server": "web-01", "remote_port": port});
    open(&app, &mia, to(5432))
        .await
        .expect_error(403, "work_session_required");
    session(&app, &root, &mia, &["command"], &[]).await;
    open(&app, &mia, to(5432))
        .await
        .expect_error(403, "work_session_scope_not_allowed");

    session(&app, &root, &mia, &["tunnel"], &[5432]).await;
    let refused = open(&app, &mia, to(5433))
        .await
        .expect_error(403, "tunnel_not_allowed");
    assert!(
        refused["reason"].as_str().unwrap().contains("5432"),
        "{refused}"
    );
    assert!(refused["next_actions"][0]
        .as_str()
        .unwrap()
        .contains("--tunnel-port 5433"));
    // Allowed by every policy the gateway holds; refused only because no agent is connected.
    open(&app, &mia, to(5432))
        .await
        .expect_error(409, "conflict");

    // Another host on the server's network: only once staff list it.
    let far = json!({"server": "web-01", "remote_port": 5432, "remote_host": "10.0.0.5"});
    let refused = open(&app, &mia, far.clone())
        .await
        .expect_error(403, "tunnel_not_allowed");
    assert!(refused["reason"].as_str().unwrap().contains("tunnel_allow"));
    let patch = json!({"tunnel_allow": ["127.0.0.1:*", "10.0.0.5:5432"]});
    app.call(
        "PATCH",
        &format!("/api/servers/{server}"),
        Some(patch.clone()),
        &mia,
    )
    .await
    .expect_error(403, "forbidden");
    let updated = app
        .call(
            "PATCH",
            &format!("/api/servers/{server}"),
            Some(patch),
            &root,
        )
        .await
        .expect(200);
    assert_eq!(
        updated["tunnel_allow"],
        json!(["127.0.0.1:*", "10.0.0.5:5432"])
    );
    open(&app, &mia, far).await.expect_error(409, "conflict");

    // Each refusal is a gate denial in the log.
    let actions = app.audit_actions(&root).await;
    let denied = actions.iter().filter(|a| *a == "gate.denied").count();
    assert_eq!(denied, 4, "{actions:?}");
    assert!(actions.iter().any(|a| a == "server.updated"));
}

#[tokio::test]
async fn tokens_need_a_tunnel_rule() {
    let (app, root, _, _) = setup().await;
    let created = app
        .post("/api/tokens", json!({"name": "ci"}), &root)
        .await
        .expect(201);
    let token_id = id(&created);
    let ci = Caller {
        bearer: Some(created["token"].as_str().unwrap().to_owned()),
        ..Caller::default()
    };
    let to = json!({"server": "web-01", "remote_port": 5432});
    app.post(
        &format!("/api/tokens/{token_id}/acl/servers"),
        json!({"pattern": "web-*"}),
        &root,
    )
    .await
    .expect(201);
    open(&app, &ci, to.clone())
        .await
        .expect_error(403, "token_acl_denied");
    app.post(
        &format!("/api/tokens/{token_id}/acl/tunnels"),
        json!({"port": 5432}),
        &root,
    )
    .await
    .expect(201);
    open(&app, &ci, to).await.expect_error(409, "conflict");
    open(&app, &ci, json!({"server": "web-01", "remote_port": 22}))
        .await
        .expect_error(403, "token_acl_denied");
}

#[tokio::test]
async fn bad_input_gets_the_envelope_and_writes_nothing() {
    let (app, root, mia, server) = setup().await;
    session(&app, &root, &mia, &["tunnel"], &[]).await;
    let cases: [(&str, &str); 6] = [
        ("{\"server\": ", "bad_request"),
        ("{\"server\": \"web-01\"}", "validation_error"),
        (
            "{\"server\": \"web-01\", \"remote_port\": 0}",
            "validation_error",
        ),
        (
            "{\"server\": \"web-01\", \"remote_port\": 70000}",
            "validation_error",
        ),
        (
            "{\"server\": \"web-01\", \"remote_port\": 80, \"x\": 1}",
            "validation_error",
        ),
        (
            "{\"server\": \"web-01\", \"remote_port\": 80, \"remote_host\": \"a b\"}",
            "validation_error",
        ),
    ];
    for (body, code) in cases {
        app.call_raw("POST", "/api/tunnels", Some(body.into()), &mia, &[])
            .await
            .expect_error(400, code);
    }
    let unknown = Uuid::new_v4();
    app.get(&format!("/api/tunnels/{unknown}"), &mia)
        .await
        .expect_error(404, "not_found");
    app.delete(&format!("/api/tunnels/{unknown}"), &mia)
        .await
        .expect_error(404, "not_found");
    app.get("/api/tunnels/not-an-id", &mia)
        .await
        .expect_error(404, "not_found");
    app.get(&format!("/ws/tunnels/{unknown}"), &mia)
        .await
        .expect_error(400, "bad_request");

    for bad in [
        json!(["*:*"]),
        json!(["db"]),
        json!(["h:0"]),
        json!("127.0.0.1:*"),
    ] {
        let r = app
            .call(
                "PATCH",
                &format!("/api/servers/{server}"),
                Some(json!({"tunnel_allow": bad})),
                &root,
            )
            .await;
        assert_eq!(r.status.as_u16(), 400, "{bad}: {}", r.text);
    }
    let entry = app
        .get(&format!("/api/servers/{server}"), &root)
        .await
        .expect(200);
    assert_eq!(
        entry["tunnel_allow"],
        json!(["127.0.0.1:*"]),
        "nothing written"
    );
    let list = app.get("/api/tunnels", &mia).await.expect(200);
    assert_eq!(list["total"], 0);
}

#[tokio::test]
async fn a_tunnel_is_its_owners_and_staffs_to_see_and_end() {
    let (app, root, mia, server) = setup().await;
    let bob = app.user(&root, "bob", "member").await;
    let live = LiveTunnel::new(
        Uuid::new_v4(),
        UserRef {
            id: mia.id.parse::<UserId>().unwrap(),
            username: "mia".into(),
        },
        None,
        None,
        server.parse::<ServerId>().unwrap(),
        "web-01".into(),
        "127.0.0.1".into(),
        5432,
        chrono::Utc::now(),
    );
    app.state.hub.tunnels.add(live.clone());
    let path = format!("/api/tunnels/{}", live.id);

    let mine = app.get("/api/tunnels", &mia).await.expect(200);
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["items"][0]["remote_port"], 5432);
    assert_eq!(mine["items"][0]["carrier_connected"], false);
    assert_eq!(app.get("/api/tunnels", &bob).await.expect(200)["total"], 0);
    app.get(&path, &bob).await.expect_error(404, "not_found");
    app.delete(&path, &bob).await.expect_error(404, "not_found");
    assert_eq!(app.get("/api/tunnels", &root).await.expect(200)["total"], 1);

    app.delete(&path, &mia).await.expect(204);
    assert!(live.ended());
    assert_eq!(app.get("/api/tunnels", &root).await.expect(200)["total"], 0);
    app.delete(&path, &mia).await.expect_error(404, "not_found");
}
