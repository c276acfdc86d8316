//! `gate exec [-u USER] [--env K=V] [--shell] … [USER@]SERVER[,SERVER…] [--] ARGV…`: runs a
//! command on servers. Sent as an argv (no shell) unless `--shell`. One server: its stdout and
//! stderr pass through untouched and its exit code becomes gate's (`--gate-exit-codes` folds
//! failures to 1). Several: each line is prefixed `server | ` on its own stream, a summary goes
//! to stderr, and gate exits 0 only when every run succeeded.

use super::exec_transport;
use crate::args::ExecArgs;
use crate::context::{Context, Credentials};
use crate::exit::CliError;
use crate::output::sanitize;
use crate::prompt;
use crate::time::parse_duration;
use gatehouse_client::{exit, Accepted, Client};
use gatehouse_shared::exec::{ExecRequest, ExecRun, RunStatus};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

pub async fn run(ctx: &Context, args: ExecArgs) -> Result<i32, CliError> {
    let creds = ctx.require_credentials()?;
    let client = ctx.client_for(&creds)?;
    let (target, words) = split_words(args.words.clone(), args.all);
    let (target_user, servers) = match target {
        None => (None, session_servers(ctx, &creds, &client).await?),
        Some(target) => parse_target(&target)?,
    };
    let user = match (args.user.clone(), target_user) {
        (Some(a), Some(b)) if a != b => {
            return Err(CliError::usage(format!(
                "-u {a} and {b}@ name different accounts"
            )))
        }
        (a, b) => a.or(b),
    };
    if (args.stdin || args.tty) && servers.len() != 1 {
        return Err(CliError::usage(
            "--stdin and -t take exactly one server: input cannot go to several",
        ));
    }
    if words.is_empty() {
        return Err(CliError::usage(
            "no command: `gate exec SERVER -- PROGRAM ARGS…`",
        ));
    }
    let (command, argv) = if args.shell {
        (words.join(" "), None)
    } else {
        (String::new(), Some(words))
    };
    let request = ExecRequest {
        servers: Vec::new(),
        command,
        argv,
        request_approval: args.request_approval,
        user,
        env: environment(&args.env)?,
        timeout_secs: args
            .timeout
            .as_deref()
            .map(parse_duration)
            .transpose()?
            .map(|d| d.num_seconds() as u64),
        // A terminal is interactive: what is typed goes to it.
        stdin: args.stdin || args.tty,
        tty: args.tty,
        cols: args.tty.then(|| super::websh::raw::size().0),
        rows: args.tty.then(|| super::websh::raw::size().1),
        stream: true,
    };
    let single = servers.len() == 1;
    // Output is shown as it arrives, unless it is wanted whole at the end.
    let live = exec_transport::Live {
        prefix: !single,
        collect: ctx.out.json || args.log_dir.is_some(),
    };
    let batch = args.parallel.unwrap_or(servers.len()).max(1);
    let mut runs: Vec<ExecRun> = Vec::new();
    for chunk in servers.chunks(batch) {
        let asked = ExecRequest {
            servers: chunk.to_vec(),
            ..request.clone()
        };
        match run_answering_step_up(ctx, &client, &asked, live).await? {
            Accepted::Done(done) => runs.extend(done),
            Accepted::Pending(p) => return Err(super::session::pending(ctx, &p)?),
        }
    }
    // Report in the order asked, whatever order the server listed them in.
    runs.sort_by_key(|r| servers.iter().position(|s| *s == r.server));
    if let Some(dir) = &args.log_dir {
        write_logs(dir, &runs)?;
    }
    let code = exit_code(&runs, single, args.gate_exit_codes);
    if ctx.out.json {
        let runs: Vec<_> = runs
            .iter()
            .map(|r| {
                json!({
                    "server": r.server, "status": r.status, "remote_exit_code": r.exit_code,
                    "stdout": r.stdout, "stderr": r.stderr, "duration_ms": r.duration_ms,
                    "error": r.error,
                })
            })
            .collect();
        ctx.out
            .json_value(&json!({"runs": runs, "exit_code": code}))?;
        return Ok(code);
    }
    if live.collect {
        print_collected(&runs, single)?;
    }
    if single {
        if let Some(problem) = runs.first().and_then(|run| Some((run, problem(run)?))) {
            ctx.out
                .warn(&format!("{}: {}", problem.0.server, problem.1));
        }
    } else {
        ctx.out.info(&summary(&runs));
    }
    Ok(code)
}

/// Output kept for `--log-dir` is shown at the end, as it would have been live.
fn print_collected(runs: &[ExecRun], single: bool) -> Result<(), CliError> {
    if single {
        if let Some(run) = runs.first() {
            std::io::stdout().write_all(run.stdout.as_bytes())?;
            std::io::stdout().flush()?;
            std::io::stderr().write_all(run.stderr.as_bytes())?;
        }
    } else {
        let width = runs.iter().map(|r| r.server.len()).max().unwrap_or(0);
        let mut out = std::io::stdout().lock();
        for r in runs {
            for line in r.stdout.lines() {
                writeln!(out, "{:width$} | {line}", r.server)?;
            }
        }
        out.flush()?;
        let mut err = std::io::stderr().lock();
        for r in runs {
            for line in r.stderr.lines() {
                writeln!(err, "{:width$} | {line}", r.server)?;
            }
        }
    }
    Ok(())
}

/// Runs one batch; a step-up MFA refusal is answered at a terminal (a code asked without echo,
/// verified, then the batch sent again once). Elsewhere it stays a refusal (exit 3): a script
/// runs `gate mfa verify` first.
async fn run_answering_step_up(
    ctx: &Context,
    client: &Client,
    asked: &ExecRequest,
    live: exec_transport::Live,
) -> Result<Accepted<Vec<ExecRun>>, CliError> {
    match exec_transport::run_batch(client, asked, live, &ctx.out).await {
        Err(e)
            if e.error_code() == "mfa_step_up_required" && !ctx.out.json && prompt::can_ask() =>
        {
            ctx.out.info(e.message());
            let otp = prompt::secret("One-time code: ")?;
            client.mfa_verify(otp.trim()).await?;
            exec_transport::run_batch(client, asked, live, &ctx.out).await
        }
        other => other,
    }
}

/// The target (unless `--all`) and the command, without the `--` that may separate them.
fn split_words(mut words: Vec<String>, all: bool) -> (Option<String>, Vec<String>) {
    let target = (!all && !words.is_empty()).then(|| words.remove(0));
    if words.first().is_some_and(|w| w == "--") {
        words.remove(0);
    }
    (target, words)
}

/// `[USER@]SERVER[,SERVER…]`.
pub(super) fn parse_target(target: &str) -> Result<(Option<String>, Vec<String>), CliError> {
    let (user, list) = match target.split_once('@') {
        Some((user, list)) if !user.is_empty() => (Some(user.to_owned()), list),
        Some(_) => return Err(CliError::usage(format!("{target:?}: empty user before @"))),
        None => (None, target),
    };
    let servers: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if servers.is_empty() {
        return Err(CliError::usage(format!("{target:?} names no server")));
    }
    Ok((user, servers))
}

/// The servers of the work session calls use (`--all`).
async fn session_servers(
    ctx: &Context,
    creds: &Credentials,
    client: &Client,
) -> Result<Vec<String>, CliError> {
    let session = match ctx.selected_session(creds) {
        Some(id) => client.work_session(id).await?,
        None => client.whoami().await?.active_work_session.ok_or_else(|| {
            CliError::usage(
                "--all needs a work session: select one with `gate work-session use ID`",
            )
        })?,
    };
    Ok(session.servers.into_iter().map(|s| s.name).collect())
}

/// `--env K=V`, or `--env K` for this shell's value of K.
fn environment(pairs: &[String]) -> Result<Option<BTreeMap<String, String>>, CliError> {
    if pairs.is_empty() {
        return Ok(None);
    }
    let mut env = BTreeMap::new();
    for pair in pairs {
        let (k, v) = match pair.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => {
                let v = std::env::var(pair)
                    .map_err(|_| CliError::usage(format!("--env {pair}: not set in this shell")))?;
                (pair.clone(), v)
            }
        };
        if k.is_empty() {
            return Err(CliError::usage(format!("--env {pair:?}: empty name")));
        }
        env.insert(k, v);
    }
    Ok(Some(env))
}

/// The contract's exit: one server passes its exit code through (unless folded); several
/// exit 0 only when all succeeded; a run with no exit code (timed out, error) is 1.
fn exit_code(runs: &[ExecRun], single: bool, fold: bool) -> i32 {
    if single {
        return match runs.first().and_then(|r| r.exit_code) {
            Some(0) => exit::OK,
            Some(_) if fold => exit::ERROR,
            Some(code) if (1..=255).contains(&code) => code,
            _ => exit::ERROR,
        };
    }
    if runs.iter().all(|r| r.exit_code == Some(0)) {
        exit::OK
    } else {
        exit::ERROR
    }
}

fn problem(run: &ExecRun) -> Option<String> {
    match run.status {
        RunStatus::TimedOut => Some("timed out".into()),
        RunStatus::Error => Some(run.error.clone().unwrap_or_else(|| "failed to run".into())),
        RunStatus::Running => Some("still running".into()),
        RunStatus::Succeeded | RunStatus::Failed => None,
    }
}

fn summary(runs: &[ExecRun]) -> String {
    let failed = runs.iter().filter(|r| r.exit_code != Some(0)).count();
    let each: Vec<String> = runs
        .iter()
        .map(|r| match (r.exit_code, problem(r)) {
            (_, Some(p)) => format!("{}: {}", r.server, sanitize(&p)),
            (Some(code), None) => format!("{}: exit {code}", r.server),
            (None, None) => format!("{}: no exit code", r.server),
        })
        .collect();
    format!(
        "{} of {} servers succeeded ({})",
        runs.len() - failed,
        runs.len(),
        each.join(", ")
    )
}

/// `<server>.stdout` and `<server>.stderr` in `dir`.
fn write_logs(dir: &Path, runs: &[ExecRun]) -> Result<(), CliError> {
    std::fs::create_dir_all(dir)?;
    for r in runs {
        // Server names are [A-Za-z0-9._-]; still, never let one name a path elsewhere.
        if r.server.is_empty() || r.server.contains('/') || r.server.starts_with('.') {
            return Err(CliError::failed(
                "bad_response",
                format!("unsafe server name {:?}", r.server),
            ));
        }
        std::fs::write(dir.join(format!("{}.stdout", r.server)), &r.stdout)?;
        std::fs::write(dir.join(format!("{}.stderr", r.server)), &r.stderr)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(server: &str, code: Option<i32>) -> ExecRun {
        ExecRun {
            server: server.into(),
            status: if code == Some(0) {
                RunStatus::Succeeded
            } else {
                RunStatus::Failed
            },
            exit_code: code,
            stdout: String::new(),
            stderr: String::new(),
            duration_ms: None,
            error: None,
        }
    }

    #[test]
    fn targets_name_an_account_and_servers() {
        assert_eq!(
            parse_target("web-01").unwrap(),
            (None, vec!["web-01".to_owned()])
        );
        assert_eq!(
            parse_target("deploy@web-01,web-02").unwrap(),
            (
                Some("deploy".to_owned()),
                vec!["web-01".to_owned(), "web-02".to_owned()]
            )
        );
        assert_eq!(parse_target("@web-01").unwrap_err().exit_code, 2);
        assert_eq!(parse_target(",").unwrap_err().exit_code, 2);
    }

    #[test]
    fn the_separator_after_the_target_is_dropped_once() {
        let w = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            split_words(w("web-01 -- ls -la"), false),
            (Some("web-01".into()), w("ls -la"))
        );
        assert_eq!(
            split_words(w("web-01 ls -- x"), false),
            (Some("web-01".into()), w("ls -- x"))
        );
        assert_eq!(split_words(w("-- uname"), true), (None, w("uname")));
        assert_eq!(
            split_words(w("web-01"), false),
            (Some("web-01".into()), vec![])
        );
    }

    #[test]
    fn remote_exit_codes_pass_through_or_fold() {
        assert_eq!(exit_code(&[run("a", Some(0))], true, false), 0);
        assert_eq!(exit_code(&[run("a", Some(5))], true, false), 5);
        assert_eq!(exit_code(&[run("a", Some(5))], true, true), 1);
        assert_eq!(exit_code(&[run("a", None)], true, false), 1);
        assert_eq!(
            exit_code(&[run("a", Some(0)), run("b", Some(0))], false, false),
            0
        );
        assert_eq!(
            exit_code(&[run("a", Some(0)), run("b", Some(5))], false, false),
            1
        );
    }
}
