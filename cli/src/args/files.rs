//! `cp`, `edit` and `play`: files on servers and recorded terminals.

use clap::Args;

#[derive(Debug, Args)]
pub struct CpArgs {
    /// Copy directories and everything in them, keeping permission bits.
    #[arg(short = 'r', long)]
    pub recursive: bool,
    /// Keep modification times and permission bits.
    #[arg(short = 'p', long)]
    pub preserve: bool,
    /// Never overwrite: an existing destination is skipped with a message (not an error).
    #[arg(short = 'n', long)]
    pub no_clobber: bool,
    /// Run as this account on the server (also `USER@SERVER:PATH`).
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Sources, then the destination: `[USER@]SERVER:PATH` on one side, `-` for standard
    /// input (upload) or standard output (download).
    #[arg(required = true, num_args = 2.., value_name = "SRC… DST", allow_hyphen_values = true)]
    pub paths: Vec<String>,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// `[USER@]SERVER:PATH`.
    pub target: String,
    /// Run as this account on the server (also `USER@SERVER:PATH`).
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Save even if the file changed on the server since it was opened.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct PlayArgs {
    /// The terminal's id (`gate websh ls`, the console's recordings).
    pub id: uuid::Uuid,
    /// Play this many times faster (`0.5` is half speed).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Shorten pauses to at most SECS seconds (1 when no value is given), before `--speed`.
    #[arg(long, value_name = "SECS", num_args = 0..=1, default_missing_value = "1")]
    pub skip_idle: Option<f64>,
}
