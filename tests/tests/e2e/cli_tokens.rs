//! `gate token` and `gate token acl`: a token's owner lists its rules and asks the gate's
//! decision (`test`: allowed 0, denied 3); granting and removing needs a superuser signed in
//! interactively, so through an API token `add` and `rm` are refused (exit 3) and change nothing.

use crate::{api_token, Fixture};
use gatehouse_e2e::gate::Gate;
use gatehouse_shared::acl::api::{NewCommandRule, NewServerRule, RuleKind, ServerRule};
use gatehouse_shared::server::CreateServer;
use serde_json::json;

#[tokio::test]
async fn token_acl_rules_list_test_and_refuse_changes_through_a_token() {
    let fx = Fixture::start(&[]).await;
    let ops = &fx.api.client;
    ops.create_server(&CreateServer {
        name: "web-01".to_owned(),
        platform: None,
        groups: None,
    })
    .await
    .expect("a server");
    let (secret, _) = api_token(&fx.api, "cli").await;
    let (_, ci_id) = api_token(&fx.api, "ci-deploy").await;
    let gate = Gate::new();
    let login = gate.run(&["login", &fx.server.base, "-t", &secret]).await;
    assert_eq!(login.code, 0, "{login:?}");

    // Granted interactively (the console's way): a server rule and a command rule.
    let servers = NewServerRule {
        pattern: "web-*".to_owned(),
    };
    let rule = ops
        .grant_rule(ci_id, RuleKind::Servers, &servers)
        .await
        .expect("a server rule");
    let commands = NewCommandRule {
        command: "systemctl restart app".to_owned(),
        user: Some("*".to_owned()),
    };
    ops.grant_rule(ci_id, RuleKind::Commands, &commands)
        .await
        .expect("a command rule");

    // Listed by name or id, as a table or JSON.
    let servers = gate
        .run(&["--json", "token", "acl", "servers", "ls", "ci-deploy"])
        .await;
    assert_eq!(servers.code, 0, "{servers:?}");
    assert_eq!(
        servers.json(),
        json!([{"id": rule["id"], "pattern": "web-*"}])
    );
    let commands = gate
        .run(&["token", "acl", "commands", "ls", &ci_id.to_string()])
        .await;
    assert_eq!(commands.code, 0, "{commands:?}");
    assert!(
        commands.stdout.contains("systemctl restart app"),
        "{commands:?}"
    );

    // The gate's decision, explained: allowed is 0, denied is 3.
    let args = |cmd: &'static str| {
        let mut v = vec!["--json", "token", "acl", "commands", "test", "ci-deploy"];
        v.extend(["--server", "web-01", "--"]);
        v.extend(cmd.split(' '));
        v
    };
    let allowed = gate.run(&args("systemctl restart app")).await;
    assert_eq!(allowed.code, 0, "{allowed:?}");
    assert_eq!(allowed.json()["allowed"], true);
    let denied = gate.run(&args("systemctl stop app")).await;
    assert_eq!(denied.code, 3, "{denied:?}");
    assert_eq!(denied.json()["allowed"], false);
    assert!(denied.json()["reason"].as_str().is_some());

    // Changing rules needs an interactive superuser: a token is refused by the token-ACL rule
    // itself (exit 3), and nothing changes.
    let add = gate
        .run(&[
            "--json",
            "token",
            "acl",
            "servers",
            "add",
            "ci-deploy",
            "db-*",
        ])
        .await;
    assert_eq!(add.code, 3, "{add:?}");
    assert_eq!(add.error_json()["error_code"], "token_acl_denied");
    let rm = gate
        .run(&[
            "token",
            "acl",
            "servers",
            "rm",
            "ci-deploy",
            rule["id"].as_str().unwrap(),
        ])
        .await;
    assert_eq!(rm.code, 3, "{rm:?}");
    let after = ops.token_acl(ci_id).await.expect("the token's rules");
    let kept = ServerRule {
        id: rule["id"].as_str().expect("id").parse().expect("a rule id"),
        pattern: "web-*".to_owned(),
    };
    assert_eq!(after.servers, [kept]);
    // Bad input is refused before anything is sent.
    let bad = gate
        .run(&["token", "acl", "tunnels", "add", "ci-deploy", "99999"])
        .await;
    assert_eq!(bad.code, 2, "{bad:?}");

    // The token list, and revoking one by name.
    let list = gate.run(&["--json", "token", "ls"]).await;
    let list = list.json();
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"cli") && names.contains(&"ci-deploy"),
        "{names:?}"
    );
    let rm = gate.run(&["token", "rm", "ci-deploy"]).await;
    assert_eq!(rm.code, 0, "{rm:?}");
    let tokens = ops.tokens(false).await.expect("the tokens");
    let ci = tokens.items.iter().find(|t| t.id == ci_id).expect("listed");
    assert!(ci.revoked, "{ci:?}");
}
