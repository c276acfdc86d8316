//! `gate websh`: a terminal on a server in this terminal (raw mode, resizes, `~.`, resume after
//! a drop or a gateway restart, the remote shell's exit status as gate's), a shared link's
//! terminal as a guest, staff watching one read-only, and `share`, `ls` and `close`.

mod escape;
mod keys;
pub(super) mod raw;
mod stream;

use super::exec::parse_target;
use super::{short, when};
use crate::args::{ExecArgs, WebshArgs, WebshCommand};
use crate::context::Context;
use crate::exit::CliError;
use crate::output::{sanitize, Table};
use crate::{prompt, time};
use gatehouse_shared::share::{CreateShare, JoinShare};
use gatehouse_shared::websh::OpenWebsh;
use std::io::IsTerminal;
use stream::Target;

pub async fn run(ctx: &Context, args: WebshArgs) -> Result<i32, CliError> {
    match args.action {
        Some(WebshCommand::Join {
            url,
            name,
            password_stdin,
        }) => join(ctx, &url, name, password_stdin).await,
        Some(WebshCommand::Share {
            id,
            write,
            expires_in,
            show_password,
        }) => share(ctx, id, write, expires_in, show_password).await,
        Some(WebshCommand::Ls) => ls(ctx).await,
        Some(WebshCommand::Watch { id }) => {
            let client = ctx.client()?;
            ctx.out.info(&format!(
                "watching terminal {}; ~. after Enter leaves",
                short(id)
            ));
            let target = Target::Watch(format!("/ws/websh/{id}?watch=true"));
            stream::run(&client, target, &ctx.out).await
        }
        Some(WebshCommand::Close { id }) => {
            ctx.client()?.close_websh(id).await?;
            ctx.out.info(&format!("terminal {} ended", short(id)));
            Ok(0)
        }
        None => open(ctx, args.words, args.gate_exit_codes).await,
    }
}

/// `websh [USER@]SERVER`: opens a terminal and attaches this one to it. With a command, runs
/// that command line on a terminal of its own instead (a streamed `exec -t --shell`), its exit
/// status gate's.
async fn open(ctx: &Context, mut words: Vec<String>, fold: bool) -> Result<i32, CliError> {
    let target = words.remove(0);
    if words.first().is_some_and(|w| w == "--") {
        words.remove(0);
    }
    let (user, servers) = parse_target(&target)?;
    let [server] = servers.as_slice() else {
        return Err(CliError::usage("websh opens a terminal on one server"));
    };
    if !words.is_empty() {
        let mut exec_words = vec![target.clone(), "--".to_owned()];
        exec_words.extend(words);
        let args = ExecArgs {
            user: None,
            env: Vec::new(),
            shell: true,
            stdin: false,
            tty: true,
            timeout: None,
            parallel: None,
            log_dir: None,
            gate_exit_codes: fold,
            all: false,
            request_approval: false,
            words: exec_words,
        };
        return super::exec::run(ctx, args).await;
    }
    let client = ctx.client()?;
    let (cols, rows) = raw::size();
    let opened = client
        .open_websh(&OpenWebsh {
            server: server.clone(),
            cols,
            rows,
            user,
        })
        .await?;
    ctx.out.info(&format!(
        "terminal {} on {server}; ~. after Enter leaves it",
        short(opened.id)
    ));
    stream::run(&client, Target::Own(opened.ws_path), &ctx.out).await
}

/// `websh join URL`: a guest of a shared link; no sign-in needed, the password is asked for.
async fn join(
    ctx: &Context,
    url: &str,
    name: Option<String>,
    password_stdin: bool,
) -> Result<i32, CliError> {
    let (base, secret) = url
        .split_once("/join#")
        .filter(|(base, secret)| !base.is_empty() && !secret.is_empty())
        .ok_or_else(|| CliError::usage("a shared link looks like https://host/join#SECRET"))?;
    let password = if password_stdin {
        prompt::line("")?
    } else {
        prompt::secret("Link password: ")?
    };
    let client = crate::context::build(base, None, None, ca_of(ctx).as_deref())?;
    let target = Target::Guest {
        join: JoinShare {
            secret: secret.to_owned(),
            password,
            name,
            participant: None,
        },
        read_only: true,
    };
    stream::run(&client, target, &ctx.out).await
}

/// The CA file of the profile in use, so a guest trusts the same self-signed server.
fn ca_of(ctx: &Context) -> Option<std::path::PathBuf> {
    match ctx.credentials().ok().flatten()? {
        crate::context::Credentials::Environment { ca, .. } => ca,
        crate::context::Credentials::Profile { profile, .. } => profile.ca,
    }
}

/// `websh share ID`: prints the link; the password stays off the screen unless asked for.
async fn share(
    ctx: &Context,
    id: uuid::Uuid,
    write: bool,
    expires_in: Option<String>,
    show_password: bool,
) -> Result<i32, CliError> {
    let expires_in_secs = expires_in
        .as_deref()
        .map(time::parse_duration)
        .transpose()?
        .map(|d| d.num_seconds().max(0) as u64);
    let created = ctx
        .client()?
        .share_websh(
            id,
            &CreateShare {
                read_only: !write,
                expires_in_secs,
            },
        )
        .await?;
    // A program reading stdout (not a screen) gets the password: it asked for the link.
    let reveal = show_password || !std::io::stdout().is_terminal();
    if ctx.out.json {
        let mut value = serde_json::to_value(&created)
            .map_err(|e| CliError::failed("internal", e.to_string()))?;
        if !reveal {
            value["password"] = serde_json::Value::Null;
        }
        ctx.out.json_value(&value)?;
    } else {
        println!("{}", created.url);
        if reveal {
            println!("{}", created.password);
        }
    }
    if !reveal {
        ctx.out.info(
            "the password is not shown; run again with --show-password to see a new link's, \
             and give it to your guest apart from the link",
        );
    }
    ctx.out.info(&format!(
        "{} until {}",
        if write {
            "guests may type"
        } else {
            "guests watch only"
        },
        when(Some(created.expires_at))
    ));
    Ok(0)
}

/// `websh ls`: live terminals.
async fn ls(ctx: &Context) -> Result<i32, CliError> {
    let page = ctx.client()?.live_terminals().await?;
    ctx.out.data(&page, || {
        let mut table = Table::new(&[
            "ID", "SERVER", "OWNER", "AS", "STARTED", "WATCHING", "LINKS",
        ]);
        for t in &page.items {
            table.row(vec![
                t.id.to_string(),
                sanitize(&t.server),
                sanitize(&t.owner.username),
                t.run_as.clone().unwrap_or_else(|| "-".into()),
                when(Some(t.started_at)),
                t.participants.len().to_string(),
                t.active_shares.to_string(),
            ]);
        }
        table
    })?;
    Ok(0)
}
