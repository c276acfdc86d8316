//! `gate`: the Gatehouse command-line client.

use clap::Parser;

/// The Gatehouse command-line client.
#[derive(Debug, Parser)]
#[command(name = "gate", version, about)]
struct Cli {}

fn main() {
    let _ = Cli::parse();
    eprintln!(
        "gate {}: no commands in this build yet",
        env!("CARGO_PKG_VERSION")
    );
    std::process::exit(2);
}
