//! `login`, `mfa` and `token` verbs.

use clap::{Args, Subcommand, ValueEnum};
use gatehouse_shared::acl::FileAction;
use gatehouse_shared::Scope;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The server, such as `https://gate.example.com` (default: `GATE_URL`, else the profile's).
    pub url: Option<String>,
    /// Sign in with an API token.
    #[arg(short = 't', long, conflicts_with_all = ["token_stdin", "password"])]
    pub token: Option<String>,
    /// Read the API token from standard input.
    #[arg(long, conflicts_with = "password")]
    pub token_stdin: bool,
    /// Sign in with username and password (and a one-time code when asked).
    #[arg(long)]
    pub password: bool,
    /// The username for `--password` (default: asked).
    #[arg(long, short = 'u', requires = "password")]
    pub username: Option<String>,
    /// Do not try to open a browser for the device flow.
    #[arg(long)]
    pub no_browser: bool,
    /// A PEM CA file to trust for this server (a self-signed gateway); also `GATE_CA`.
    #[arg(long, env = "GATE_CA")]
    pub ca: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum MfaCommand {
    /// Prove a one-time code on this sign-in (asked when not given).
    Verify { otp: Option<String> },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token (its secret is printed once, to stdout).
    Create {
        name: String,
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
    /// Your tokens (`--all`: every token, superusers).
    #[command(visible_alias = "list")]
    Ls {
        #[arg(long)]
        all: bool,
    },
    /// Revoke a token (id or name).
    Rm { token: String },
    /// A token's rules: servers, commands, files, tunnels.
    Acl {
        #[arg(value_enum)]
        kind: AclKind,
        #[command(subcommand)]
        action: AclAction,
    },
}

/// The four kinds of token rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AclKind {
    Servers,
    Commands,
    Files,
    Tunnels,
}

#[derive(Debug, Subcommand)]
pub enum AclAction {
    /// Grant a rule (superusers): servers PATTERN, commands PATTERN, files PATH, tunnels PORT.
    Add {
        /// The token (id or name).
        token: String,
        /// The pattern, path or port.
        rule: String,
        /// Run-as account (commands, files): omitted = the principal's own, `*` = any but root.
        #[arg(long, short = 'u')]
        user: Option<String>,
        /// File action (files).
        #[arg(long, value_enum)]
        action: Option<FileActionArg>,
        /// Host (tunnels; default 127.0.0.1).
        #[arg(long)]
        host: Option<String>,
    },
    /// The token's rules of this kind.
    #[command(visible_alias = "list")]
    Ls { token: String },
    /// Remove a rule by its id.
    Rm { token: String, rule: uuid::Uuid },
    /// Ask the gate what it would decide for an operation, explained.
    Test {
        token: String,
        #[arg(long)]
        server: String,
        /// The scope (default from the kind: commands → command, files → webftp, tunnels → tunnel).
        #[arg(long)]
        scope: Option<Scope>,
        #[arg(long, short = 'u')]
        user: Option<String>,
        /// A file path (files).
        #[arg(long)]
        path: Option<String>,
        #[arg(long, value_enum)]
        action: Option<FileActionArg>,
        /// A port (tunnels).
        #[arg(long)]
        port: Option<u16>,
        #[arg(long)]
        host: Option<String>,
        /// The command as argv (commands), after `--`.
        #[arg(last = true)]
        argv: Vec<String>,
    },
}

/// What a file rule allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FileActionArg {
    Upload,
    Download,
    Any,
}

impl From<FileActionArg> for FileAction {
    fn from(a: FileActionArg) -> Self {
        match a {
            FileActionArg::Upload => FileAction::Upload,
            FileActionArg::Download => FileAction::Download,
            FileActionArg::Any => FileAction::Any,
        }
    }
}
