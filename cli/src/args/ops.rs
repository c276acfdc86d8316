//! `exec`, `server` and `audit` verbs.

use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Run as this account on the servers (default: your own; `root` needs the sudo scope).
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// An environment variable, `K=V` (or `K` to pass this shell's value); repeatable.
    #[arg(long = "env", value_name = "K[=V]")]
    pub env: Vec<String>,
    /// Run the words as one shell command line (`command`) instead of an argv.
    #[arg(long)]
    pub shell: bool,
    /// Send standard input to the command (needs the streaming exec).
    #[arg(long)]
    pub stdin: bool,
    /// Give the command a terminal (needs the streaming exec).
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Time limit per run, such as `30s` or `5m`.
    #[arg(long)]
    pub timeout: Option<String>,
    /// At most this many servers at a time.
    #[arg(long)]
    pub parallel: Option<usize>,
    /// Write each server's output to `<server>.stdout` and `<server>.stderr` here.
    #[arg(long)]
    pub log_dir: Option<PathBuf>,
    /// Fold any remote failure into exit code 1 (also `GATE_EXIT_CODES=1`).
    #[arg(long, env = "GATE_EXIT_CODES", value_parser = clap::builder::FalseyValueParser::new())]
    pub gate_exit_codes: bool,
    /// Every server of the work session (then all words are the command).
    #[arg(long)]
    pub all: bool,
    /// When a root command is outside the session's declared ones, ask a superuser (exit 4).
    #[arg(long)]
    pub request_approval: bool,
    /// `[USER@]SERVER[,SERVER…]`, then the command (`--` before it when it has flags).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "[USER@]SERVER[,SERVER…] [--] ARGV"
    )]
    pub words: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Servers, with their connection state.
    #[command(visible_alias = "list")]
    Ls {
        /// Text in the name.
        #[arg(long)]
        query: Option<String>,
    },
    /// One server (name or id).
    #[command(visible_alias = "show")]
    Describe { server: String },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Since a time (RFC 3339) or a duration ago (`1h`, `7d`).
    #[arg(long, global = true)]
    pub since: Option<String>,
    /// By this username.
    #[arg(long, global = true)]
    pub user: Option<String>,
    #[arg(long, global = true)]
    pub server: Option<String>,
    /// An action (`exec.run`) or a prefix ending in `*` (`work_session.*`).
    #[arg(long, global = true)]
    pub action: Option<String>,
    // `--work-session ID` filters too: it is the global flag (taken only from the command line
    // here, so a `GATE_WORK_SESSION` set for gated calls does not narrow the log).
    /// Only the last N events.
    #[arg(long)]
    pub tail: Option<u32>,
    /// Keep printing new events as they are written.
    #[arg(short = 'f', long)]
    pub follow: bool,
    #[command(subcommand)]
    pub command: Option<AuditCommand>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain.
    Verify,
    /// The events as JSON Lines, in chain order.
    Export,
}
