//! `gate`: the Gatehouse command-line client. Parses the command line, runs one verb, and exits
//! with the contract's code (0 ok, 1 error, 2 usage, 3 gate denied, 4 pending approval, 5 busy,
//! 6 decided against you).

mod args;
mod commands;
mod config;
mod context;
mod exit;
mod output;
mod progress;
mod prompt;
mod time;
mod wait;

use args::Cli;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};
use context::Context;
use exit::CliError;
use output::Output;
use std::ffi::OsString;

fn main() {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let (cli, on_command_line) = match parse(&argv) {
        Ok(parsed) => parsed,
        Err(e) => std::process::exit(usage_error(&argv, e)),
    };
    let g = &cli.global;
    let out = Output::new(g.json(), g.quiet, g.no_color);
    let ctx = Context::new(
        out.clone(),
        g.profile.clone(),
        g.work_session,
        on_command_line,
    );
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            out.error(&CliError::failed("internal", e.to_string()));
            std::process::exit(gatehouse_client::exit::ERROR);
        }
    };
    let code = match runtime.block_on(commands::run(&ctx, cli.command)) {
        Ok(code) => code,
        Err(mut e) => {
            suggest_signing_in(&mut e);
            out.error(&e);
            e.exit_code
        }
    };
    std::process::exit(code);
}

/// A credential the server no longer takes (expired, revoked, signed out elsewhere) is fixed by
/// signing in again: say so when the server suggested nothing.
fn suggest_signing_in(e: &mut CliError) {
    let empty = e.envelope["next_actions"]
        .as_array()
        .is_none_or(|a| a.is_empty());
    if e.error_code() == "unauthenticated" && empty {
        e.envelope["next_actions"] = serde_json::json!(["gate login"]);
    }
}

/// Parses the command line; also says whether `--work-session` came from it (not the
/// environment), which `audit` needs.
fn parse(argv: &[OsString]) -> Result<(Cli, bool), clap::Error> {
    let matches = Cli::command().try_get_matches_from(argv)?;
    let cli = Cli::from_arg_matches(&matches)?;
    let mut m = &matches;
    let mut on_command_line = false;
    loop {
        if m.try_contains_id("work_session").unwrap_or(false)
            && m.value_source("work_session") == Some(ValueSource::CommandLine)
        {
            on_command_line = true;
        }
        match m.subcommand() {
            Some((_, sub)) => m = sub,
            None => break,
        }
    }
    Ok((cli, on_command_line))
}

/// Reports a parse error (help and `--version` are not errors); returns the exit code.
fn usage_error(argv: &[OsString], e: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            gatehouse_client::exit::USAGE
        } else {
            gatehouse_client::exit::OK
        };
    }
    if wants_json(argv) {
        let message = e.kind().to_string();
        let detail = e.to_string();
        let first = detail
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or(&message)
            .trim_start_matches("error: ")
            .to_owned();
        Output::new(true, false, true).error(&CliError::usage(first));
    } else {
        let _ = e.print();
    }
    gatehouse_client::exit::USAGE
}

/// Whether the (unparsable) command line asked for JSON, so even a usage error is one object.
fn wants_json(argv: &[OsString]) -> bool {
    let words: Vec<&str> = argv.iter().filter_map(|a| a.to_str()).collect();
    words
        .iter()
        .any(|w| *w == "--json" || *w == "--output=json")
        || words
            .windows(2)
            .any(|w| w[0] == "--output" && w[1] == "json")
}
