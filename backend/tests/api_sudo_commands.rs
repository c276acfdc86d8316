//! Root commands and tunnel ports declared with a work session: each pattern must parse
//! (400 naming `sudo_commands`, nothing created), declaring any implies `sudo`, both are stored
//! and returned, and an approver may only narrow them (what went is kept in `adjustments`).

mod common;

use common::{id, Caller, TestApp};
use serde_json::{json, Value};

async fn setup() -> (TestApp, Caller, Caller) {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    app.server(&root, "web-01").await;
    let mia = app.user(&root, "mia", "member").await;
    app.grant(&root, "ops", "web-*", &["mia"]).await;
    (app, root, mia)
}

fn body(extra: Value) -> Value {
    let mut b = json!({"purpose": "patch", "scopes": ["command"], "servers": ["web-01"],
                       "duration_secs": 3600});
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

#[tokio::test]
async fn patterns_must_parse_and_imply_sudo() {
    let (app, root, mia) = setup().await;
    for bad in [
        json!(["systemctl restart nginx; rm -rf /"]),
        json!(["../bin/sh"]),
        json!(["sys*ctl status"]),
        json!([""]),
        json!(["cat /etc/../shadow"]),
    ] {
        let err = app
            .post(
                "/api/work-sessions",
                body(json!({"sudo_commands": bad})),
                &mia,
            )
            .await
            .expect_error(400, "validation_error");
        assert_eq!(err["fields"][0]["field"], "sudo_commands", "{bad}: {err}");
    }
    app.post(
        "/api/work-sessions",
        body(json!({"sudo_commands": "ls"})),
        &mia,
    )
    .await
    .expect_error(400, "validation_error");
    app.post(
        "/api/work-sessions",
        body(json!({"tunnel_ports": [0]})),
        &mia,
    )
    .await
    .expect_error(400, "validation_error");
    app.post(
        "/api/work-sessions",
        body(json!({"tunnel_ports": [70000]})),
        &mia,
    )
    .await
    .expect_error(400, "validation_error");
    // Nothing was created by the refusals.
    let list = app
        .get("/api/work-sessions?status=all", &root)
        .await
        .expect(200);
    assert_eq!(list["total"], 0, "{list}");

    let s = app
        .post(
            "/api/work-sessions",
            body(
                json!({"sudo_commands": ["systemctl restart nginx", "apt-get install *",
                                          "systemctl restart nginx"],
                        "tunnel_ports": [5432, 22, 5432]}),
            ),
            &mia,
        )
        .await
        .expect(201);
    assert_eq!(s["scopes"], json!(["command", "sudo"]), "{s}");
    assert_eq!(
        s["sudo_commands"],
        json!(["systemctl restart nginx", "apt-get install *"])
    );
    assert_eq!(s["tunnel_ports"], json!([22, 5432]));
    let again = app
        .get(&format!("/api/work-sessions/{}", id(&s)), &mia)
        .await
        .expect(200);
    assert_eq!(again["sudo_commands"], s["sudo_commands"]);
    assert_eq!(again["tunnel_ports"], s["tunnel_ports"]);
    // Omitted when none were declared.
    let plain = app.request_session(&mia, &["command"], &["web-01"]).await;
    assert!(plain.get("sudo_commands").is_none(), "{plain}");
    assert!(plain.get("tunnel_ports").is_none(), "{plain}");
    // The request's audit event names them.
    let audit = app
        .get("/api/audit?action=work_session.requested&limit=10", &root)
        .await
        .expect(200);
    let declared = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["target"] == s["id"])
        .unwrap();
    assert_eq!(declared["details"]["sudo_commands"], s["sudo_commands"]);
}

#[tokio::test]
async fn approval_only_narrows_and_keeps_what_went() {
    let (app, root, mia) = setup().await;
    let s = app
        .post(
            "/api/work-sessions",
            body(
                json!({"sudo_commands": ["systemctl restart nginx", "apt-get install *"],
                        "tunnel_ports": [22, 5432]}),
            ),
            &mia,
        )
        .await
        .expect(201);
    let sid = id(&s);
    let approve = |b: Value| {
        let app = &app;
        let root = &root;
        let sid = sid.clone();
        async move {
            app.post(&format!("/api/work-sessions/{sid}/approve"), b, root)
                .await
        }
    };
    // Widening, an empty list (which would lift the limit) and bad shapes: refused, unchanged.
    let err = approve(json!({"sudo_commands": ["reboot"]}))
        .await
        .expect_error(400, "validation_error");
    assert_eq!(err["fields"][0]["field"], "sudo_commands", "{err}");
    approve(json!({"sudo_commands": []}))
        .await
        .expect_error(400, "validation_error");
    let err = approve(json!({"tunnel_ports": [80]}))
        .await
        .expect_error(400, "validation_error");
    assert_eq!(err["fields"][0]["field"], "tunnel_ports", "{err}");
    approve(json!({"sudo_commands": "reboot"}))
        .await
        .expect_error(400, "validation_error");
    let still = app
        .get(&format!("/api/work-sessions/{sid}"), &root)
        .await
        .expect(200);
    assert_eq!(still["status"], "pending");

    let approved = approve(json!({"sudo_commands": ["apt-get install *"], "tunnel_ports": [5432]}))
        .await
        .expect(200);
    assert_eq!(approved["sudo_commands"], json!(["apt-get install *"]));
    assert_eq!(approved["tunnel_ports"], json!([5432]));
    assert_eq!(
        approved["adjustments"],
        json!({"sudo_commands_removed": ["systemctl restart nginx"], "tunnel_ports_removed": [22]})
    );
    let read = app
        .get(&format!("/api/work-sessions/{sid}"), &mia)
        .await
        .expect(200);
    assert_eq!(read["sudo_commands"], approved["sudo_commands"]);
    assert_eq!(read["adjustments"], approved["adjustments"]);
    let audit = app
        .get("/api/audit?action=work_session.approved&limit=10", &root)
        .await
        .expect(200);
    assert_eq!(
        audit["items"][0]["details"]["adjustments"]["sudo_commands_removed"],
        json!(["systemctl restart nginx"])
    );
}
