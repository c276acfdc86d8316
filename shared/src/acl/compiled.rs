//! A token's rules compiled once (when the server loads them) so that each decision looks up the
//! few rules that can apply instead of trying every rule, and allocates nothing but its answer.
//!
//! Command rules sit in a trie keyed by the program and then each literal word that follows it;
//! a rule hangs at the node where its literal words end (a lone `*` at the root), so walking the
//! argv down the trie visits exactly the rules whose literal words the argv has. File rules sit
//! in the same kind of trie keyed by their leading literal path components. Server names that are
//! literal are a set, patterns are grouped by the literal text before their first wildcard.
//!
//! A decision must name the same rule as the linear [`super::decide`]: the first matching rule
//! in the token's order. Rules are inserted in that order, so every node lists its rules in
//! ascending order and the lowest matching index over the visited nodes is the answer.

use super::{path, Ask, Decision, FileAction, TokenRules};
use crate::gate::runs_as_root;
use crate::pattern::matches as glob;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// A token's rules, compiled by [`TokenRules::compile`]; [`CompiledRules::decide`] gives the same
/// decision as [`super::decide`] over the rules it was compiled from.
#[derive(Debug, Clone, Default)]
pub struct CompiledRules {
    servers: ServerIndex,
    commands: Vec<Compiled<CommandTail>>,
    command_trie: Trie,
    /// Command rules that are a lone `*`, in order (a terminal needs one).
    lone_stars: Vec<usize>,
    files: Vec<Compiled<FileTail>>,
    file_trie: Trie,
    /// Host, then port, to the first tunnel rule for both.
    tunnels: HashMap<Box<str>, HashMap<u16, TunnelAllow>>,
}

/// The first tunnel rule for a host and port: its id and reason text.
type TunnelAllow = (Uuid, Box<str>);

/// A rule's id, its reason text (built once, as the linear decision words it), its account and
/// what remains to check after the trie matched its literal prefix.
#[derive(Debug, Clone)]
struct Compiled<T> {
    id: Uuid,
    reason: Box<str>,
    user: UserRule,
    tail: T,
}

/// A rule's `user`, trimmed and classified once (see [`super::user_matches`]).
#[derive(Debug, Clone)]
enum UserRule {
    Own,
    AnyButRoot,
    Named { name: Box<str>, root: bool },
}

impl UserRule {
    fn new(rule: Option<&str>) -> Self {
        match rule.map(str::trim) {
            None => UserRule::Own,
            Some("*") => UserRule::AnyButRoot,
            Some(named) => UserRule::Named {
                name: named.into(),
                root: runs_as_root(Some(named)),
            },
        }
    }

    fn covers(&self, asked: &Asked<'_>) -> bool {
        match self {
            UserRule::Own => asked.own && !asked.root,
            UserRule::AnyButRoot => !asked.root,
            UserRule::Named { root, .. } if asked.root => *root,
            UserRule::Named { name, .. } => **name == *asked.name,
        }
    }
}

/// The account an ask runs as, resolved once per decision.
struct Asked<'a> {
    name: &'a str,
    own: bool,
    root: bool,
}

impl<'a> Asked<'a> {
    fn new(own: &'a str, asked: Option<&'a str>) -> Self {
        let name = asked
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .unwrap_or(own);
        Self {
            name,
            own: name == own,
            root: runs_as_root(Some(name)),
        }
    }
}

/// One command-pattern word, classified once: a literal is a plain comparison.
#[derive(Debug, Clone)]
enum Word {
    Literal(Box<str>),
    Glob(Box<str>),
    /// A word with `/` and a wildcard, matched component by component.
    Path {
        absolute: bool,
        components: Vec<Box<str>>,
    },
}

fn has_wildcard(text: &str) -> bool {
    text.contains(['*', '?'])
}

impl Word {
    fn new(word: &str) -> Self {
        if !has_wildcard(word) {
            // A literal path word is clean (parsing refused dot segments, `//` and a trailing
            // `/`), and a clean argument equal component by component is the same string.
            Word::Literal(word.into())
        } else if word.contains('/') {
            Word::Path {
                absolute: word.starts_with('/'),
                components: word
                    .split('/')
                    .skip(usize::from(word.starts_with('/')))
                    .map(Into::into)
                    .collect(),
            }
        } else {
            Word::Glob(word.into())
        }
    }

    fn matches(&self, arg: &str) -> bool {
        match self {
            Word::Literal(word) => **word == *arg,
            Word::Glob(word) => glob(word, arg),
            Word::Path {
                absolute,
                components,
            } => path_word_matches(*absolute, components, arg),
        }
    }
}

/// A path word against an argument without collecting either: the argument must have as many
/// components, none empty, `.` or `..`, each matching its word component.
fn path_word_matches(absolute: bool, components: &[Box<str>], arg: &str) -> bool {
    let rest = match (absolute, arg.strip_prefix('/')) {
        (true, Some(rest)) => rest,
        (false, None) => arg,
        _ => return false,
    };
    let mut have = rest.split('/');
    for want in components {
        match have.next() {
            Some(h) if !h.is_empty() && h != "." && h != ".." && glob(want, h) => {}
            _ => return false,
        }
    }
    have.next().is_none()
}

/// What a command rule checks beyond its literal prefix.
#[derive(Debug, Clone)]
struct CommandTail {
    lone_star: bool,
    /// Arguments fixed by the pattern (a final lone `*` excluded).
    fixed: usize,
    /// A final lone `*` takes any further arguments.
    rest: bool,
    /// Leading fixed arguments the trie already compared.
    skip: usize,
    /// The fixed words after those.
    words: Vec<Word>,
}

impl CommandTail {
    /// Whether a clean, non-empty `argv` that reached this rule's trie node matches it.
    fn matches(&self, argv: &[String]) -> bool {
        if self.lone_star {
            return true;
        }
        let args = &argv[1..];
        if args.len() < self.fixed || (!self.rest && args.len() != self.fixed) {
            return false;
        }
        self.words
            .iter()
            .zip(&args[self.skip..])
            .all(|(word, arg)| word.matches(arg))
    }
}

/// What a file rule checks beyond its literal prefix.
#[derive(Debug, Clone)]
struct FileTail {
    action: FileAction,
    /// Components fixed by the rule (a final `**` excluded).
    fixed: usize,
    /// A final `**` covers any depth below, the directory itself included.
    rest: bool,
    /// Leading components the trie already compared.
    skip: usize,
    /// The fixed components after those, matched as globs.
    components: Vec<Box<str>>,
}

impl FileTail {
    fn matches(&self, components: usize, path: &str) -> bool {
        if components < self.fixed || (!self.rest && components != self.fixed) {
            return false;
        }
        self.components
            .iter()
            .zip(path_components(path).skip(self.skip))
            .all(|(want, have)| glob(want, have))
    }
}

/// The components of a path as [`path::matches_normalised`] sees them.
fn path_components(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|p| !p.is_empty())
}

/// Keys (words or path components) to the rules whose literal prefix they spell.
#[derive(Debug, Clone)]
struct Trie {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone, Default)]
struct Node {
    children: HashMap<Box<str>, usize>,
    /// Rule indices in ascending order (rules are inserted in order).
    rules: Vec<usize>,
}

impl Default for Trie {
    fn default() -> Self {
        Self {
            nodes: vec![Node::default()],
        }
    }
}

impl Trie {
    fn insert<'a>(&mut self, key: impl IntoIterator<Item = &'a str>, rule: usize) {
        let mut at = 0;
        for part in key {
            at = match self.nodes[at].children.get(part) {
                Some(&next) => next,
                None => {
                    let next = self.nodes.len();
                    self.nodes.push(Node::default());
                    self.nodes[at].children.insert(part.into(), next);
                    next
                }
            };
        }
        self.nodes[at].rules.push(rule);
    }

    /// The lowest rule index that `accept` takes among the nodes `key` walks through.
    fn first<'a>(
        &self,
        key: impl IntoIterator<Item = &'a str>,
        mut accept: impl FnMut(usize) -> bool,
    ) -> Option<usize> {
        let mut best: Option<usize> = None;
        let mut node = &self.nodes[0];
        let mut key = key.into_iter();
        loop {
            for &rule in &node.rules {
                if best.is_some_and(|b| rule >= b) {
                    break;
                }
                if accept(rule) {
                    best = Some(rule);
                    break;
                }
            }
            let Some(next) = key.next().and_then(|part| node.children.get(part)) else {
                return best;
            };
            node = &self.nodes[*next];
        }
    }
}

/// Server patterns: literal names in a set, the others grouped by their text before the first
/// wildcard (which a matching name must start with), so a name is globbed only against patterns
/// sharing its prefix.
#[derive(Debug, Clone, Default)]
struct ServerIndex {
    literal: HashSet<Box<str>>,
    by_prefix: HashMap<Box<str>, Vec<Box<str>>>,
    /// The distinct prefix lengths, in bytes, ascending.
    prefix_lens: Vec<usize>,
}

impl ServerIndex {
    fn insert(&mut self, pattern: &str) {
        match pattern.find(['*', '?']) {
            None => {
                self.literal.insert(pattern.into());
            }
            Some(len) => {
                self.by_prefix
                    .entry(pattern[..len].into())
                    .or_default()
                    .push(pattern.into());
                if let Err(at) = self.prefix_lens.binary_search(&len) {
                    self.prefix_lens.insert(at, len);
                }
            }
        }
    }

    fn covers(&self, server: &str) -> bool {
        if self.literal.contains(server) {
            return true;
        }
        self.prefix_lens
            .iter()
            .take_while(|&&len| len <= server.len())
            .filter_map(|&len| server.get(..len))
            .filter_map(|prefix| self.by_prefix.get(prefix))
            .any(|patterns| patterns.iter().any(|p| glob(p, server)))
    }
}

impl TokenRules {
    /// Compiles the rules for [`CompiledRules::decide`]; do it once per token (when its rules are
    /// loaded or changed), not per decision: it costs about as much as many linear decisions.
    pub fn compile(&self) -> CompiledRules {
        let mut out = CompiledRules::default();
        for server in &self.servers {
            out.servers.insert(&server.rule);
        }
        for (i, r) in self.commands.iter().enumerate() {
            let words = r.rule.pattern.words();
            let lone_star = words == ["*"];
            let (rest, fixed) = match words.last() {
                Some(last) if last == "*" && words.len() > 1 => (true, &words[1..words.len() - 1]),
                _ => (false, words.get(1..).unwrap_or_default()),
            };
            let skip = fixed.iter().take_while(|w| !has_wildcard(w)).count();
            if lone_star {
                out.lone_stars.push(i);
                out.command_trie.insert([], i);
            } else {
                // The program is compared exactly (never as a pattern), then literal words.
                let key = words[..1].iter().chain(&fixed[..skip]).map(String::as_str);
                out.command_trie.insert(key, i);
            }
            out.commands.push(Compiled {
                id: r.id,
                reason: format!("command rule {:?}", words.join(" ")).into(),
                user: UserRule::new(r.rule.user.as_deref()),
                tail: CommandTail {
                    lone_star,
                    fixed: fixed.len(),
                    rest,
                    skip,
                    words: fixed[skip..].iter().map(|w| Word::new(w)).collect(),
                },
            });
        }
        for (i, r) in self.files.iter().enumerate() {
            let components: Vec<&str> = path_components(&r.rule.path).collect();
            let (rest, fixed) = match components.split_last() {
                Some((&"**", fixed)) => (true, fixed),
                _ => (false, &components[..]),
            };
            let skip = fixed.iter().take_while(|c| !has_wildcard(c)).count();
            out.file_trie.insert(fixed[..skip].iter().copied(), i);
            out.files.push(Compiled {
                id: r.id,
                reason: format!("file rule {}", r.rule.path).into(),
                user: UserRule::new(r.rule.user.as_deref()),
                tail: FileTail {
                    action: r.rule.action,
                    fixed: fixed.len(),
                    rest,
                    skip,
                    components: fixed[skip..].iter().map(|&c| c.into()).collect(),
                },
            });
        }
        for r in &self.tunnels {
            let reason = format!("tunnel rule {}:{}", r.rule.host, r.rule.port);
            out.tunnels
                .entry(r.rule.host.as_str().into())
                .or_default()
                .entry(r.rule.port)
                .or_insert((r.id, reason.into()));
        }
        out
    }
}

impl CompiledRules {
    /// The decision for `ask` by a token whose principal's own account is `own`: the same as
    /// [`super::decide`] over the rules this was compiled from.
    pub fn decide(&self, own: &str, ask: &Ask<'_>) -> Decision {
        let server = ask.server();
        if !self.servers.covers(server) {
            return Decision::deny(format!("no server rule of this token covers {server}"));
        }
        match *ask {
            Ask::Command { argv, user, .. } => {
                if !super::command::is_clean(argv) {
                    return Decision::deny("an argument holds a control character");
                }
                let asked = Asked::new(own, user);
                // An empty argv matches no rule, not even a lone `*`.
                let found = (!argv.is_empty())
                    .then(|| {
                        self.command_trie
                            .first(argv.iter().map(String::as_str), |i| {
                                let rule = &self.commands[i];
                                rule.tail.matches(argv) && rule.user.covers(&asked)
                            })
                    })
                    .flatten();
                match found.map(|i| &self.commands[i]) {
                    Some(r) => Decision::allow(r.id, &*r.reason),
                    None => Decision::deny(
                        "no command rule of this token matches this argv as this account",
                    ),
                }
            }
            Ask::Websh { user, .. } => {
                let asked = Asked::new(own, user);
                let found = self
                    .lone_stars
                    .iter()
                    .map(|&i| &self.commands[i])
                    .find(|r| r.user.covers(&asked));
                match found {
                    Some(r) => Decision::allow(
                        r.id,
                        "a terminal runs anything: allowed by a command rule of a lone *",
                    ),
                    None => Decision::deny(
                        "a terminal needs a command rule of a lone * for this account",
                    ),
                }
            }
            Ask::File {
                path, action, user, ..
            } => {
                let Some(path) = path::normalised(path) else {
                    return Decision::deny("the path is not absolute or holds a control character");
                };
                let asked = Asked::new(own, user);
                let components = path_components(&path).count();
                let found = self.file_trie.first(path_components(&path), |i| {
                    let rule = &self.files[i];
                    rule.tail.action.covers(action)
                        && rule.tail.matches(components, &path)
                        && rule.user.covers(&asked)
                });
                match found.map(|i| &self.files[i]) {
                    Some(r) => Decision::allow(r.id, &*r.reason),
                    None => Decision::deny(
                        "no file rule of this token covers this path, action and account",
                    ),
                }
            }
            Ask::Tunnel { host, port, .. } => {
                match self.tunnels.get(host).and_then(|ports| ports.get(&port)) {
                    Some((id, reason)) => Decision::allow(*id, &**reason),
                    None => {
                        Decision::deny(format!("no tunnel rule of this token allows {host}:{port}"))
                    }
                }
            }
        }
    }
}
