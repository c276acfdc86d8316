//! `gatehouse-agent`: runs on a managed server, dials out to the Gatehouse server over WSS and
//! serves terminals, commands and file operations. It never listens on a port.

mod argv;
mod config;
mod exec;
mod files;
mod flow;
mod host;
mod link;
mod loadtest;
mod pty;
mod register;
mod runas;
mod signals;
mod tls;
mod tunnel;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(name = "gatehouse-agent", version, about = "The Gatehouse agent")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Exchange a registration token for this agent's credential and write the config (0600).
    Register {
        /// Server base URL, e.g. https://gatehouse.example.com (http only to loopback).
        #[arg(long)]
        server: String,
        /// The one-time registration token from the console or `POST /api/servers/registration-tokens`.
        #[arg(long, env = "GATEHOUSE_REGISTRATION_TOKEN")]
        token: String,
        /// The server name to register as (default: the host name).
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
        /// PEM CA certificate that signed the server's certificate.
        #[arg(long)]
        ca: Option<PathBuf>,
    },
    /// Load-test mode: register `count` agents named `<prefix><n>` and run all their links from
    /// this one process (for fan-out and memory benchmarks; nothing is written to disk).
    LoadTest {
        #[arg(long)]
        server: String,
        #[arg(long, env = "GATEHOUSE_REGISTRATION_TOKEN")]
        token: String,
        #[arg(long)]
        count: usize,
        #[arg(long, default_value = "load-")]
        prefix: String,
        #[arg(long)]
        ca: Option<PathBuf>,
    },
    /// Connect to the server and serve until stopped.
    Run {
        #[arg(long)]
        config: Option<PathBuf>,
        /// How long a terminal outlives a dropped link, in seconds.
        #[arg(long, default_value_t = 300)]
        grace_secs: u64,
        /// A directory file operations may touch (repeatable; replaces the config's
        /// `file_roots`; default `/`). Symlinks never lead out of these.
        #[arg(long = "file-root", value_name = "DIR")]
        file_roots: Vec<PathBuf>,
        /// A `host:port` target tunnels may reach (`host:*` for any port; repeatable; replaces
        /// the config's `tunnel_allow`). Default: loopback only (127.0.0.1, ::1, localhost),
        /// whatever the gateway allows.
        #[arg(long = "tunnel-allow", value_name = "HOST:PORT")]
        tunnel_allow: Vec<String>,
        /// MiB/s all file transfers together may use while someone types in a terminal on this
        /// server (within a second of a keystroke), so the echo stays quick; 0 = no cap.
        #[arg(long, value_name = "MIB", default_value_t = files::pace::DEFAULT_TYPING_RATE_MIB)]
        typing_file_rate: u64,
        /// Create a person's own account on first use (locked password, home directory, login
        /// shell); needs root. Without it, a missing account is refused with a message naming it.
        #[arg(long)]
        provision_users: bool,
    },
    /// Internal: runs one file operation for the agent, as the run-as user the agent started it
    /// as, over stdin/stdout.
    #[command(hide = true)]
    FileWorker,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Command::FileWorker = cli.command {
        // Synchronous and short-lived: no runtime needed.
        return files::worker::main();
    }
    // Before any thread exists: what this agent was started ignoring, its shells must not be.
    signals::catch_ignored_signals();
    // One thread: the agent is I/O-bound, and keeping every hand-off on one thread saves the
    // cross-thread wake-ups a keystroke echo would otherwise pay for at each hop. The load test
    // stands for many machines, which start their commands in parallel: a thread per core, so
    // one process's start (the parent waits until the child has executed) does not hold up
    // every other simulated machine's.
    let mut builder = if matches!(cli.command, Command::LoadTest { .. }) {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: Result<(), String> = runtime.block_on(async move {
        match cli.command {
            Command::Register {
                server,
                token,
                name,
                config,
                ca,
            } => {
                let path = config.unwrap_or_else(config::default_path);
                let args = register::RegisterArgs {
                    server: &server,
                    token: &token,
                    name,
                    ca,
                    config: &path,
                };
                let saved = register::register(args).await?;
                println!(
                    "registered as {} (agent {}); config written to {}",
                    saved.name,
                    saved.agent_id,
                    path.display()
                );
                Ok(())
            }
            Command::LoadTest {
                server,
                token,
                count,
                prefix,
                ca,
            } => loadtest::run(&server, &token, count, &prefix, ca).await,
            Command::FileWorker => Ok(()),
            Command::Run {
                config,
                grace_secs,
                file_roots,
                tunnel_allow,
                typing_file_rate,
                provision_users,
            } => {
                if provision_users {
                    runas::enable_provisioning();
                    tracing::info!("creating people's own accounts on first use");
                }
                let path = config.unwrap_or_else(config::default_path);
                let mut loaded = config::load(&path)?;
                if !file_roots.is_empty() {
                    loaded.file_roots = file_roots;
                }
                if !tunnel_allow.is_empty() {
                    loaded.tunnel_allow = tunnel_allow;
                }
                let agent = link::Agent::new(
                    loaded,
                    Duration::from_secs(grace_secs.max(1)),
                    typing_file_rate,
                )?;
                agent.run().await;
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
