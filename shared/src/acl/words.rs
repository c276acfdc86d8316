//! POSIX word splitting of a command string, once, with nothing expanded: quotes and
//! backslashes are honoured, and anything a shell would act on (an unquoted `; & | < > ( ) $`
//! or backquote, a newline, `$` or a backquote even inside double quotes), a NUL or any other
//! control character is refused rather than escaped. What comes out is the argv a shell would
//! have built from a string without expansions, so a token's command string can never do more
//! than the same argv given directly.

use std::fmt;

/// Why a string is not a plain command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    /// A shell metacharacter outside quotes (or an expansion inside double quotes).
    Metacharacter(char),
    /// NUL or another control character (tab excepted, as a separator).
    Control,
    /// A quote opened and not closed, or a trailing backslash.
    Unterminated,
    /// Nothing but blanks.
    Empty,
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SplitError::Metacharacter('\n') => f.write_str("a newline is not allowed"),
            SplitError::Metacharacter(c) => write!(
                f,
                "{c:?} is a shell metacharacter: give the command as argv, or quote it"
            ),
            SplitError::Control => f.write_str("control characters (and NUL) are not allowed"),
            SplitError::Unterminated => f.write_str("a quote or backslash is not closed"),
            SplitError::Empty => f.write_str("the command is empty"),
        }
    }
}

/// Characters a shell acts on when unquoted.
const METACHARACTERS: &[char] = &[';', '&', '|', '<', '>', '(', ')', '$', '`', '\n'];

fn is_control(c: char) -> bool {
    c.is_control() && c != '\t' && c != '\n'
}

/// Splits `line` into words by POSIX rules without any expansion.
pub fn split(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word exists once anything (even an empty quoted string) was seen for it.
    let mut started = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if is_control(c) {
            return Err(SplitError::Control);
        }
        match c {
            ' ' | '\t' => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            '\\' => {
                let next = chars.next().ok_or(SplitError::Unterminated)?;
                if is_control(next) || next == '\n' {
                    return Err(SplitError::Control);
                }
                word.push(next);
                started = true;
            }
            '\'' => {
                loop {
                    match chars.next().ok_or(SplitError::Unterminated)? {
                        '\'' => break,
                        c if is_control(c) || c == '\n' => return Err(SplitError::Control),
                        c => word.push(c),
                    }
                }
                started = true;
            }
            '"' => {
                loop {
                    match chars.next().ok_or(SplitError::Unterminated)? {
                        '"' => break,
                        '\\' => match chars.next().ok_or(SplitError::Unterminated)? {
                            c @ ('"' | '\\') => word.push(c),
                            '$' | '`' => return Err(SplitError::Metacharacter('$')),
                            c if is_control(c) || c == '\n' => return Err(SplitError::Control),
                            c => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        c @ ('$' | '`') => return Err(SplitError::Metacharacter(c)),
                        c if is_control(c) || c == '\n' => return Err(SplitError::Control),
                        c => word.push(c),
                    }
                }
                started = true;
            }
            c if METACHARACTERS.contains(&c) => return Err(SplitError::Metacharacter(c)),
            c => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    if words.is_empty() {
        return Err(SplitError::Empty);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Vec<String> {
        split(line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    #[test]
    fn quotes_and_backslashes_make_words_without_expansion() {
        assert_eq!(
            ok("systemctl  restart\tnginx"),
            ["systemctl", "restart", "nginx"]
        );
        assert_eq!(
            ok("echo 'a b' \"c d\" e\\ f ''"),
            ["echo", "a b", "c d", "e f", ""]
        );
        assert_eq!(ok("echo 'it''s'"), ["echo", "its"]);
        assert_eq!(ok(r#"echo "a\"b" "x\y""#), ["echo", "a\"b", "x\\y"]);
        // Quoted metacharacters are plain text.
        assert_eq!(ok("grep ';|&' log"), ["grep", ";|&", "log"]);
        assert_eq!(ok(r"echo \; \|"), ["echo", ";", "|"]);
        // Globs are not expanded: there is no shell.
        assert_eq!(ok("ls *.log"), ["ls", "*.log"]);
    }

    #[test]
    fn anything_a_shell_would_act_on_is_refused() {
        for line in [
            "ls; rm -rf /",
            "ls && id",
            "ls | sh",
            "cat < /etc/shadow",
            "echo > x",
            "(id)",
            "echo $HOME",
            "echo `id`",
            "echo \"$(id)\"",
            "echo \"`id`\"",
            "ls\nid",
            "echo ${IFS}",
        ] {
            assert!(
                matches!(split(line), Err(SplitError::Metacharacter(_))),
                "{line:?} was accepted"
            );
        }
        for line in ["ls\0", "ls \u{7}", "echo 'a\u{1b}b'", "echo \"\u{0}\""] {
            assert_eq!(split(line), Err(SplitError::Control), "{line:?}");
        }
        for line in ["echo 'open", "echo \"open", "echo \\"] {
            assert_eq!(split(line), Err(SplitError::Unterminated), "{line:?}");
        }
        assert_eq!(split("  \t "), Err(SplitError::Empty));
    }
}

/// `argv` as one line a person can read and a shell would split back into the same words:
/// plain words as they are, anything else in single quotes.
pub fn quote_all(argv: &[String]) -> String {
    argv.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod quote_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Quoting then splitting gives back the same argv, whatever the words hold (control
        /// characters aside, which never make it into a quoted line either).
        #[test]
        fn quoting_round_trips(argv in prop::collection::vec("[^\\x00-\\x1f\\x7f]{0,12}", 1..6)) {
            prop_assume!(argv.iter().all(|w| !w.chars().any(char::is_control)));
            let line = quote_all(&argv);
            prop_assert_eq!(split(&line), Ok(argv));
        }
    }
}
