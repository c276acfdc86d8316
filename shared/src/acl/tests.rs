//! The decision over whole rule sets, and properties over generated argv and patterns.

use super::command::CommandPattern;
use super::*;
use proptest::prelude::*;

fn id() -> Uuid {
    Uuid::new_v4()
}

fn rules() -> TokenRules {
    TokenRules {
        servers: vec![Rule {
            id: id(),
            rule: "web-*".into(),
        }],
        commands: vec![
            Rule {
                id: id(),
                rule: CommandRule {
                    pattern: CommandPattern::parse("systemctl restart nginx").unwrap(),
                    user: None,
                },
            },
            Rule {
                id: id(),
                rule: CommandRule {
                    pattern: CommandPattern::parse("apt-get update").unwrap(),
                    user: Some("root".into()),
                },
            },
        ],
        files: vec![Rule {
            id: id(),
            rule: FileRule {
                path: "/srv/app/**".into(),
                action: FileAction::Download,
                user: Some("*".into()),
            },
        }],
        tunnels: vec![Rule {
            id: id(),
            rule: TunnelRule {
                port: 5432,
                host: "127.0.0.1".into(),
            },
        }],
    }
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

#[test]
fn every_kind_needs_its_server_and_its_own_rule() {
    let r = rules();
    let restart = argv(&["systemctl", "restart", "nginx"]);
    let ok = decide(
        &r,
        "ci",
        &Ask::Command {
            server: "web-01",
            argv: &restart,
            user: None,
        },
    );
    assert!(ok.allowed, "{ok:?}");
    assert_eq!(ok.rule, Some(r.commands[0].id));
    // Another server, another account, root: no.
    for ask in [
        Ask::Command {
            server: "db-01",
            argv: &restart,
            user: None,
        },
        Ask::Command {
            server: "web-01",
            argv: &restart,
            user: Some("deploy"),
        },
        Ask::Command {
            server: "web-01",
            argv: &restart,
            user: Some("root"),
        },
    ] {
        assert!(!decide(&r, "ci", &ask).allowed, "{ask:?}");
    }
    // Root only where a rule names it, spelled any way.
    let update = argv(&["apt-get", "update"]);
    for root in ["root", "0", "#0"] {
        let d = decide(
            &r,
            "ci",
            &Ask::Command {
                server: "web-01",
                argv: &update,
                user: Some(root),
            },
        );
        assert!(d.allowed, "{root}: {d:?}");
    }
    assert!(
        !decide(
            &r,
            "ci",
            &Ask::Command {
                server: "web-01",
                argv: &update,
                user: None
            }
        )
        .allowed
    );
    // A terminal needs a lone `*`.
    assert!(
        !decide(
            &r,
            "ci",
            &Ask::Websh {
                server: "web-01",
                user: None
            }
        )
        .allowed
    );
    // Files: `*` is any account but root; downloads only.
    let file = |path, action, user| Ask::File {
        server: "web-02",
        path,
        action,
        user,
    };
    assert!(
        decide(
            &r,
            "ci",
            &file("/srv/app/x.log", FileAction::Download, Some("deploy"))
        )
        .allowed
    );
    assert!(!decide(&r, "ci", &file("/srv/app/x.log", FileAction::Upload, None)).allowed);
    assert!(
        !decide(
            &r,
            "ci",
            &file("/srv/app/x.log", FileAction::Download, Some("root"))
        )
        .allowed
    );
    assert!(
        !decide(
            &r,
            "ci",
            &file("/srv/app/../../etc/shadow", FileAction::Download, None)
        )
        .allowed
    );
    // Tunnels: the port and the host.
    let tunnel = |host, port| Ask::Tunnel {
        server: "web-01",
        host,
        port,
    };
    assert!(decide(&r, "ci", &tunnel("127.0.0.1", 5432)).allowed);
    assert!(!decide(&r, "ci", &tunnel("10.0.0.5", 5432)).allowed);
    assert!(!decide(&r, "ci", &tunnel("127.0.0.1", 5433)).allowed);
    // No rules at all: nothing.
    let none = TokenRules::default();
    assert!(
        !decide(
            &none,
            "ci",
            &Ask::Websh {
                server: "web-01",
                user: None
            }
        )
        .allowed
    );
}

#[test]
fn a_lone_star_for_the_own_account_opens_a_terminal() {
    let mut r = rules();
    r.commands.push(Rule {
        id: id(),
        rule: CommandRule {
            pattern: CommandPattern::parse("*").unwrap(),
            user: None,
        },
    });
    assert!(
        decide(
            &r,
            "ci",
            &Ask::Websh {
                server: "web-01",
                user: None
            }
        )
        .allowed
    );
    assert!(
        !decide(
            &r,
            "ci",
            &Ask::Websh {
                server: "web-01",
                user: Some("root")
            }
        )
        .allowed
    );
    assert!(
        !decide(
            &r,
            "ci",
            &Ask::Websh {
                server: "web-01",
                user: Some("deploy")
            }
        )
        .allowed
    );
}

const META: &[char] = &[';', '&', '|', '<', '>', '(', ')', '$', '`', '\n'];

proptest! {
    /// No command string holding an unquoted metacharacter is ever accepted.
    #[test]
    fn a_string_with_an_unquoted_metacharacter_never_splits(
        words in prop::collection::vec("[a-z0-9;&|<>()$`\n -]{1,8}", 1..5)
    ) {
        let line = words.join(" ");
        if line.contains(META) {
            prop_assert!(words::split(&line).is_err(), "{line:?} was accepted");
        }
    }

    /// A word with `*` (or a lone `*` that is not last) matches one argument, never two.
    #[test]
    fn a_star_word_never_spans_two_arguments(a in "[a-z./ -]{0,8}", b in "[a-z./ -]{0,8}") {
        let inside = CommandPattern::parse("prog x*").unwrap();
        let first = format!("x{}", a);
        prop_assert!(!inside.matches(&[String::from("prog"), first, b.clone()]));
        let middle = CommandPattern::parse("prog * end").unwrap();
        prop_assert!(!middle.matches(&[String::from("prog"), a, b, String::from("end")]));
    }

    /// A path word never matches an argument with a dot segment, `//` or a trailing `/`.
    #[test]
    fn a_path_word_never_matches_a_dot_segment(
        dirs in prop::collection::vec("[a-z]{1,5}", 1..4),
        bad in prop::sample::select(vec!["/..", "/.", "/", "/../x", "/./x", "//x"]),
    ) {
        let pattern = CommandPattern::parse(&format!("cat /{}/*", dirs.join("/"))).unwrap();
        let arg = format!("/{}{bad}", dirs.join("/"));
        prop_assert!(!pattern.matches(&[String::from("cat"), arg.clone()]), "{arg}");
        let deep = CommandPattern::parse(&format!("cat /{}/*/*", dirs.join("/"))).unwrap();
        prop_assert!(!deep.matches(&[String::from("cat"), arg.clone()]), "{arg}");
    }

    /// Splitting quoted words gives them back exactly (so quoting is the way to pass them).
    #[test]
    fn single_quoted_words_come_back_exactly(
        words in prop::collection::vec("[a-zA-Z0-9 ;&|<>()$`\"\\\\*?~#/.-]{0,10}", 1..5)
    ) {
        let line: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        prop_assert_eq!(words::split(&line.join(" ")).unwrap(), words);
    }
}

/// The compiled decision, checked against the linear one for the same ask.
fn compiled(r: &TokenRules, own: &str, ask: &Ask<'_>) -> Decision {
    let fast = r.compile().decide(own, ask);
    assert_eq!(fast, decide(r, own, ask), "{ask:?}");
    fast
}

#[test]
fn the_compiled_rules_decide_as_the_linear_scan() {
    let mut r = rules();
    let first_star = id();
    // Two lone stars (the first for another account) and rules sharing a program: the decision
    // must name the first matching rule in the token's order, whichever trie node holds it.
    r.commands.extend([
        Rule {
            id: first_star,
            rule: CommandRule {
                pattern: CommandPattern::parse("*").unwrap(),
                user: Some("deploy".into()),
            },
        },
        Rule {
            id: id(),
            rule: CommandRule {
                pattern: CommandPattern::parse("systemctl * nginx").unwrap(),
                user: None,
            },
        },
        Rule {
            id: id(),
            rule: CommandRule {
                pattern: CommandPattern::parse("*").unwrap(),
                user: None,
            },
        },
        Rule {
            id: id(),
            rule: CommandRule {
                pattern: CommandPattern::parse("cat /var/log/*.log").unwrap(),
                user: None,
            },
        },
        Rule {
            id: id(),
            rule: CommandRule {
                pattern: CommandPattern::parse("cat /srv/* *").unwrap(),
                user: Some("ops".into()),
            },
        },
        Rule {
            id: id(),
            rule: CommandRule {
                pattern: CommandPattern::parse("systemctl restart web-* --now").unwrap(),
                user: Some("ops".into()),
            },
        },
    ]);
    r.files.push(Rule {
        id: id(),
        rule: FileRule {
            path: "/srv/*/logs/*.log".into(),
            action: FileAction::Any,
            user: None,
        },
    });
    r.servers.push(Rule {
        id: id(),
        rule: "db-01".into(),
    });
    let restart = argv(&["systemctl", "restart", "nginx"]);
    let reload = argv(&["systemctl", "reload", "nginx"]);
    let log = argv(&["cat", "/var/log/syslog.log"]);
    let climb = argv(&["cat", "/var/log/../x.log"]);
    let dirty = argv(&["systemctl", "restart", "nginx\u{1b}"]);
    let srv = argv(&["cat", "/srv/a", "-n"]);
    let dot = argv(&["cat", "/srv/."]);
    let dots = argv(&["cat", "/srv/.."]);
    let slash = argv(&["cat", "/srv/a/"]);
    let trailing = argv(&["cat", "/srv/"]);
    let relative = argv(&["cat", "srv/a"]);
    let empty: Vec<String> = Vec::new();
    let command = |argv, user| Ask::Command {
        server: "web-01",
        argv,
        user,
    };
    let d = compiled(&r, "ci", &command(&restart, None));
    assert_eq!(d.rule, Some(r.commands[0].id));
    let web = argv(&["systemctl", "restart", "web-1", "--now"]);
    let later = argv(&["systemctl", "restart", "web-1", "--later"]);
    // Only the `ops` rules can allow these: the own account's lone `*` would hide them.
    assert!(compiled(&r, "ci", &command(&srv, Some("ops"))).allowed);
    assert!(compiled(&r, "ci", &command(&web, Some("ops"))).allowed);
    let d = compiled(&r, "ci", &command(&reload, Some("deploy")));
    assert_eq!(d.rule, Some(first_star));
    for argv in [
        &reload, &log, &climb, &dirty, &dot, &dots, &slash, &trailing, &relative, &empty, &web,
        &later, &restart,
    ] {
        for user in [None, Some("deploy"), Some("ops"), Some("root")] {
            compiled(&r, "ci", &command(argv, user));
        }
    }
    for ask in [
        Ask::Command {
            server: "db-01",
            argv: &restart,
            user: None,
        },
        Ask::Command {
            server: "db-02",
            argv: &restart,
            user: None,
        },
    ] {
        compiled(&r, "ci", &ask);
    }
    for user in [None, Some("deploy"), Some("root"), Some(" ci ")] {
        compiled(
            &r,
            "ci",
            &Ask::Websh {
                server: "web-01",
                user,
            },
        );
    }
    for path in [
        "/srv/app/x.log",
        "/srv/app",
        "/srv/web/logs/a.log",
        "/srv//web/./logs/a.log",
        "/srv/app/../../etc/shadow",
        "srv/app/x",
        "/",
    ] {
        for action in [FileAction::Download, FileAction::Upload, FileAction::Any] {
            for user in [None, Some("deploy"), Some("root")] {
                compiled(
                    &r,
                    "ci",
                    &Ask::File {
                        server: "web-01",
                        path,
                        action,
                        user,
                    },
                );
            }
        }
    }
    for (host, port) in [("127.0.0.1", 5432), ("127.0.0.1", 5433), ("db", 5432)] {
        compiled(
            &r,
            "ci",
            &Ask::Tunnel {
                server: "web-01",
                host,
                port,
            },
        );
    }
}

/// The normalisation [`path::normalised`] must agree with: the plain rebuild of every path.
fn normalise_by_rebuilding(path: &str) -> Option<String> {
    if !path.starts_with('/') || path.chars().any(char::is_control) {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

const USERS: &[Option<&str>] = &[
    None,
    Some("*"),
    Some(" * "),
    Some("root"),
    Some(" 0"),
    Some("#0"),
    Some("deploy"),
    Some("ci"),
    Some(""),
];

/// An account, the principal's own more often than any other (so that rules apply more often).
fn account() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![3 => Just(None), 5 => prop::sample::select(USERS)]
}

fn user() -> impl Strategy<Value = Option<String>> {
    account().prop_map(|u| u.map(str::to_owned))
}

fn action() -> impl Strategy<Value = FileAction> {
    prop::sample::select(vec![
        FileAction::Upload,
        FileAction::Download,
        FileAction::Any,
    ])
}

/// Small alphabets, so that generated asks often meet generated rules (and their wildcards,
/// path words, dot segments, repeated programs and prefixes).
fn token_rules() -> impl Strategy<Value = TokenRules> {
    let servers = prop::collection::vec(
        prop_oneof!["[aé]{0,1}[*?]?[ab]{0,1}", Just("*".to_owned())],
        0..4,
    );
    let command = (
        prop::sample::select(vec!["ls", "cat", "/bin/ls", "*"]),
        prop::collection::vec(
            prop_oneof![
                "[ab]{1,2}",
                "[ab]?[*?][ab]?",
                "/?[ab*.]{1,2}(/[ab*]{1,2}){0,1}",
                Just("*".into())
            ],
            0..3,
        ),
        user(),
    );
    let commands = prop::collection::vec(command, 0..8);
    let file = (
        prop::collection::vec(
            prop_oneof!["[ab]{1,2}", "[ab]?[*?]", Just("**".into())],
            0..4,
        ),
        prop::bool::ANY,
        action(),
        user(),
    );
    let files = prop::collection::vec(file, 0..8);
    let tunnel = (5000u16..5003, prop::sample::select(vec!["127.0.0.1", "db"]));
    let tunnels = prop::collection::vec(tunnel, 0..4);
    (servers, commands, files, tunnels).prop_map(|(servers, commands, files, tunnels)| {
        TokenRules {
            servers: servers
                .into_iter()
                .map(|rule| Rule { id: id(), rule })
                .collect(),
            commands: commands
                .into_iter()
                .filter_map(|(program, args, user)| {
                    let text = std::iter::once(program.to_owned())
                        .chain(args)
                        .collect::<Vec<_>>()
                        .join(" ");
                    let pattern = CommandPattern::parse(&text).ok()?;
                    Some(Rule {
                        id: id(),
                        rule: CommandRule { pattern, user },
                    })
                })
                .collect(),
            files: files
                .into_iter()
                .map(|(parts, trailing_slash, action, user)| {
                    // Rules are meant to be normalised; a stray trailing `/` must not change
                    // anything either.
                    let mut path = format!("/{}", parts.join("/"));
                    if trailing_slash && path.len() > 1 {
                        path.push('/');
                    }
                    Rule {
                        id: id(),
                        rule: FileRule { path, action, user },
                    }
                })
                .collect(),
            tunnels: tunnels
                .into_iter()
                .map(|(port, host)| Rule {
                    id: id(),
                    rule: TunnelRule {
                        port,
                        host: host.into(),
                    },
                })
                .collect(),
        }
    })
}

proptest! {
    // Matches are a minority of generated asks: more cases, so that the rule orders, accounts
    // and wildcards that decide them are all met in one run.
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Every ask gets the same decision (allowed, rule and reason) from the compiled rules as
    /// from trying each rule in turn.
    #[test]
    fn compiled_rules_decide_as_the_linear_scan(
        rules in token_rules(),
        own in prop::sample::select(vec!["ci", "deploy", "root"]),
        server in "[abé]{0,2}",
        program in prop::sample::select(vec!["ls", "cat", "/bin/ls", "bash"]),
        args in prop::collection::vec(
            prop_oneof![
                6 => "[ab]{0,2}",
                3 => "/?[ab.]{0,2}(/[ab.]{1,2}){0,1}",
                1 => Just("a\u{7}".into())
            ],
            0..3,
        ),
        empty_argv in prop::bool::weighted(0.05),
        path in prop_oneof![
            8 => "/?(([ab]{1,2}|[.]{1,2}|)/){0,3}[ab]{0,2}",
            1 => Just("/".to_owned())
        ],
        asked in account(),
        file_action in action(),
        port in 5000u16..5003,
        host in prop::sample::select(vec!["127.0.0.1", "db", "localhost"]),
    ) {
        let compiled = rules.compile();
        let argv: Vec<String> = if empty_argv {
            Vec::new()
        } else {
            std::iter::once(program.to_owned()).chain(args).collect()
        };
        let asks = [
            Ask::Command { server: &server, argv: &argv, user: asked },
            Ask::Websh { server: &server, user: asked },
            Ask::File { server: &server, path: &path, action: file_action, user: asked },
            Ask::Tunnel { server: &server, host, port },
        ];
        for ask in asks {
            prop_assert_eq!(compiled.decide(own, &ask), decide(&rules, own, &ask), "{:?}", ask);
        }
    }
}

proptest! {
    /// Normalising borrows exactly when the path is already normal, and gives what rebuilding
    /// the path would.
    #[test]
    fn normalising_borrows_only_normal_paths(path in "/?([ab.\u{7}]{0,2}/){0,4}[ab.]{0,2}") {
        let rebuilt = normalise_by_rebuilding(&path);
        let got = path::normalised(&path);
        prop_assert_eq!(got.as_deref(), rebuilt.as_deref());
        if let Some(got) = got {
            prop_assert_eq!(
                matches!(got, std::borrow::Cow::Borrowed(_)),
                *got == *path,
                "{}", path
            );
        }
    }
}
