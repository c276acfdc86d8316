//! `gatehouse-agent`: runs on a managed server and connects out to the Gatehouse server.
//!
//! The agent link (register, run, PTY/exec/file channels) is built in the agent issue; until
//! then this binary only reports its version so packaging and CI can already build it.

use clap::Parser;

/// The Gatehouse agent.
#[derive(Debug, Parser)]
#[command(name = "gatehouse-agent", version, about)]
struct Cli {}

fn main() {
    let _ = Cli::parse();
    eprintln!(
        "gatehouse-agent {}: the agent link is not part of this build yet",
        env!("CARGO_PKG_VERSION")
    );
    std::process::exit(1);
}
