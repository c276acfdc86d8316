//! `gate token create|ls|rm` and, through [`super::acl`], `gate token acl …`.

use crate::args::TokenCommand;
use crate::context::Context;
use crate::exit::CliError;
use crate::output::Table;
use gatehouse_client::Client;
use gatehouse_shared::token::CreateApiToken;
use gatehouse_shared::TokenId;

pub async fn run(ctx: &Context, cmd: TokenCommand) -> Result<i32, CliError> {
    let client = ctx.client()?;
    match cmd {
        TokenCommand::Create {
            name,
            expires_in_days,
        } => {
            let created = client
                .create_token(&CreateApiToken {
                    name,
                    expires_in_days,
                })
                .await?;
            if ctx.out.json {
                ctx.out.json_value(&created)?;
            } else {
                // The secret is the data: alone on stdout, so `$(gate token create x)` is it.
                println!("{}", created.token);
                ctx.out.info(&format!(
                    "Token {} ({}) created; the secret above is shown only once.",
                    created.name, created.id
                ));
            }
        }
        TokenCommand::Ls { all } => {
            let page = client.tokens(all).await?;
            ctx.out.data(&page, || {
                let mut t = Table::new(&[
                    "ID",
                    "NAME",
                    "OWNER",
                    "CREATED",
                    "EXPIRES",
                    "LAST_USED",
                    "REVOKED",
                ]);
                for tok in &page.items {
                    t.row(vec![
                        tok.id.to_string(),
                        tok.name.clone(),
                        tok.owner
                            .as_ref()
                            .map(|o| o.username.clone())
                            .unwrap_or_default(),
                        super::when(Some(tok.created_at)),
                        super::when(tok.expires_at),
                        super::when(tok.last_used_at),
                        tok.revoked.to_string(),
                    ]);
                }
                t
            })?;
        }
        TokenCommand::Rm { token } => {
            let id = resolve(&client, &token).await?;
            client.revoke_token(id).await?;
            ctx.out.info(&format!("Token {id} revoked."));
        }
        TokenCommand::Acl { kind, action } => {
            return super::acl::run(ctx, &client, kind, action).await
        }
    }
    Ok(0)
}

/// A token by id, or by name among the caller's (then, for a superuser, all) tokens.
pub async fn resolve(client: &Client, token: &str) -> Result<TokenId, CliError> {
    if let Ok(id) = token.parse::<TokenId>() {
        return Ok(id);
    }
    for all in [false, true] {
        let Ok(page) = client.tokens(all).await else {
            continue;
        };
        let mut matching = page
            .items
            .into_iter()
            .filter(|t| t.name == token && !t.revoked);
        if let Some(found) = matching.next() {
            if matching.next().is_some() {
                return Err(CliError::usage(format!(
                    "several tokens are named {token:?}: give the id"
                )));
            }
            return Ok(found.id);
        }
    }
    Err(CliError::failed(
        "not_found",
        format!("no token named {token:?}"),
    ))
}
