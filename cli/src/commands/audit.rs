//! `gate audit`: list (filtered, `--tail N`), follow (`-f`), `verify` the hash chain, `export`
//! it as JSON Lines.

use crate::args::{AuditArgs, AuditCommand};
use crate::context::Context;
use crate::exit::CliError;
use crate::output::{cell, Table};
use crate::time::parse_since;
use gatehouse_client::api::ops::AuditFilter;
use gatehouse_client::Client;
use gatehouse_shared::audit::AuditEvent;
use std::io::Write;
use std::time::Duration;

/// How often `-f` asks for new events (the audit log has no push of its own).
const FOLLOW_EVERY: Duration = Duration::from_secs(2);

pub async fn run(ctx: &Context, args: AuditArgs) -> Result<i32, CliError> {
    let client = ctx.client()?;
    let filter = AuditFilter {
        user: args.user.clone(),
        action: args.action.clone(),
        server: args.server.clone(),
        // `--work-session` on the command line filters; the environment's selection does not.
        work_session: ctx
            .work_session_on_command_line
            .then(|| ctx.work_session.map(|w| w.to_string()))
            .flatten(),
        from: args
            .since
            .as_deref()
            .map(|s| parse_since(s, chrono::Utc::now()))
            .transpose()?
            .map(|t| t.to_rfc3339()),
        ..AuditFilter::default()
    };
    match args.command {
        Some(AuditCommand::Verify) => {
            let v = client.audit_verify().await?;
            ctx.out.record(
                &v,
                vec![
                    ("ok", v.ok.to_string()),
                    ("events_checked", v.events_checked.to_string()),
                    (
                        "first_bad_seq",
                        v.first_bad_seq
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "-".into()),
                    ),
                ],
            )?;
            if !v.ok {
                return Err(CliError::failed(
                    "audit_chain_broken",
                    "the audit chain does not verify",
                ));
            }
            Ok(0)
        }
        Some(AuditCommand::Export) => {
            let bytes = client.audit_export(&filter).await?;
            std::io::stdout().write_all(&bytes)?;
            Ok(0)
        }
        None => list(ctx, &client, filter, args.tail, args.follow).await,
    }
}

async fn list(
    ctx: &Context,
    client: &Client,
    filter: AuditFilter,
    tail: Option<u32>,
    follow: bool,
) -> Result<i32, CliError> {
    let mut events = match tail {
        Some(n) => {
            let mut page = client
                .audit(&AuditFilter {
                    order: Some("newest".into()),
                    limit: Some(n.clamp(1, 500)),
                    ..filter.clone()
                })
                .await?;
            page.items.reverse();
            page.items
        }
        None => {
            client
                .audit(&AuditFilter {
                    limit: Some(500),
                    ..filter.clone()
                })
                .await?
                .items
        }
    };
    if !follow {
        if ctx.out.json {
            ctx.out.json_value(&events)?;
        } else {
            let mut t = Table::new(&[
                "SEQ", "AT", "ACTOR", "ACTION", "OUTCOME", "SERVER", "TARGET",
            ]);
            for e in &events {
                t.row(row(e));
            }
            t.print(ctx.out.color);
        }
        return Ok(0);
    }
    // Following prints one line per event (JSON Lines under --output json), oldest first.
    let mut last = 0;
    loop {
        for e in &events {
            print_line(ctx, e)?;
            last = last.max(e.seq);
        }
        std::io::stdout().flush()?;
        tokio::time::sleep(FOLLOW_EVERY).await;
        events = client
            .audit(&AuditFilter {
                cursor: Some(last.to_string()),
                limit: Some(500),
                ..filter.clone()
            })
            .await?
            .items;
    }
}

fn row(e: &AuditEvent) -> Vec<String> {
    vec![
        e.seq.to_string(),
        super::when(Some(e.at)),
        e.actor.clone().unwrap_or_default(),
        e.action.clone(),
        e.outcome.clone(),
        e.server.clone().unwrap_or_default(),
        e.target.clone().unwrap_or_default(),
    ]
}

fn print_line(ctx: &Context, e: &AuditEvent) -> Result<(), CliError> {
    if ctx.out.json {
        let line = serde_json::to_string(e)
            .map_err(|err| CliError::failed("internal", err.to_string()))?;
        println!("{line}");
    } else {
        println!(
            "{}",
            row(e)
                .iter()
                .map(|c| cell(c))
                .collect::<Vec<_>>()
                .join("  ")
        );
    }
    Ok(())
}
