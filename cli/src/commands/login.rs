//! `gate login`: an API token (`-t`, `--token-stdin`), a password (`--password`, for headless
//! use), or by default the device flow (RFC 8628): the person approves this terminal in the
//! console, and the CLI polls at the server's pace. The credential is checked with `whoami`
//! before it is stored, so a profile never holds one that does not work.

use crate::args::LoginArgs;
use crate::config::{CredentialKind, Profile};
use crate::context::{self, Context};
use crate::exit::CliError;
use crate::prompt;
use gatehouse_client::{Client, ClientError};
use gatehouse_shared::signin::DeviceToken;
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;
use tokio::time::Instant;

pub async fn run(ctx: &Context, args: LoginArgs) -> Result<i32, CliError> {
    let (path, mut config) = ctx.load_config()?;
    let existing = config.profiles.get(&ctx.profile).cloned();
    let url = args
        .url
        .clone()
        .or_else(|| std::env::var("GATE_URL").ok().filter(|u| !u.is_empty()))
        .or_else(|| existing.as_ref().map(|p| p.url.clone()))
        .ok_or_else(|| CliError::usage("which server? `gate login https://gate.example.com`"))?;
    let url = url.trim_end_matches('/').to_owned();
    let ca = match args
        .ca
        .clone()
        .or_else(|| existing.as_ref().and_then(|p| p.ca.clone()))
    {
        Some(ca) => Some(absolute(ca)?),
        None => None,
    };
    let anonymous = context::build(&url, None, None, ca.as_deref())?;

    let (secret, expires_at) = if let Some(token) = args.token.clone() {
        (token, None)
    } else if args.token_stdin {
        (prompt::line("")?.trim().to_owned(), None)
    } else if args.password {
        let s = password(&anonymous, &args).await?;
        (s.access_token, Some(s.expires_at))
    } else {
        let s = device(ctx, &anonymous, args.no_browser).await?;
        (s.access_token, Some(s.expires_at))
    };
    if secret.is_empty() {
        return Err(CliError::usage("the token is empty"));
    }
    let client = context::build(&url, Some(secret.clone()), None, ca.as_deref())?;
    let me = client.whoami().await?;
    let kind = match me.auth_method.as_str() {
        "api_token" | "service_token" => CredentialKind::ApiToken,
        _ => CredentialKind::Cli,
    };
    let profile = Profile {
        url: url.clone(),
        credential: secret,
        kind,
        expires_at,
        username: Some(me.user.username.clone()),
        work_session: None,
        ca,
    };
    config.profiles.insert(ctx.profile.clone(), profile);
    config.save(&path)?;
    ctx.out.info(&format!(
        "Signed in to {url} as {} ({}); profile {:?}.",
        me.user.username,
        me.auth_method.as_str(),
        ctx.profile
    ));
    if ctx.out.json {
        ctx.out.json_value(&json!({
            "profile": ctx.profile,
            "url": url,
            "user": me.user,
            "auth_method": me.auth_method,
            "expires_at": expires_at,
        }))?;
    }
    Ok(0)
}

fn absolute(path: PathBuf) -> Result<PathBuf, CliError> {
    Ok(if path.is_absolute() {
        path
    } else {
        std::env::current_dir()?.join(path)
    })
}

/// Username and password (and a one-time code when the server asks for one).
async fn password(client: &Client, args: &LoginArgs) -> Result<DeviceToken, CliError> {
    let username = match &args.username {
        Some(u) => u.clone(),
        None => prompt::line("Username: ")?,
    };
    let password = prompt::secret("Password: ")?;
    match client
        .login_cli(&username, &password, None, &client_name())
        .await
    {
        Err(ClientError::Api(e)) if e.error_code == "mfa_required" => {
            let otp = prompt::secret("One-time code: ")?;
            Ok(client
                .login_cli(&username, &password, Some(otp.trim()), &client_name())
                .await?)
        }
        other => Ok(other?),
    }
}

/// The device flow: show the code and link, maybe open a browser, poll until decided.
async fn device(ctx: &Context, client: &Client, no_browser: bool) -> Result<DeviceToken, CliError> {
    let auth = client.device_start(&client_name()).await?;
    ctx.out.info(&format!(
        "To sign in, open {}\nand check that it shows the code {}",
        auth.verification_uri_complete, auth.user_code
    ));
    if !no_browser {
        open_browser(&auth.verification_uri_complete);
    }
    let mut interval = Duration::from_secs(auth.interval.max(1).unsigned_abs());
    let deadline = Instant::now() + Duration::from_secs(auth.expires_in.max(1).unsigned_abs());
    loop {
        tokio::time::sleep(interval).await;
        match client.device_token(&auth.device_code).await {
            Ok(signin) => return Ok(signin),
            Err(ClientError::Api(e)) => match e.error_code.as_str() {
                "authorization_pending" => {}
                // RFC 8628 §3.5: every slow_down adds five seconds, for good.
                "slow_down" => interval += Duration::from_secs(5),
                _ if e.status == 429 => {
                    interval = interval.max(Duration::from_secs(e.retry_after_secs.unwrap_or(5)));
                }
                // expired_token (exit 1), access_denied (exit 6), anything else: as it came.
                _ => return Err(ClientError::Api(e).into()),
            },
            Err(e) => return Err(e.into()),
        }
        if Instant::now() >= deadline {
            return Err(CliError::failed(
                "expired_token",
                "the sign-in request expired before it was approved; run `gate login` again",
            ));
        }
    }
}

/// What the console shows the person approving: this machine.
fn client_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "this machine".into());
    format!("gate on {host}")
}

/// Opens `url` with `$BROWSER` or `xdg-open` when there is one; never fails the sign-in.
fn open_browser(url: &str) {
    let program = std::env::var("BROWSER")
        .ok()
        .and_then(|b| b.split(':').next().map(str::to_owned))
        .filter(|b| !b.trim().is_empty())
        .or_else(|| on_path("xdg-open").then(|| "xdg-open".to_owned()));
    if let Some(program) = program {
        let _ = std::process::Command::new(program)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
}

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()))
}
