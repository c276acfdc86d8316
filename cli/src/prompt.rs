//! Asking the person at the terminal: a line, or a secret without echo. When standard input is
//! not a terminal (a script, a pipe), lines are read from it as they come, with no prompt.

use crate::exit::CliError;
use rustix::termios::{self, LocalModes, OptionalActions};
use std::io::{BufRead, IsTerminal, Write};

/// Whether a person can be asked (standard input is a terminal).
pub fn can_ask() -> bool {
    std::io::stdin().is_terminal()
}

/// One line (without its line end), prompting on stderr when stdin is a terminal.
pub fn line(prompt: &str) -> Result<String, CliError> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
    }
    read_line(&mut stdin.lock())
}

/// A secret: on a terminal echo is off while it is typed (and restored, even on error).
pub fn secret(prompt: &str) -> Result<String, CliError> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return read_line(&mut stdin.lock());
    }
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let saved =
        termios::tcgetattr(&stdin).map_err(|e| CliError::failed("io_error", e.to_string()))?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    termios::tcsetattr(&stdin, OptionalActions::Flush, &quiet)
        .map_err(|e| CliError::failed("io_error", e.to_string()))?;
    let read = read_line(&mut stdin.lock());
    let _ = termios::tcsetattr(&stdin, OptionalActions::Flush, &saved);
    eprintln!();
    read
}

fn read_line(input: &mut impl BufRead) -> Result<String, CliError> {
    let mut text = String::new();
    if input.read_line(&mut text)? == 0 {
        return Err(CliError::usage("standard input ended before the answer"));
    }
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}
