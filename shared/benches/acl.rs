//! Criterion benchmark of the token ACL decision with 100 rules of each kind (target: under
//! 5 µs per call). The anchor, run beside it, is the same decision with one rule of each kind.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use gatehouse_shared::acl::command::CommandPattern;
use gatehouse_shared::acl::{
    decide, Ask, CommandRule, FileAction, FileRule, Rule, TokenRules, TunnelRule,
};
use uuid::Uuid;

fn rule<T>(rule: T) -> Rule<T> {
    Rule {
        id: Uuid::new_v4(),
        rule,
    }
}

fn rules(n: usize) -> TokenRules {
    TokenRules {
        servers: (0..n).map(|i| rule(format!("app-{i:03}-*"))).collect(),
        commands: (0..n)
            .map(|i| {
                rule(CommandRule {
                    pattern: CommandPattern::parse(&format!(
                        "systemctl restart service-{i:03} --now *"
                    ))
                    .expect("pattern"),
                    user: None,
                })
            })
            .collect(),
        files: (0..n)
            .map(|i| {
                rule(FileRule {
                    path: format!("/srv/app-{i:03}/releases/*/logs/**"),
                    action: FileAction::Download,
                    user: Some("*".into()),
                })
            })
            .collect(),
        tunnels: (0..n)
            .map(|i| {
                rule(TunnelRule {
                    port: 5000 + i as u16,
                    host: "127.0.0.1".into(),
                })
            })
            .collect(),
    }
}

fn acl(c: &mut Criterion) {
    for n in [1usize, 100] {
        let r = rules(n);
        let last = n - 1;
        let server = format!("app-{last:03}-web");
        // The worst case: only the last rule of each kind matches.
        let argv: Vec<String> = [
            "systemctl",
            "restart",
            &format!("service-{last:03}"),
            "--now",
            "-q",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let path = format!("/srv/app-{last:03}/releases/42/logs/2026/12/app.log");
        let cases = [
            (
                "command",
                Ask::Command {
                    server: &server,
                    argv: &argv,
                    user: None,
                },
            ),
            (
                "file",
                Ask::File {
                    server: &server,
                    path: &path,
                    action: FileAction::Download,
                    user: Some("deploy"),
                },
            ),
            (
                "tunnel",
                Ask::Tunnel {
                    server: &server,
                    host: "127.0.0.1",
                    port: 5000 + last as u16,
                },
            ),
            (
                "denied",
                Ask::Websh {
                    server: &server,
                    user: None,
                },
            ),
        ];
        for (name, ask) in cases {
            c.bench_function(&format!("acl_{n}_rules_{name}"), |b| {
                b.iter(|| decide(black_box(&r), "ci", black_box(&ask)))
            });
        }
    }
}

criterion_group!(benches, acl);
criterion_main!(benches);
