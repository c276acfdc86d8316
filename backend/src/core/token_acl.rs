//! Token ACLs as the server keeps and applies them: superusers grant and remove rules (each
//! change audited with the rule), and the gate asks [`TokenAccess::decide`] for every operation
//! an API token attempts. The matching itself is the pure `gatehouse_shared::acl::decide`; this
//! module adds what only the server knows: the rules in the database, the principal's own
//! account, and, for a personal token, the owner's own server grants, which it never exceeds.

use crate::core::access;
use crate::core::admin::By;
use crate::core::audit::{self, DENIED, SUCCESS};
use crate::core::runas::RunAs;
use crate::core::state::AppState;
use crate::core::CoreError;
use crate::store::token_acl::{self, NewRule, TokenFacts};
use crate::store::{users, WriteTx};
use crate::time::now;
use gatehouse_shared::acl::api::{
    AclTest, NewCommandRule, NewFileRule, NewServerRule, NewTunnelRule, RuleKind, TokenAcl,
};
use gatehouse_shared::acl::command::CommandPattern;
use gatehouse_shared::acl::compiled::CompiledRules;
use gatehouse_shared::acl::{
    self, path, words, Ask, CommandRule, Decision, FileAction, FileRule, Rule, TokenRules,
    TunnelRule,
};
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::gate::{runs_as_root, Detail, Operation};
use gatehouse_shared::pattern;
use gatehouse_shared::user::is_valid_unix_user;
use gatehouse_shared::{Scope, TokenId};
use uuid::Uuid;

/// A token holds at most this many rules, so a decision stays cheap.
pub const MAX_RULES: i64 = 1000;

/// The token `id` if it is live; dead and unknown tokens read the same (404).
pub async fn live_token(state: &AppState, id: TokenId) -> Result<TokenFacts, CoreError> {
    token_acl::facts(&state.db, state.workspace, id, now())
        .await?
        .filter(|t| !t.dead)
        .ok_or(CoreError::NotFound("token"))
}

/// The token `id`, live or not (its rules stay readable after revocation).
pub async fn any_token(state: &AppState, id: TokenId) -> Result<TokenFacts, CoreError> {
    token_acl::facts(&state.db, state.workspace, id, now())
        .await?
        .ok_or(CoreError::NotFound("token"))
}

/// Who asks to change a token's rules, as the refusal's audit row needs them.
#[derive(Debug, Clone, Copy)]
pub struct Changer<'a> {
    pub by: By<'a>,
    pub superuser: bool,
    /// Signed in interactively (not an API token, which may never change ACLs, its own or
    /// another's).
    pub interactive: bool,
}

/// Only a superuser signed in interactively changes token rules; anyone else is refused and
/// the attempt audited.
pub async fn authorise_change(
    state: &AppState,
    who: Changer<'_>,
    action: AuditAction,
    token: TokenId,
) -> Result<(), CoreError> {
    let refusal = if !who.interactive {
        CoreError::TokenAclDenied(
            "an API token cannot change token ACLs, its own or another's".into(),
        )
    } else if !who.superuser {
        CoreError::Forbidden("only superusers grant or remove token ACL rules".into())
    } else {
        return Ok(());
    };
    let event = audit::event(action, DENIED)
        .actor(who.by.name)
        .target(token.to_string())
        .details(serde_json::json!({"reason": refusal.to_string()}));
    audit::record_event(state, event).await?;
    Err(refusal)
}

/// A rule as granted through the API, checked.
#[derive(Debug)]
pub enum Grant {
    Server(NewServerRule),
    Command(NewCommandRule),
    File(NewFileRule),
    Tunnel(NewTunnelRule),
}

/// Grants `grant` to the live token `token`: validated, stored and audited together.
pub async fn grant(
    state: &AppState,
    by: By<'_>,
    token: TokenId,
    grant: Grant,
) -> Result<(Uuid, TokenAcl), CoreError> {
    let facts = live_token(state, token).await?;
    let (rule, details) = match checked(&grant) {
        Ok(checked) => checked,
        Err(invalid) => {
            let event = audit::event(AuditAction::TokenAclGranted, DENIED)
                .actor(by.name)
                .target(token.to_string())
                .details(serde_json::json!({"reason": invalid.to_string()}));
            audit::record_event(state, event).await?;
            return Err(invalid);
        }
    };
    let at = now();
    let mut tx = WriteTx::begin(&state.db, state.workspace, at).await?;
    if token_acl::count(&mut tx, state.workspace, token).await? >= MAX_RULES {
        return Err(CoreError::Conflict(format!(
            "a token holds at most {MAX_RULES} rules"
        )));
    }
    let id =
        token_acl::insert(&mut tx, state.workspace, token, &rule.as_new(), by.name, at).await?;
    tx.commit(
        audit::event(AuditAction::TokenAclGranted, SUCCESS)
            .actor(by.name)
            .target(token.to_string())
            .details(serde_json::json!({
                "kind": rule.as_new().kind(),
                "rule_id": id,
                "rule": details,
                "owner": facts.owner_name,
            })),
    )
    .await?;
    Ok((
        id,
        token_acl::list(&state.db, state.workspace, token).await?,
    ))
}

/// Removes rule `id` of `kind` from `token` (live or not), audited.
pub async fn remove(
    state: &AppState,
    by: By<'_>,
    token: TokenId,
    kind: RuleKind,
    id: Uuid,
) -> Result<(), CoreError> {
    let facts = any_token(state, token).await?;
    let at = now();
    let mut tx = WriteTx::begin(&state.db, state.workspace, at).await?;
    if !token_acl::delete(&mut tx, state.workspace, token, kind, id).await? {
        return Err(CoreError::NotFound("rule"));
    }
    tx.commit(
        audit::event(AuditAction::TokenAclRemoved, SUCCESS)
            .actor(by.name)
            .target(token.to_string())
            .details(serde_json::json!({"kind": kind, "rule_id": id, "owner": facts.owner_name})),
    )
    .await?;
    Ok(())
}

/// A validated rule, owning what the store binds.
enum Checked {
    Server(String),
    Command(String, Option<String>),
    File(String, FileAction, Option<String>),
    Tunnel(u16, String),
}

impl Checked {
    fn as_new(&self) -> NewRule<'_> {
        match self {
            Checked::Server(pattern) => NewRule::Server { pattern },
            Checked::Command(command, user) => NewRule::Command {
                command,
                user: user.as_deref(),
            },
            Checked::File(path, action, user) => NewRule::File {
                path,
                action: *action,
                user: user.as_deref(),
            },
            Checked::Tunnel(port, host) => NewRule::Tunnel { port: *port, host },
        }
    }
}

/// Checks a rule's fields, naming the first that is wrong; answers the rule as stored and as
/// the audit log records it.
fn checked(grant: &Grant) -> Result<(Checked, serde_json::Value), CoreError> {
    Ok(match grant {
        Grant::Server(r) => {
            let pattern = r.pattern.trim();
            if !pattern::is_valid_pattern(pattern) {
                return Err(CoreError::invalid(
                    "pattern",
                    "a server name or a pattern such as web-*",
                ));
            }
            (
                Checked::Server(pattern.to_owned()),
                serde_json::json!({"pattern": pattern}),
            )
        }
        Grant::Command(r) => {
            let parsed = CommandPattern::parse(&r.command)
                .map_err(|e| CoreError::invalid("command", e.to_string()))?;
            let command = parsed.words().join(" ");
            let user = checked_user(r.user.as_deref())?;
            let details = serde_json::json!({"command": command, "user": user});
            (Checked::Command(r.command.trim().to_owned(), user), details)
        }
        Grant::File(r) => {
            // A rule is written in its normal form: `.`, `..` and `//` are refused, not
            // resolved, so what the superuser reads is exactly what matches.
            let written = r.path.trim();
            let written = written
                .strip_suffix('/')
                .filter(|w| !w.is_empty())
                .unwrap_or(written);
            let path = path::normalise(written)
                .filter(|p| p == written && path::is_valid_rule(p))
                .ok_or_else(|| {
                    CoreError::invalid(
                        "path",
                        "an absolute path without . or .. components; * within one component, a final ** for any depth",
                    )
                })?;
            let user = checked_user(r.user.as_deref())?;
            let details = serde_json::json!({"path": path, "action": r.action, "user": user});
            (Checked::File(path, r.action, user), details)
        }
        Grant::Tunnel(r) => {
            if r.port == 0 {
                return Err(CoreError::invalid("port", "1 to 65535"));
            }
            let host = r.host.as_deref().map(str::trim).unwrap_or("127.0.0.1");
            if host.is_empty()
                || host.len() > 253
                || !host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
            {
                return Err(CoreError::invalid(
                    "host",
                    "an IP address or a host name (default 127.0.0.1)",
                ));
            }
            (
                Checked::Tunnel(r.port, host.to_owned()),
                serde_json::json!({"port": r.port, "host": host}),
            )
        }
    })
}

/// A rule's run-as account: omitted, `*`, or an account name (root spelled any way is kept
/// as `root`, so the list shows plainly who may act as root).
fn checked_user(user: Option<&str>) -> Result<Option<String>, CoreError> {
    let Some(user) = user.map(str::trim) else {
        return Ok(None);
    };
    if runs_as_root(Some(user)) {
        return Ok(Some("root".into()));
    }
    if user == "*" || is_valid_unix_user(user) {
        return Ok(Some(user.to_owned()));
    }
    Err(CoreError::invalid(
        "user",
        "omit it (the principal's own account), * (any account but root), or an account name",
    ))
}

/// Everything the gate weighs for one token: its rules, compiled once per request, whose own
/// account a rule without `user` means, and the owner's own server grants.
#[derive(Debug)]
pub struct TokenAccess {
    pub facts: TokenFacts,
    rules: TokenRules,
    /// The same rules indexed for decisions (`acl::compiled`).
    compiled: CompiledRules,
    own_account: String,
    /// A personal token's owner's server patterns (`None`: every server, or a service account,
    /// which has no grants of its own and is bounded by its rules alone).
    owner_servers: Option<Vec<String>>,
}

impl TokenAccess {
    /// Reads token `id`; a dead or unknown token has no access.
    pub async fn load(state: &AppState, id: TokenId) -> Result<Self, CoreError> {
        let facts = live_token(state, id).await?;
        // A disabled owner's tokens stop with them (requests are refused at sign-in already;
        // this ends what they keep open).
        let owner = users::by_id(&state.db, state.workspace, facts.owner)
            .await?
            .filter(|u| u.disabled_at.is_none())
            .ok_or(CoreError::NotFound("token owner"))?;
        let owner_servers = if facts.service_account {
            None
        } else {
            access::allowed_patterns(state, facts.owner, owner.role()?).await?
        };
        let rules = compile(token_acl::list(&state.db, state.workspace, id).await?);
        Ok(Self {
            facts,
            compiled: rules.compile(),
            rules,
            own_account: owner.unix_user(),
            owner_servers,
        })
    }

    /// The decision for `op` run as `run_as`, and, for file operations, the rules that cover
    /// it (the agent holds the real paths it opens to them).
    pub fn decide(&self, op: &Operation<'_>, run_as: &RunAs) -> (Decision, Vec<String>) {
        if !access::is_allowed(&self.owner_servers, op.server) {
            return (
                deny(format!(
                    "the token's owner {} has no grant on {}; a personal token never exceeds its owner",
                    self.facts.owner_name, op.server
                )),
                Vec::new(),
            );
        }
        let user = run_as.user.as_deref();
        let server = op.server;
        let one = |ask: Ask<'_>| self.compiled.decide(&self.own_account, &ask);
        match (op.scope, op.detail) {
            (Scope::Websh, _) => (one(Ask::Websh { server, user }), Vec::new()),
            (Scope::Command, Detail::Argv(argv)) => {
                (one(Ask::Command { server, argv, user }), Vec::new())
            }
            (_, Detail::Unsplittable(reason)) => (deny(reason), Vec::new()),
            (Scope::Webftp | Scope::Editor, Detail::Files { action, paths }) => {
                self.decide_files(server, action, paths, user)
            }
            (Scope::Tunnel, Detail::Tunnel { host, port }) => {
                (one(Ask::Tunnel { server, host, port }), Vec::new())
            }
            (Scope::Sudo, _) => (
                deny(
                    "a token has no sudo scope; a rule that names root is what lets it act as root",
                ),
                Vec::new(),
            ),
            (scope, _) => (self.preflight(scope, server, user), Vec::new()),
        }
    }

    /// Every path must be allowed; the covering rules are what the agent re-checks.
    fn decide_files(
        &self,
        server: &str,
        action: FileAction,
        paths: &[&str],
        user: Option<&str>,
    ) -> (Decision, Vec<String>) {
        let mut last = deny("no path given");
        for path in paths {
            last = self.compiled.decide(
                &self.own_account,
                &Ask::File {
                    server,
                    path,
                    action,
                    user,
                },
            );
            if !last.allowed {
                return (last, Vec::new());
            }
        }
        let confine = self
            .rules
            .files
            .iter()
            .filter(|r| {
                covers(r.rule.action, action)
                    && acl::user_matches(r.rule.user.as_deref(), &self.own_account, user)
            })
            .map(|r| r.rule.path.clone())
            .collect();
        (last, confine)
    }

    /// A check without particulars (`POST /api/gate/check`): the server is covered and some
    /// rule of the scope's kind exists for this account. The operation itself decides fully.
    fn preflight(&self, scope: Scope, server: &str, user: Option<&str>) -> Decision {
        if !self
            .rules
            .servers
            .iter()
            .any(|r| pattern::matches(&r.rule, server))
        {
            return deny(format!("no server rule of this token covers {server}"));
        }
        let own = &self.own_account;
        let any = match scope {
            Scope::Command => self
                .rules
                .commands
                .iter()
                .any(|r| acl::user_matches(r.rule.user.as_deref(), own, user)),
            Scope::Webftp | Scope::Editor => self
                .rules
                .files
                .iter()
                .any(|r| acl::user_matches(r.rule.user.as_deref(), own, user)),
            Scope::Tunnel => !self.rules.tunnels.is_empty(),
            _ => false,
        };
        if any {
            Decision {
                allowed: true,
                rule: None,
                reason: format!(
                    "the token holds {scope} rules on {server}; each operation is decided on its own particulars"
                ),
            }
        } else {
            deny(format!(
                "no {scope} rule of this token applies to this account"
            ))
        }
    }

    /// `POST /api/tokens/{id}/acl/test`: the gate's decision for a described operation.
    pub fn test(&self, req: &AclTest, run_as: &RunAs) -> Decision {
        let scope = req.scope.unwrap_or(if req.path.is_some() {
            Scope::Webftp
        } else if req.port.is_some() {
            Scope::Tunnel
        } else {
            Scope::Command
        });
        let split;
        let detail = if let Some(argv) = &req.argv {
            Detail::Argv(argv)
        } else if let Some(command) = &req.command {
            split = words::split(command);
            match &split {
                Ok(argv) => Detail::Argv(argv),
                Err(e) => return deny(format!("the command cannot be run without a shell: {e}")),
            }
        } else {
            Detail::None
        };
        let paths: Vec<&str> = req.path.as_deref().into_iter().collect();
        let detail = match (scope, detail) {
            (Scope::Webftp | Scope::Editor, _) if !paths.is_empty() => Detail::Files {
                action: req.action.unwrap_or(FileAction::Download),
                paths: &paths,
            },
            (Scope::Tunnel, _) => match req.port {
                Some(port) => Detail::Tunnel {
                    host: req.host.as_deref().unwrap_or("127.0.0.1"),
                    port,
                },
                None => Detail::None,
            },
            (_, detail) => detail,
        };
        let op = run_as.operation(scope, &req.server).with_detail(detail);
        self.decide(&op, run_as).0
    }
}

fn covers(rule: FileAction, asked: FileAction) -> bool {
    rule == FileAction::Any || rule == asked
}

fn deny(reason: impl Into<String>) -> Decision {
    Decision {
        allowed: false,
        rule: None,
        reason: reason.into(),
    }
}

/// The stored rules in the matcher's form. A stored command that no longer parses (a future
/// stricter parser) is left out: a missing rule can only allow less.
fn compile(acl: TokenAcl) -> TokenRules {
    TokenRules {
        servers: acl
            .servers
            .into_iter()
            .map(|r| Rule {
                id: r.id,
                rule: r.pattern,
            })
            .collect(),
        commands: acl
            .commands
            .into_iter()
            .filter_map(|r| {
                let pattern = CommandPattern::parse(&r.command).ok()?;
                Some(Rule {
                    id: r.id,
                    rule: CommandRule {
                        pattern,
                        user: r.user,
                    },
                })
            })
            .collect(),
        files: acl
            .files
            .into_iter()
            .map(|r| Rule {
                id: r.id,
                rule: FileRule {
                    path: r.path,
                    action: r.action,
                    user: r.user,
                },
            })
            .collect(),
        tunnels: acl
            .tunnels
            .into_iter()
            .map(|r| Rule {
                id: r.id,
                rule: TunnelRule {
                    port: r.port,
                    host: r.host,
                },
            })
            .collect(),
    }
}
