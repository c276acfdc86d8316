//! `gate token acl servers|commands|files|tunnels add|ls|rm|test`: a token's standing
//! approvals. Only a superuser signed in interactively grants or removes them; the owner reads
//! them and asks the gate's decision with `test`.

use crate::args::{AclAction, AclKind};
use crate::context::Context;
use crate::exit::CliError;
use crate::output::Table;
use gatehouse_client::Client;
use gatehouse_shared::acl::api::{
    AclTest, NewCommandRule, NewFileRule, NewServerRule, NewTunnelRule, RuleKind,
};
use gatehouse_shared::Scope;
use serde_json::Value;

pub async fn run(
    ctx: &Context,
    client: &Client,
    kind: AclKind,
    action: AclAction,
) -> Result<i32, CliError> {
    let rule_kind = match kind {
        AclKind::Servers => RuleKind::Servers,
        AclKind::Commands => RuleKind::Commands,
        AclKind::Files => RuleKind::Files,
        AclKind::Tunnels => RuleKind::Tunnels,
    };
    match action {
        AclAction::Add {
            token,
            rule,
            user,
            action,
            host,
        } => {
            let id = super::token::resolve(client, &token).await?;
            let created = match kind {
                AclKind::Servers => {
                    client
                        .grant_rule(id, rule_kind, &NewServerRule { pattern: rule })
                        .await?
                }
                AclKind::Commands => {
                    client
                        .grant_rule(
                            id,
                            rule_kind,
                            &NewCommandRule {
                                command: rule,
                                user,
                            },
                        )
                        .await?
                }
                AclKind::Files => {
                    let action = action.ok_or_else(|| {
                        CliError::usage("a file rule needs --action upload|download|any")
                    })?;
                    let body = NewFileRule {
                        path: rule,
                        action: action.into(),
                        user,
                    };
                    client.grant_rule(id, rule_kind, &body).await?
                }
                AclKind::Tunnels => {
                    let port = rule.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                        CliError::usage(format!("{rule:?} is not a port (1-65535)"))
                    })?;
                    client
                        .grant_rule(id, rule_kind, &NewTunnelRule { port, host })
                        .await?
                }
            };
            let rule_id = created["id"].as_str().unwrap_or_default().to_owned();
            ctx.out.info(&format!("Rule {rule_id} granted."));
            if ctx.out.json {
                ctx.out.json_value(&created)?;
            } else {
                println!("{rule_id}");
            }
        }
        AclAction::Ls { token } => {
            let id = super::token::resolve(client, &token).await?;
            let acl = client.token_acl(id).await?;
            let rules: Value = serde_json::to_value(&acl)
                .map_err(|e| CliError::failed("internal", e.to_string()))?[rule_kind.as_str()]
            .clone();
            ctx.out.data(&rules, || table(kind, &rules))?;
        }
        AclAction::Rm { token, rule } => {
            let id = super::token::resolve(client, &token).await?;
            client.remove_rule(id, rule_kind, rule).await?;
            ctx.out.info(&format!("Rule {rule} removed."));
        }
        AclAction::Test {
            token,
            server,
            scope,
            user,
            path,
            action,
            port,
            host,
            argv,
        } => {
            let id = super::token::resolve(client, &token).await?;
            let scope = scope.or(match kind {
                AclKind::Servers => None,
                AclKind::Commands => Some(Scope::Command),
                AclKind::Files => Some(Scope::Webftp),
                AclKind::Tunnels => Some(Scope::Tunnel),
            });
            let ask = AclTest {
                scope,
                server,
                argv: (!argv.is_empty()).then_some(argv),
                command: None,
                path,
                action: action.map(Into::into),
                user,
                port,
                host,
            };
            let decision = client.test_acl(id, &ask).await?;
            ctx.out.record(
                &decision,
                vec![
                    ("allowed", decision.allowed.to_string()),
                    (
                        "rule",
                        decision
                            .rule
                            .map(|r| r.to_string())
                            .unwrap_or_else(|| "-".into()),
                    ),
                    ("reason", decision.reason.clone()),
                ],
            )?;
            // A script asks `test` a yes/no question: "no" is exit 3, as the gate would deny.
            if !decision.allowed {
                return Ok(gatehouse_client::exit::GATE_DENIED);
            }
        }
    }
    Ok(0)
}

fn table(kind: AclKind, rules: &Value) -> Table {
    let s = |v: &Value, k: &str| match &v[k] {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let (headers, keys): (&[&'static str], &[&str]) = match kind {
        AclKind::Servers => (&["ID", "PATTERN"], &["id", "pattern"]),
        AclKind::Commands => (&["ID", "COMMAND", "USER"], &["id", "command", "user"]),
        AclKind::Files => (
            &["ID", "PATH", "ACTION", "USER"],
            &["id", "path", "action", "user"],
        ),
        AclKind::Tunnels => (&["ID", "HOST", "PORT"], &["id", "host", "port"]),
    };
    let mut t = Table::new(headers);
    for rule in rules.as_array().unwrap_or(&Vec::new()) {
        t.row(keys.iter().map(|k| s(rule, k)).collect());
    }
    t
}
