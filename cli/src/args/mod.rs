//! The command line as clap parses it: global flags, then one verb. Names, flags and aliases
//! are a contract (scripts and AI agents call them): add, never rename.

mod access;
mod files;
mod ops;
mod session;
mod tunnel;
mod websh;

pub use access::{AclAction, AclKind, LoginArgs, MfaCommand, TokenCommand};
pub use files::{CpArgs, EditArgs, PlayArgs};
pub use ops::{AuditArgs, AuditCommand, ExecArgs, ServerCommand};
pub use session::{ApprovalCommand, CreateArgs, SessionCommand};
pub use tunnel::TunnelArgs;
pub use websh::{WebshArgs, WebshCommand};

use clap::{Args, Parser, Subcommand, ValueEnum};
use gatehouse_shared::WorkSessionId;

/// gate: the Gatehouse command line. stdout carries data only; messages and errors go to stderr.
#[derive(Debug, Parser)]
#[command(name = "gate", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// How data is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// Flags every verb takes.
#[derive(Debug, Args)]
pub struct Global {
    /// How to print data (and, with `json`, errors: one envelope object on stderr).
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Short for `--output json`.
    #[arg(long, global = true)]
    pub json: bool,
    /// The profile to use (its credentials and selected work session).
    #[arg(long, global = true, env = "GATE_PROFILE")]
    pub profile: Option<String>,
    /// Print no progress messages (errors still go to stderr).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Never colour output (also `NO_COLOR`).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// The work session gated calls use (else `GATE_WORK_SESSION`, else the profile's `use`d one).
    #[arg(long, global = true, env = "GATE_WORK_SESSION")]
    pub work_session: Option<WorkSessionId>,
}

impl Global {
    pub fn json(&self) -> bool {
        self.json || self.output == Format::Json
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in: a device-flow browser approval (default), an API token, or a password.
    Login(LoginArgs),
    /// Sign out and forget this profile's credentials, even when the server is unreachable.
    Logout,
    /// Who the credentials belong to, and the work session in use.
    Whoami,
    /// Request, decide and use work sessions.
    #[command(subcommand, name = "work-session", visible_alias = "session")]
    WorkSession(SessionCommand),
    /// The approvals queue: new sessions, extensions and single root commands.
    #[command(subcommand)]
    Approval(ApprovalCommand),
    /// Step-up MFA for this sign-in.
    #[command(subcommand)]
    Mfa(MfaCommand),
    /// Run a command on one or more servers.
    Exec(ExecArgs),
    /// A terminal on a server (raw mode, resizes, `~.` after Enter leaves), or a shared one.
    Websh(WebshArgs),
    /// Copy files to or from a server (`[USER@]SERVER:PATH` on one side), streamed and checked.
    Cp(CpArgs),
    /// Edit a file on a server with $VISUAL or $EDITOR; saved back only if it changed here and
    /// not on the server meanwhile.
    Edit(EditArgs),
    /// Forward local TCP ports through the gateway to services on or near a server
    /// (`-l LPORT -r RPORT`, or `-L [BIND:]LPORT:HOST:RPORT`), optionally around a command.
    Tunnel(TunnelArgs),
    /// Replay a recorded terminal on standard output.
    Play(PlayArgs),
    /// Servers you can reach.
    #[command(subcommand)]
    Server(ServerCommand),
    /// API tokens and their ACLs.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The audit log: list, follow, verify, export.
    Audit(AuditArgs),
    /// A Model Context Protocol server on stdin/stdout, for AI agents: the API's calls as
    /// tools, with these credentials and the same gate.
    Mcp,
    /// Print a shell completion script.
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// This client's version and, when a server is configured, the server's.
    Version,
}

#[cfg(test)]
mod tests;
