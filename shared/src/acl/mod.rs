//! Token ACLs: the one pure decision of what an API token may do, used by the server, by
//! `POST /api/tokens/{id}/acl/test`, and (later) by the CLI. A token bypasses work sessions, so
//! its rules are standing approvals: deny by default, per kind. Every operation needs a server
//! rule for its server and a rule of its own kind (a command, a file path and action, a tunnel
//! port); a terminal needs a command rule of a lone `*` for its run-as account, since a shell
//! runs anything.
//!
//! `words` splits command strings (refusing what a shell would act on), `command` matches argv,
//! `path` matches file paths.
//!
//! Two entry points give the same decision. The server should call [`TokenRules::compile`] once
//! when it loads (or changes) a token's rules, keep the [`CompiledRules`], and call
//! [`CompiledRules::decide`] per operation: it looks up the few rules that can apply (under 5 µs
//! with 100 rules of each kind, see BENCHMARKS.md). [`decide`] tries every rule in turn; it is
//! the reference the compiled form is tested against, and fine for a one-off (the
//! `acl/test` endpoint) where compiling first would cost more than it saves.

pub mod api;
pub mod command;
pub mod compiled;
pub mod path;
pub mod words;

pub use compiled::CompiledRules;

use crate::gate::runs_as_root;
use crate::pattern::matches as glob;
use command::CommandPattern;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a file rule allows: `download` covers list, stat and reading; `upload` covers writing,
/// mkdir, rename and delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FileAction {
    Upload,
    Download,
    Any,
}

impl FileAction {
    fn covers(self, asked: FileAction) -> bool {
        self == FileAction::Any || self == asked
    }
}

/// A rule and its id (so a decision can name the rule that allowed it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule<T> {
    pub id: Uuid,
    pub rule: T,
}

/// A command rule: the pattern and whom it may run as (`None`: the principal's own account;
/// `*`: any account but root; otherwise exactly that account, `root` only when named).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRule {
    pub pattern: CommandPattern,
    pub user: Option<String>,
}

/// A file rule; `path` is kept normalised (checked with `path::is_valid_rule` when granted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRule {
    pub path: String,
    pub action: FileAction,
    pub user: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelRule {
    pub port: u16,
    pub host: String,
}

/// Every rule of one token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenRules {
    pub servers: Vec<Rule<String>>,
    pub commands: Vec<Rule<CommandRule>>,
    pub files: Vec<Rule<FileRule>>,
    pub tunnels: Vec<Rule<TunnelRule>>,
}

/// What a token asks to do.
#[derive(Debug, Clone, Copy)]
pub enum Ask<'a> {
    /// Run `argv` as `user` (`None`: the principal's own account).
    Command {
        server: &'a str,
        argv: &'a [String],
        user: Option<&'a str>,
    },
    /// A terminal as `user`.
    Websh {
        server: &'a str,
        user: Option<&'a str>,
    },
    File {
        server: &'a str,
        path: &'a str,
        action: FileAction,
        user: Option<&'a str>,
    },
    Tunnel {
        server: &'a str,
        host: &'a str,
        port: u16,
    },
}

impl Ask<'_> {
    fn server(&self) -> &str {
        match self {
            Ask::Command { server, .. }
            | Ask::Websh { server, .. }
            | Ask::File { server, .. }
            | Ask::Tunnel { server, .. } => server,
        }
    }
}

/// The decision, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decision {
    pub allowed: bool,
    /// The rule that allowed it (of the operation's own kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<Uuid>,
    pub reason: String,
}

impl Decision {
    fn deny(reason: impl Into<String>) -> Self {
        Self {
            allowed: false,
            rule: None,
            reason: reason.into(),
        }
    }

    fn allow(rule: Uuid, reason: impl Into<String>) -> Self {
        Self {
            allowed: true,
            rule: Some(rule),
            reason: reason.into(),
        }
    }
}

/// Whether a rule's `user` covers running as `asked` (`None`: the principal's own, `own`).
pub fn user_matches(rule: Option<&str>, own: &str, asked: Option<&str>) -> bool {
    let asked = asked
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or(own);
    let root = runs_as_root(Some(asked));
    match rule.map(str::trim) {
        None => asked == own && !root,
        Some("*") => !root,
        Some(named) if root => runs_as_root(Some(named)),
        Some(named) => named == asked,
    }
}

/// The decision for `ask` by a token with `rules` whose principal's own account is `own`.
/// What the ask carries is checked once (control characters, the path normalised), then each
/// rule of the kind is tried without allocating.
pub fn decide(rules: &TokenRules, own: &str, ask: &Ask<'_>) -> Decision {
    let server = ask.server();
    if !rules.servers.iter().any(|r| glob(&r.rule, server)) {
        return Decision::deny(format!("no server rule of this token covers {server}"));
    }
    match *ask {
        Ask::Command { argv, user, .. } => {
            if !command::is_clean(argv) {
                return Decision::deny("an argument holds a control character");
            }
            let found = rules.commands.iter().find(|r| {
                r.rule.pattern.matches_clean(argv)
                    && user_matches(r.rule.user.as_deref(), own, user)
            });
            match found {
                Some(r) => Decision::allow(
                    r.id,
                    format!("command rule {:?}", r.rule.pattern.words().join(" ")),
                ),
                None => Decision::deny(
                    "no command rule of this token matches this argv as this account",
                ),
            }
        }
        Ask::Websh { user, .. } => {
            let found = rules.commands.iter().find(|r| {
                r.rule.pattern.words() == ["*"] && user_matches(r.rule.user.as_deref(), own, user)
            });
            match found {
                Some(r) => Decision::allow(
                    r.id,
                    "a terminal runs anything: allowed by a command rule of a lone *",
                ),
                None => {
                    Decision::deny("a terminal needs a command rule of a lone * for this account")
                }
            }
        }
        Ask::File {
            path, action, user, ..
        } => {
            let Some(path) = path::normalised(path) else {
                return Decision::deny("the path is not absolute or holds a control character");
            };
            let found = rules.files.iter().find(|r| {
                r.rule.action.covers(action)
                    && path::matches_normalised(&r.rule.path, &path)
                    && user_matches(r.rule.user.as_deref(), own, user)
            });
            match found {
                Some(r) => Decision::allow(r.id, format!("file rule {}", r.rule.path)),
                None => Decision::deny(
                    "no file rule of this token covers this path, action and account",
                ),
            }
        }
        Ask::Tunnel { host, port, .. } => {
            match rules
                .tunnels
                .iter()
                .find(|r| r.rule.port == port && r.rule.host == host)
            {
                Some(r) => {
                    Decision::allow(r.id, format!("tunnel rule {}:{}", r.rule.host, r.rule.port))
                }
                None => {
                    Decision::deny(format!("no tunnel rule of this token allows {host}:{port}"))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
