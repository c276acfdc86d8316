//! The command line's own checks: every `next_actions` command the server suggests parses here,
//! and parse errors are usage errors.

use super::Cli;
use clap::Parser;

/// Splits a suggested command line as a POSIX shell would (quotes, no expansion).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    assert!(quote.is_none(), "unbalanced quote in {line:?}");
    if in_word {
        words.push(word);
    }
    words
}

#[test]
fn every_suggested_next_action_is_a_command_gate_accepts() {
    let samples = gatehouse_shared::next_action::samples();
    assert!(samples.len() > 10);
    for line in samples {
        let words = shell_words(&line);
        assert_eq!(words[0], "gate", "{line}");
        if let Err(e) = Cli::try_parse_from(&words) {
            panic!("`{line}` does not parse: {e}");
        }
    }
}

#[test]
fn the_old_spellings_of_list_and_show_still_parse() {
    for line in [
        "gate work-session list --user me",
        "gate session show 00000000-0000-0000-0000-000000000000",
        "gate approval list",
    ] {
        Cli::try_parse_from(shell_words(line)).unwrap_or_else(|e| panic!("{line}: {e}"));
    }
}

#[test]
fn bad_command_lines_are_refused() {
    for line in [
        "gate",
        "gate frobnicate",
        "gate work-session create --purpose x --server web-01",
        "gate work-session create --purpose x --scope root --server web-01",
        "gate work-session describe not-a-uuid",
        "gate exec",
        "gate --output yaml whoami",
        "gate login -t x --password",
    ] {
        assert!(
            Cli::try_parse_from(shell_words(line)).is_err(),
            "{line} parsed"
        );
    }
}

#[test]
fn exec_takes_flags_before_the_target_and_anything_after_it() {
    let cli = Cli::try_parse_from(shell_words(
        "gate exec -u deploy --env A=1 web-01 -- ls -la --color",
    ))
    .unwrap();
    let super::Command::Exec(args) = cli.command else {
        panic!("not exec");
    };
    assert_eq!(args.user.as_deref(), Some("deploy"));
    // The `--` is kept after the target; `exec` drops it (see `commands::exec::split_words`).
    assert_eq!(args.words, ["web-01", "--", "ls", "-la", "--color"]);
    let cli = Cli::try_parse_from(shell_words("gate exec web-01 uname -a")).unwrap();
    let super::Command::Exec(args) = cli.command else {
        panic!("not exec");
    };
    assert_eq!(args.words, ["web-01", "uname", "-a"]);
}

#[test]
fn the_clap_definition_is_consistent() {
    use clap::CommandFactory;
    Cli::command().debug_assert();
}
