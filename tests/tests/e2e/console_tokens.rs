//! Token ACLs in the console: a superuser opens a service account's token on the Tokens page,
//! grants it a server rule and a command rule (a bad command is one error, at its field), and the
//! Explain box says Allowed naming that rule, or Denied with the reason, exactly as the server's
//! own `acl/test` answers; removing the server rule denies again. The Service accounts page lists
//! the token with a link to its rules and issues a new `ghst_` secret, shown once. Both pages fit
//! a phone. A member opening the Tokens page sees the server's refusal and no data, and sees the
//! rules of their own tokens, read-only, on the Account page.

use crate::console::Console;
use crate::console_layout::{assert_no_sideways_scroll, phone};
use crate::{api_token, refused};
use gatehouse_e2e::browser::{run_ui_test, Browser};
use gatehouse_e2e::Api;
use gatehouse_shared::acl::api::{AclTest, NewServerRule, NewServiceAccount, RuleKind};
use gatehouse_shared::acl::Decision;
use gatehouse_shared::token::CreateApiToken;
use gatehouse_shared::{Scope, TokenId};

/// The rules of the chosen token on the Tokens page, by kind.
fn kind(kind: &str) -> String {
    format!("[data-testid=token-panel] [data-testid=rule-kind][data-kind={kind}]")
}

/// Asks the Explain box about `command` on web-01 and waits for the answer to be `allowed`.
async fn explain(browser: &Browser, command: &str, allowed: bool) -> (String, Option<String>) {
    let form = "[data-testid=explain]";
    browser
        .fill(&format!("{form} input[name=server]"), "web-01")
        .await;
    browser
        .fill_and_enter(&format!("{form} input[name=command]"), command)
        .await;
    let result = format!("[data-testid=explain-result][data-allowed={allowed}]");
    browser
        .wait_text(&result, if allowed { "Allowed" } else { "Denied" })
        .await;
    let text = browser.text(&result).await;
    let rule = browser
        .find(&format!("{result} [data-testid=explain-rule]"))
        .await;
    let rule = match rule {
        Some(rule) => rule.attr("data-rule-id").await.expect("attr"),
        None => None,
    };
    (text, rule)
}

/// The server's own answer for `command` on web-01 by token `id`.
async fn server_says(api: &Api, id: TokenId, command: &str) -> Decision {
    let ask = AclTest {
        scope: Some(Scope::Command),
        server: "web-01".to_owned(),
        command: Some(command.to_owned()),
        ..AclTest::default()
    };
    api.client.test_acl(id, &ask).await.expect("a decision")
}

#[tokio::test]
async fn console_tokens_grant_rules_and_explain_decisions_as_the_server_does() {
    let cx = Console::start(&[("mia", "member")], &[]).await;
    let ops = &cx.api().client;
    let account = ops
        .create_service_account(&NewServiceAccount {
            name: "deployer".to_owned(),
            description: Some("CI deploys".to_owned()),
        })
        .await
        .expect("a service account");
    let pipeline = CreateApiToken {
        name: "pipeline".to_owned(),
        expires_in_days: None,
    };
    let token_id = ops
        .issue_service_token(account.id, &pipeline)
        .await
        .expect("a service token")
        .id;
    // Mia's own tokens: one a superuser grants a rule, one left without any.
    let mia = Api::login(&cx.server.base, "mia").await;
    let (_, mine_id) = api_token(&mia, "laptop").await;
    api_token(&mia, "spare").await;
    let web = NewServerRule {
        pattern: "web-*".to_owned(),
    };
    ops.grant_rule(mine_id, RuleKind::Servers, &web)
        .await
        .expect("a server rule");

    let admin = cx.signed_in("ops").await;
    let member = cx.signed_in("mia").await;
    run_ui_test(
        "console_tokens_grant_rules_and_explain_decisions_as_the_server_does",
        &cx.driver,
        async {
            // From the administration page to the Tokens page, then the token's rules.
            admin.goto("/admin").await;
            admin.click("a[href='/admin/tokens']").await;
            let row = format!("[data-testid=token-row][data-token-id='{token_id}']");
            admin
                .wait_text(&format!("{row} [data-testid=token-owner]"), "svc:deployer")
                .await;
            assert_eq!(
                admin.text(&format!("{row} [data-testid=token-kind]")).await,
                "service account"
            );
            admin
                .click(&format!("{row} [data-testid=token-rules-link]"))
                .await;
            admin
                .wait_text("[data-testid=token-panel] h2", "Rules of pipeline")
                .await;
            admin
                .wait_text("[data-testid=token-panel] [data-testid=no-rules]", "can do nothing")
                .await;
            assert_eq!(admin.focused_id().await, "token-rules-heading");
            assert_eq!(
                admin
                    .count("[data-testid=token-rules-link][aria-current=page]")
                    .await,
                1,
                "only the chosen token's row is current"
            );

            // A server rule, typed and sent with Enter.
            admin
                .fill_and_enter(
                    &format!("{} input[name=pattern]", kind("servers")),
                    "web-01",
                )
                .await;
            admin
                .wait_text(&format!("{} [data-testid=rule]", kind("servers")), "web-01")
                .await;
            admin
                .wait_gone("[data-testid=token-panel] [data-testid=no-rules]")
                .await;

            // A command a shell would have to run is refused: one error, at the field, in words.
            let commands = kind("commands");
            let field = format!("{commands} input[name=command]");
            admin
                .fill_and_enter(&field, "systemctl status nginx && reboot")
                .await;
            let error = format!("{commands} .field-error[data-field=command]");
            admin.wait_for(&error).await;
            assert_eq!(admin.count(&format!("{commands} .field-error")).await, 1);
            assert_eq!(admin.count(&format!("{commands} .error")).await, 0);
            admin.fill_and_enter(&field, "systemctl status nginx").await;
            admin.wait_gone(&error).await;
            let rule = admin
                .wait_text(
                    &format!("{commands} [data-testid=rule]"),
                    "systemctl status nginx",
                )
                .await;
            let rule_id = rule
                .attr("data-rule-id")
                .await
                .expect("attr")
                .expect("a rule id");
            assert_eq!(admin.count(&format!("{commands} [data-testid=rule]")).await, 1);

            // Explain: the granted command is allowed by that rule; another is denied, saying why.
            let (text, by) = explain(&admin, "systemctl status nginx", true).await;
            assert_eq!(by.as_deref(), Some(rule_id.as_str()), "{text}");
            assert!(
                admin
                    .text("[data-testid=explain-rule]")
                    .await
                    .contains("systemctl status nginx"),
                "{text}"
            );
            let (denied, by) = explain(&admin, "systemctl stop nginx", false).await;
            assert_eq!(by, None);
            assert!(denied.contains("no command rule"), "{denied}");

            // The server agrees, through the API.
            let yes = server_says(cx.api(), token_id, "systemctl status nginx").await;
            assert!(yes.allowed, "{yes:?}");
            assert_eq!(yes.rule.map(|r| r.to_string()), Some(rule_id.clone()));
            let no = server_says(cx.api(), token_id, "systemctl stop nginx").await;
            assert!(!no.allowed, "{no:?}");
            assert!(denied.contains(&no.reason), "{denied} / {}", no.reason);

            // Removing the server rule leaves the command rule useless, and Explain says so.
            admin
                .click(&format!("{} [data-testid=rule-remove]", kind("servers")))
                .await;
            admin
                .wait_count(&format!("{} [data-testid=rule]", kind("servers")), 0)
                .await;
            let (denied, _) = explain(&admin, "systemctl status nginx", false).await;
            assert!(denied.contains("no server rule"), "{denied}");
            let acl = ops.token_acl(token_id).await.expect("the token's rules");
            assert!(acl.servers.is_empty(), "{acl:?}");
            assert_eq!(acl.commands[0].id.to_string(), rule_id, "{acl:?}");

            // The service account's page lists the token, links to its rules, issues another.
            admin
                .click("nav[aria-label='Administration pages'] a[href='/admin/service-accounts']")
                .await;
            let card = "[data-testid=service-account][data-name=deployer]";
            admin
                .wait_for(&format!(
                    "{card} [data-testid=token-row][data-token-id='{token_id}'] a[href='/admin/tokens?token={token_id}']"
                ))
                .await;
            admin
                .fill_and_enter(&format!("{card} [data-testid=issue-token] input[name=name]"), "nightly")
                .await;
            let secret = admin
                .wait_for(&format!("{card} [data-testid=new-token]"))
                .await
                .text()
                .await
                .expect("text");
            assert!(secret.starts_with("ghst_"), "{secret}");
            admin
                .wait_for(&format!("{card} [data-testid=token-row][data-token-name=nightly]"))
                .await;

            // Both pages fit a phone.
            phone(&cx.driver, &admin).await;
            admin.goto("/admin/service-accounts").await;
            admin.wait_for(card).await;
            assert_no_sideways_scroll(&admin, "/admin/service-accounts").await;
            admin.goto(&format!("/admin/tokens?token={token_id}")).await;
            admin
                .wait_text(&format!("{commands} [data-testid=rule]"), "systemctl")
                .await;
            assert_no_sideways_scroll(&admin, "/admin/tokens").await;

            // A member: the API refuses the list, so the page shows the refusal and no data;
            // someone else's token's rules are not found.
            member.goto("/admin/tokens").await;
            member.wait_for("[data-error-code=forbidden]").await;
            assert_eq!(member.count("[data-testid=token-row]").await, 0);
            let all = refused(mia.client.tokens(true).await);
            assert_eq!(all.status, 403);
            member.goto(&format!("/admin/tokens?token={token_id}")).await;
            member
                .wait_for("[data-testid=token-panel] [data-error-code=not_found]")
                .await;
            assert_eq!(member.count("[data-testid=rule]").await, 0);
            assert_eq!(member.count("a[href='/admin/tokens']").await, 0);

            // On the Account page, each of her tokens shows its rules, read-only.
            member.goto("/account").await;
            let laptop = format!("[data-testid=token-rules-row][data-token-id='{mine_id}']");
            member
                .wait_text(&format!("{laptop} [data-testid=rule]"), "web-*")
                .await;
            assert_eq!(member.count("[data-testid=rule-remove]").await, 0);
            assert_eq!(member.count("[data-testid=add-rule]").await, 0);
            member
                .wait_text("[data-testid=no-rules]", "No rules: this token can do nothing yet")
                .await;
            assert_eq!(member.count("[data-testid=no-rules]").await, 1);
        },
    )
    .await;
}
