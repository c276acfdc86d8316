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
