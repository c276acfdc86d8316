//! Command rules: a pattern of words matched against an argv, one word per argument.
//!
//! Word 0 is the program: a bare name matches only that bare `argv[0]` (the agent resolves it
//! through a fixed PATH), an absolute path only itself. Every other word matches exactly one
//! argument, `*` and `?` inside it never spanning arguments; a final lone `*` matches zero or
//! more further arguments. A word containing `/` is matched component by component, and an
//! argument with a `.` or `..` component, `//` or a trailing `/` never matches it. A pattern
//! that is a lone `*` matches any command (what a terminal needs, since a shell runs anything).

use super::words::{split, SplitError};
use crate::pattern::matches as glob;

/// A parsed command pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandPattern {
    words: Vec<String>,
}

/// Why a pattern cannot be a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    Split(SplitError),
    /// The program word is neither a bare name nor an absolute path, or has a wildcard.
    Program(String),
    /// A path-like word with `.`/`..` components, `//` or a trailing `/`.
    DotPath(String),
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PatternError::Split(e) => e.fmt(f),
            PatternError::Program(word) => write!(
                f,
                "the program {word:?} must be a bare name or an absolute path, without wildcards"
            ),
            PatternError::DotPath(word) => write!(
                f,
                "{word:?} has a '.' or '..' component, '//' or a trailing '/'"
            ),
        }
    }
}

/// The components of a path-like word, or `None` when any is `.`, `..` or empty (`//`, a
/// trailing `/`); a leading `/` gives one empty first component, which is allowed.
fn clean_components(word: &str) -> Option<Vec<&str>> {
    let mut parts: Vec<&str> = word.split('/').collect();
    let absolute = word.starts_with('/');
    if absolute {
        parts.remove(0);
    }
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == "..")
    {
        return None;
    }
    Some(parts)
}

impl CommandPattern {
    /// Parses a rule's command (split by the same word rules as a token's command string).
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let words = split(text).map_err(PatternError::Split)?;
        if words.len() == 1 && words[0] == "*" {
            return Ok(Self { words });
        }
        let program = &words[0];
        let bare = !program.contains('/') && !program.is_empty();
        let absolute = program.starts_with('/') && clean_components(program).is_some();
        if !(bare || absolute) || program.contains(['*', '?']) {
            return Err(PatternError::Program(program.clone()));
        }
        for word in &words[1..] {
            if word.contains('/') && clean_components(word).is_none() {
                return Err(PatternError::DotPath(word.clone()));
            }
        }
        Ok(Self { words })
    }

    /// The words as given.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Whether this pattern allows exactly `argv`.
    pub fn matches(&self, argv: &[String]) -> bool {
        is_clean(argv) && self.matches_clean(argv)
    }

    /// [`CommandPattern::matches`] for an argv already known free of control characters.
    pub fn matches_clean(&self, argv: &[String]) -> bool {
        let Some(program) = argv.first() else {
            return false;
        };
        if self.words.len() == 1 && self.words[0] == "*" {
            return true;
        }
        if *program != self.words[0] {
            return false;
        }
        let (rest_ok, fixed) = match self.words.last() {
            Some(last) if last == "*" && self.words.len() > 1 => {
                (true, &self.words[1..self.words.len() - 1])
            }
            _ => (false, &self.words[1..]),
        };
        let args = &argv[1..];
        if args.len() < fixed.len() || (!rest_ok && args.len() != fixed.len()) {
            return false;
        }
        fixed
            .iter()
            .zip(args)
            .all(|(word, arg)| word_matches(word, arg))
    }
}

/// No argument holds a control character (NUL, escapes): such an argv matches no rule.
pub fn is_clean(argv: &[String]) -> bool {
    !argv.iter().any(|a| a.chars().any(char::is_control))
}

/// One pattern word against one argument.
fn word_matches(word: &str, arg: &str) -> bool {
    if !word.contains('/') {
        return glob(word, arg);
    }
    let (Some(want), Some(have)) = (clean_components(word), clean_components(arg)) else {
        return false;
    };
    word.starts_with('/') == arg.starts_with('/')
        && want.len() == have.len()
        && want.iter().zip(&have).all(|(w, h)| glob(w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    fn allows(pattern: &str, words: &[&str]) -> bool {
        CommandPattern::parse(pattern)
            .unwrap()
            .matches(&argv(words))
    }

    #[test]
    fn exact_rules_match_exactly() {
        assert!(allows(
            "systemctl restart nginx",
            &["systemctl", "restart", "nginx"]
        ));
        // Extra arguments, fewer arguments, another program: no.
        assert!(!allows(
            "systemctl restart nginx",
            &["systemctl", "restart", "nginx", "x"]
        ));
        assert!(!allows(
            "systemctl restart nginx",
            &["systemctl", "restart"]
        ));
        assert!(!allows(
            "systemctl restart nginx",
            &["Systemctl", "restart", "nginx"]
        ));
        // The program spelled with a path is another program.
        assert!(!allows(
            "systemctl restart nginx",
            &["/bin/systemctl", "restart", "nginx"]
        ));
        assert!(!allows("/usr/bin/uptime", &["uptime"]));
        assert!(allows("/usr/bin/uptime", &["/usr/bin/uptime"]));
        assert!(!allows("/usr/bin/uptime", &["/usr/bin//uptime"]));
        assert!(!allows("/usr/bin/uptime", &["/usr/bin/./uptime"]));
    }

    #[test]
    fn wildcards_stay_inside_one_argument() {
        assert!(allows(
            "systemctl restart web-*",
            &["systemctl", "restart", "web-1"]
        ));
        assert!(!allows(
            "systemctl restart web-*",
            &["systemctl", "restart", "web-1", "web-2"]
        ));
        // A lone `*` that is not last is one argument.
        assert!(allows("cp * /backup", &["cp", "a", "/backup"]));
        assert!(!allows("cp * /backup", &["cp", "a", "b", "/backup"]));
        // A final lone `*` takes the rest, including nothing.
        assert!(allows(
            "journalctl -u nginx *",
            &["journalctl", "-u", "nginx"]
        ));
        assert!(allows(
            "journalctl -u nginx *",
            &["journalctl", "-u", "nginx", "-n", "50"]
        ));
        assert!(allows(
            "systemctl restart web-?",
            &["systemctl", "restart", "web-1"]
        ));
        assert!(!allows(
            "systemctl restart web-?",
            &["systemctl", "restart", "web-1 2"]
        ));
        // A lone `*` is any command.
        assert!(allows("*", &["bash", "-c", "anything"]));
        assert!(!allows("*", &[]));
    }

    #[test]
    fn path_words_match_by_component_and_never_admit_dot_segments() {
        let p = "cat /var/log/*";
        assert!(allows(p, &["cat", "/var/log/syslog"]));
        assert!(!allows(p, &["cat", "/var/log/../../etc/shadow"]));
        assert!(!allows(p, &["cat", "/var/log/nginx/access.log"]));
        assert!(!allows(p, &["cat", "/var/log/./syslog"]));
        assert!(!allows(p, &["cat", "/var/log//syslog"]));
        assert!(!allows(p, &["cat", "/var/log/"]));
        assert!(!allows(p, &["cat", "var/log/syslog"]));
        assert!(!allows("cat /var/log/*", &["cat", "/var/log/.."]));
    }

    #[test]
    fn bad_patterns_are_refused_with_a_reason() {
        assert!(matches!(
            CommandPattern::parse("ls; id"),
            Err(PatternError::Split(_))
        ));
        assert!(matches!(
            CommandPattern::parse("bin/ls"),
            Err(PatternError::Program(_))
        ));
        assert!(matches!(
            CommandPattern::parse("ls* -l"),
            Err(PatternError::Program(_))
        ));
        assert!(matches!(
            CommandPattern::parse("cat /var/../etc"),
            Err(PatternError::DotPath(_))
        ));
        assert!(matches!(
            CommandPattern::parse("/usr//bin/ls"),
            Err(PatternError::Program(_))
        ));
    }

    #[test]
    fn control_characters_in_arguments_never_match() {
        assert!(!allows("echo *", &["echo", "a\u{1b}[2J"]));
        assert!(!allows("*", &["echo", "a\0b"]));
    }
}
