//! `gate work-session …`: request, list, select and move work sessions through their life.
//! `create --wait` follows the server's pushes until a superuser decides (exit 4 while pending,
//! 6 when refused).

use crate::args::{CreateArgs, SessionCommand};
use crate::config::CredentialKind;
use crate::context::{Context, Credentials};
use crate::exit::CliError;
use crate::output::Table;
use crate::time::{parse_duration, parse_time};
use crate::wait;
use gatehouse_client::api::sessions::{SessionDecision, SessionFilter, SessionStep};
use gatehouse_client::{Accepted, Client};
use gatehouse_shared::approval::PendingApproval;
use gatehouse_shared::next_action;
use gatehouse_shared::work_session::{ApproveWorkSession, CreateWorkSession, ExtendWorkSession};
use gatehouse_shared::{Status, WorkSession, WorkSessionId};
use std::time::Duration;

pub async fn run(ctx: &Context, cmd: SessionCommand) -> Result<i32, CliError> {
    let creds = ctx.require_credentials()?;
    let client = ctx.client_for(&creds)?;
    match cmd {
        SessionCommand::Create(args) => create(ctx, &creds, &client, args).await,
        SessionCommand::Ls {
            status,
            user,
            server,
            scope,
            query,
            limit,
        } => {
            let filter = SessionFilter {
                status,
                user,
                server,
                scope: scope.map(|s| s.as_str().to_owned()),
                q: query,
                limit,
                ..SessionFilter::default()
            };
            let page = client.work_sessions(&filter).await?;
            ctx.out.data(&page, || {
                let mut t = Table::new(&[
                    "ID", "STATUS", "PURPOSE", "SCOPES", "SERVERS", "ASSIGNEE", "EXPIRES",
                ]);
                for s in &page.items {
                    t.row(vec![
                        s.id.to_string(),
                        s.status.to_string(),
                        s.purpose.clone(),
                        scopes(s),
                        servers(s),
                        s.assignee.username.clone(),
                        super::when(s.expires_at),
                    ]);
                }
                t
            })?;
            Ok(0)
        }
        SessionCommand::Describe { id } => {
            let id = resolve(ctx, &creds, &client, id).await?;
            show(ctx, &client.work_session(id).await?)?;
            Ok(0)
        }
        SessionCommand::Current => {
            let session = match ctx.selected_session(&creds) {
                Some(id) => client.work_session(id).await?,
                None => client.whoami().await?.active_work_session.ok_or_else(|| {
                    let mut e = CliError::failed("no_work_session", "no work session is selected");
                    e.envelope["next_actions"] =
                        serde_json::json!([next_action::list_my_sessions()]);
                    e
                })?,
            };
            show(ctx, &session)?;
            Ok(0)
        }
        SessionCommand::Use { id, unset } => {
            if matches!(creds, Credentials::Environment { .. }) {
                return Err(nothing_stored());
            }
            let chosen = match id {
                // A sign-in also makes it its active session on the server (activating an
                // approved one); a token names it in each request instead.
                Some(id) if !unset && signed_in(&creds) => Some(
                    client
                        .transition_work_session(id, SessionStep::Use)
                        .await?
                        .id,
                ),
                Some(id) if !unset => Some(client.work_session(id).await?.id),
                _ => None,
            };
            select(ctx, &creds, chosen)?;
            match chosen {
                Some(id) => ctx.out.info(&format!("Calls now use work session {id}.")),
                None => ctx.out.info("No work session is selected."),
            }
            Ok(0)
        }
        SessionCommand::Activate { id } => {
            step(ctx, &creds, &client, id, SessionStep::Activate).await
        }
        SessionCommand::Complete { id } => {
            step(ctx, &creds, &client, id, SessionStep::Complete).await
        }
        SessionCommand::Cancel { id } => step(ctx, &creds, &client, id, SessionStep::Cancel).await,
        SessionCommand::Extend { id, by, until } => {
            let id = resolve(ctx, &creds, &client, id).await?;
            let body = ExtendWorkSession {
                duration_secs: by
                    .as_deref()
                    .map(parse_duration)
                    .transpose()?
                    .map(|d| d.num_seconds()),
                expires_at: until.as_deref().map(parse_time).transpose()?,
            };
            match client.extend_work_session(id, &body).await? {
                Accepted::Done(s) => {
                    show(ctx, &s)?;
                    Ok(0)
                }
                Accepted::Pending(p) => Err(pending(ctx, &p)?),
            }
        }
        SessionCommand::Approve {
            id,
            reason,
            scope,
            server,
        } => {
            let body = ApproveWorkSession {
                scopes: (!scope.is_empty()).then_some(scope),
                servers: (!server.is_empty()).then_some(server),
                reason,
                ..ApproveWorkSession::default()
            };
            show(ctx, &client.approve_work_session(id, &body).await?)?;
            Ok(0)
        }
        SessionCommand::Reject { id, reason } => {
            decide(ctx, &client, id, SessionDecision::Reject, reason).await
        }
        SessionCommand::Revoke { id, reason } => {
            decide(ctx, &client, id, SessionDecision::Revoke, reason).await
        }
        SessionCommand::Timeline { id } => {
            let id = resolve(ctx, &creds, &client, id).await?;
            let page = client.timeline(id).await?;
            ctx.out.data(&page, || {
                let mut t =
                    Table::new(&["SEQ", "AT", "KIND", "ACTOR", "OUTCOME", "SERVER", "TARGET"]);
                for e in &page.items {
                    t.row(vec![
                        e.seq.to_string(),
                        super::when(Some(e.at)),
                        e.kind.clone(),
                        e.actor.clone().unwrap_or_default(),
                        e.outcome.clone(),
                        e.server.clone().unwrap_or_default(),
                        e.target.clone().unwrap_or_default(),
                    ]);
                }
                t
            })?;
            Ok(0)
        }
    }
}

async fn create(
    ctx: &Context,
    creds: &Credentials,
    client: &Client,
    args: CreateArgs,
) -> Result<i32, CliError> {
    let limit = match &args.wait_approval {
        Some(d) => duration(d)?,
        None => wait::DEFAULT_WAIT,
    };
    let body = CreateWorkSession {
        purpose: args.purpose,
        scopes: args.scope,
        servers: args.server,
        expires_at: args.expires_at.as_deref().map(parse_time).transpose()?,
        duration_secs: args
            .expires_in
            .as_deref()
            .map(parse_duration)
            .transpose()?
            .map(|d| d.num_seconds()),
        starts_at: args.starts_at.as_deref().map(parse_time).transpose()?,
        assignee: args.assignee,
        sudo_commands: args.sudo,
        tunnel_ports: args.tunnel_port,
    };
    // Subscribed before the request, so a decision made at once is not missed.
    let events = if args.wait {
        Some(wait::subscribe(client, tokio::time::Instant::now() + limit).await?)
    } else {
        None
    };
    let mut session = client.create_work_session(&body).await?;
    if args.use_it && !session.status.is_terminal() {
        select(ctx, creds, Some(session.id))?;
    }
    if args.wait && session.status == Status::Pending {
        ctx.out.info(&format!(
            "Work session {} is waiting for approval…",
            session.id
        ));
        let id = session.id;
        session = wait::until_decided(
            client,
            events,
            limit,
            session,
            |s| s.status == Status::Pending,
            || client.work_session(id),
        )
        .await?;
    }
    if args.use_it
        && signed_in(creds)
        && matches!(session.status, Status::Approved | Status::Active)
    {
        session = client
            .transition_work_session(session.id, SessionStep::Use)
            .await?;
    }
    show(ctx, &session)?;
    outcome(ctx, creds, &session, args.use_it)
}

/// Whether the credential is a CLI sign-in (which has an active session on the server), not a
/// token.
fn signed_in(creds: &Credentials) -> bool {
    matches!(creds, Credentials::Profile { profile, .. } if profile.kind == CredentialKind::Cli)
}

/// The exit a session's state means for its requester: usable or on its way (0), still waiting
/// (4), or refused or over (6).
fn outcome(
    ctx: &Context,
    creds: &Credentials,
    s: &WorkSession,
    use_it: bool,
) -> Result<i32, CliError> {
    match s.status {
        Status::Active | Status::Approved => {
            if use_it {
                ctx.out
                    .info(&format!("Calls now use work session {}.", s.id));
            }
            Ok(0)
        }
        Status::Pending => Err(CliError::pending(
            format!(
                "work session {} is waiting for a superuser's approval",
                s.id
            ),
            vec![next_action::describe_session(s.id)],
        )),
        status => {
            if use_it {
                // A refused session must not stay selected.
                let _ = select(ctx, creds, None);
            }
            let mut e = CliError::decided_against(
                status.as_str(),
                format!("work session {} was {status}", s.id),
            );
            if let Some(reason) = &s.decision_reason {
                e.envelope["reason"] = serde_json::json!(reason);
            }
            Err(e)
        }
    }
}

async fn decide(
    ctx: &Context,
    client: &Client,
    id: WorkSessionId,
    verb: SessionDecision,
    reason: Option<String>,
) -> Result<i32, CliError> {
    show(ctx, &client.decide_work_session(id, verb, reason).await?)?;
    Ok(0)
}

async fn step(
    ctx: &Context,
    creds: &Credentials,
    client: &Client,
    id: Option<WorkSessionId>,
    verb: SessionStep,
) -> Result<i32, CliError> {
    let id = resolve(ctx, creds, client, id).await?;
    show(ctx, &client.transition_work_session(id, verb).await?)?;
    Ok(0)
}

/// The named session, else the selected one, else the sign-in's active one.
async fn resolve(
    ctx: &Context,
    creds: &Credentials,
    client: &Client,
    id: Option<WorkSessionId>,
) -> Result<WorkSessionId, CliError> {
    if let Some(id) = id.or_else(|| ctx.selected_session(creds)) {
        return Ok(id);
    }
    client
        .whoami()
        .await?
        .active_work_session
        .map(|s| s.id)
        .ok_or_else(|| CliError::usage("which work session? name its id (none is selected)"))
}

/// Under `GATE_URL`/`GATE_TOKEN` nothing is written, so a selection cannot be stored.
fn nothing_stored() -> CliError {
    CliError::usage(
        "credentials come from GATE_URL/GATE_TOKEN, so nothing is stored: \
         set GATE_WORK_SESSION (or pass --work-session) instead",
    )
}

/// Stores (or clears) the profile's selected session.
fn select(ctx: &Context, creds: &Credentials, id: Option<WorkSessionId>) -> Result<(), CliError> {
    let Credentials::Profile { path, .. } = creds else {
        return Err(nothing_stored());
    };
    let (_, mut config) = ctx.load_config()?;
    let profile = config
        .profiles
        .get_mut(&ctx.profile)
        .ok_or_else(|| CliError::failed("unauthenticated", "the profile is gone: sign in again"))?;
    profile.work_session = id;
    config.save(path)?;
    Ok(())
}

/// A pending extension or command: its answer on stdout, exit 4.
pub fn pending(ctx: &Context, p: &PendingApproval) -> Result<CliError, CliError> {
    ctx.out.record(
        p,
        vec![
            ("status", p.status.clone()),
            ("approval_id", p.approval_id.to_string()),
            ("kind", p.kind.as_str().to_owned()),
        ],
    )?;
    Ok(CliError::pending(p.message.clone(), p.next_actions.clone()))
}

fn duration(text: &str) -> Result<Duration, CliError> {
    let d = parse_duration(text)?;
    Ok(Duration::from_secs(d.num_seconds().max(0) as u64))
}

fn scopes(s: &WorkSession) -> String {
    s.scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn servers(s: &WorkSession) -> String {
    s.servers
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// One session: JSON as the server sent it, or its fields.
pub fn show(ctx: &Context, s: &WorkSession) -> Result<(), CliError> {
    let user = |u: &Option<gatehouse_shared::UserRef>| {
        u.as_ref()
            .map(|u| u.username.clone())
            .unwrap_or_else(|| "-".into())
    };
    let mut fields = vec![
        ("id", s.id.to_string()),
        ("status", s.status.to_string()),
        ("purpose", s.purpose.clone()),
        ("scopes", scopes(s)),
        ("servers", servers(s)),
        ("requested_by", s.requested_by.username.clone()),
        ("assignee", s.assignee.username.clone()),
        ("approved_by", user(&s.approved_by)),
        ("starts_at", super::when(s.starts_at)),
        ("expires_at", super::when(s.expires_at)),
    ];
    if !s.sudo_commands.is_empty() {
        fields.push(("sudo_commands", s.sudo_commands.join(" | ")));
    }
    if !s.tunnel_ports.is_empty() {
        let ports: Vec<String> = s.tunnel_ports.iter().map(u16::to_string).collect();
        fields.push(("tunnel_ports", ports.join(",")));
    }
    if let Some(reason) = &s.decision_reason {
        fields.push(("decision_reason", reason.clone()));
    }
    ctx.out.record(s, fields)
}
