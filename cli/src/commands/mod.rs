//! One module per verb; [`run`] dispatches. Each returns the exit code on success (non-zero only
//! where the contract passes a remote exit code through) or a [`CliError`].

mod acl;
mod approval;
mod audit;
mod cp;
mod edit;
mod exec;
mod exec_transport;
mod login;
mod logout;
mod mcp;
mod play;
mod server;
mod session;
mod token;
mod tunnel;
mod version;
mod websh;
mod whoami;

use crate::args::{Cli, Command, MfaCommand};
use crate::context::Context;
use crate::exit::CliError;
use clap::CommandFactory;

pub async fn run(ctx: &Context, command: Command) -> Result<i32, CliError> {
    match command {
        Command::Login(args) => login::run(ctx, args).await,
        Command::Logout => logout::run(ctx).await,
        Command::Whoami => whoami::run(ctx).await,
        Command::WorkSession(cmd) => session::run(ctx, cmd).await,
        Command::Approval(cmd) => approval::run(ctx, cmd).await,
        Command::Mfa(MfaCommand::Verify { otp }) => whoami::mfa_verify(ctx, otp).await,
        Command::Exec(args) => exec::run(ctx, args).await,
        Command::Websh(args) => websh::run(ctx, args).await,
        Command::Cp(args) => cp::run(ctx, args).await,
        Command::Edit(args) => edit::run(ctx, args).await,
        Command::Play(args) => play::run(ctx, args).await,
        Command::Tunnel(args) => tunnel::run(ctx, args).await,
        Command::Server(cmd) => server::run(ctx, cmd).await,
        Command::Token(cmd) => token::run(ctx, cmd).await,
        Command::Audit(args) => audit::run(ctx, args).await,
        Command::Mcp => mcp::run(ctx).await,
        Command::Completion { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "gate", &mut std::io::stdout());
            Ok(0)
        }
        Command::Version => version::run(ctx).await,
    }
}

/// A short id for tables (the 8 hex characters the console shows).
pub fn short(id: impl std::fmt::Display) -> String {
    id.to_string().chars().take(8).collect()
}

/// An optional time for tables.
pub fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_else(|| "-".into())
}
