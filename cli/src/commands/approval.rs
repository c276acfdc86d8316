//! `gate approval …`: the one queue of decisions (new work sessions, extensions, single root
//! commands). `describe --wait` follows the server's pushes until it is decided.

use crate::args::ApprovalCommand;
use crate::context::Context;
use crate::exit::CliError;
use crate::output::Table;
use crate::time::parse_duration;
use crate::wait;
use gatehouse_client::api::sessions::ApprovalFilter;
use gatehouse_shared::approval::{Approval, ApprovalStatus};
use gatehouse_shared::next_action;
use std::time::Duration;

pub async fn run(ctx: &Context, cmd: ApprovalCommand) -> Result<i32, CliError> {
    let client = ctx.client()?;
    match cmd {
        ApprovalCommand::Ls {
            status,
            kind,
            limit,
        } => {
            let filter = ApprovalFilter {
                status,
                kind,
                work_session: None,
                limit,
            };
            let page = client.approvals(&filter).await?;
            ctx.out.data(&page, || {
                let mut t =
                    Table::new(&["ID", "KIND", "STATUS", "REQUESTED_BY", "PURPOSE", "WHAT"]);
                for a in &page.items {
                    t.row(vec![
                        a.id.to_string(),
                        a.kind.as_str().into(),
                        a.status.as_str().into(),
                        a.requested_by.username.clone(),
                        a.work_session.purpose.clone(),
                        what(a),
                    ]);
                }
                t
            })?;
            Ok(0)
        }
        ApprovalCommand::Describe { id, wait, timeout } => {
            let limit = match timeout {
                Some(t) => Duration::from_secs(parse_duration(&t)?.num_seconds().max(0) as u64),
                None => wait::DEFAULT_WAIT,
            };
            // Subscribed before the first look, so a decision in between is not missed.
            let events = if wait {
                Some(wait::subscribe(&client, tokio::time::Instant::now() + limit).await?)
            } else {
                None
            };
            let mut approval = client.approval(id).await?;
            if wait && approval.status == ApprovalStatus::Pending {
                ctx.out
                    .info(&format!("Approval {id} is waiting for a superuser…"));
                let client = &client;
                approval = wait::until_decided(
                    client,
                    events,
                    limit,
                    approval,
                    |a| a.status == ApprovalStatus::Pending,
                    || client.approval(id),
                )
                .await?;
            }
            show(ctx, &approval)?;
            if !wait {
                return Ok(0);
            }
            match approval.status {
                ApprovalStatus::Approved => Ok(0),
                ApprovalStatus::Pending => Err(CliError::pending(
                    format!("approval {id} is still waiting for a superuser"),
                    vec![next_action::wait_for_approval(id)],
                )),
                status => {
                    let mut e = CliError::decided_against(
                        status.as_str(),
                        format!("approval {id} was {}", status.as_str()),
                    );
                    if let Some(reason) = &approval.reason {
                        e.envelope["reason"] = serde_json::json!(reason);
                    }
                    Err(e)
                }
            }
        }
        ApprovalCommand::Approve { id, reason } => {
            show(ctx, &client.decide_approval(id, true, reason).await?)?;
            Ok(0)
        }
        ApprovalCommand::Reject { id, reason } => {
            show(ctx, &client.decide_approval(id, false, reason).await?)?;
            Ok(0)
        }
    }
}

/// What is asked, in a few words.
fn what(a: &Approval) -> String {
    if let Some(c) = &a.command {
        return format!("{} on {}", c.command, c.servers.join(","));
    }
    if let Some(e) = &a.extension {
        if let Some(secs) = e.duration_secs {
            return format!("extend by {secs}s");
        }
        if let Some(at) = e.expires_at {
            return format!("extend until {}", super::when(Some(at)));
        }
    }
    format!("work session {}", super::short(a.work_session.id))
}

fn show(ctx: &Context, a: &Approval) -> Result<(), CliError> {
    let mut fields = vec![
        ("id", a.id.to_string()),
        ("kind", a.kind.as_str().to_owned()),
        ("status", a.status.as_str().to_owned()),
        ("work_session", a.work_session.id.to_string()),
        ("purpose", a.work_session.purpose.clone()),
        ("requested_by", a.requested_by.username.clone()),
        ("requested_at", super::when(Some(a.requested_at))),
        ("what", what(a)),
        (
            "decided_by",
            a.decided_by
                .as_ref()
                .map(|u| u.username.clone())
                .unwrap_or_else(|| "-".into()),
        ),
        ("decided_at", super::when(a.decided_at)),
    ];
    if let Some(reason) = &a.reason {
        fields.push(("reason", reason.clone()));
    }
    if let Some(job) = a.command.as_ref().and_then(|c| c.exec_job) {
        fields.push(("exec_job", job.to_string()));
    }
    ctx.out.record(a, fields)
}
