//! `websh`: a terminal on a server, a shared link's terminal, and the owner's share/ls/close.

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct WebshArgs {
    #[command(subcommand)]
    pub action: Option<WebshCommand>,
    /// `[USER@]SERVER`, then an optional command to run instead of a login shell.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "[USER@]SERVER [CMD]"
    )]
    pub words: Vec<String>,
    /// With a command: fold any remote failure into exit code 1 (also `GATE_EXIT_CODES=1`).
    #[arg(long, env = "GATE_EXIT_CODES", value_parser = clap::builder::FalseyValueParser::new())]
    pub gate_exit_codes: bool,
}

#[derive(Debug, Subcommand)]
pub enum WebshCommand {
    /// Join a shared terminal link as a guest (the password is asked for, never an argument).
    Join {
        /// The link, `https://host/join#SECRET`.
        url: String,
        /// How the others see you.
        #[arg(long)]
        name: Option<String>,
        /// Read the password from standard input instead of the terminal.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Share one of your live terminals: prints the link; the password only with
    /// `--show-password` (or when standard output is not a terminal).
    Share {
        /// The terminal's id (`gate websh ls`).
        id: uuid::Uuid,
        /// Let guests type (default: they only watch).
        #[arg(long)]
        write: bool,
        /// How long the link works, such as `30m` (5 minutes to 3 hours).
        #[arg(long)]
        expires_in: Option<String>,
        /// Print the password on the screen too.
        #[arg(long)]
        show_password: bool,
    },
    /// Watch a live terminal read-only (staff; its owner is told).
    Watch { id: uuid::Uuid },
    /// Live terminals: yours (staff: everyone's).
    #[command(visible_alias = "list")]
    Ls,
    /// End a terminal (yours, or any as staff).
    Close { id: uuid::Uuid },
}
