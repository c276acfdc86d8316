//! Criterion benchmark of the token ACL decision with 100 rules of each kind (target: under
//! 5 µs per call). It measures what the server calls, [`CompiledRules::decide`], beside the
//! anchor (the same decision with one rule of each kind), and for comparison the linear
//! `decide` over the same 100 rules and the one-off cost of compiling. A table of per-call
//! times and ratios to the anchor, read back from criterion's estimates, ends the run.

use criterion::{black_box, Criterion};
use gatehouse_shared::acl::command::CommandPattern;
use gatehouse_shared::acl::{
    decide, Ask, CommandRule, FileAction, FileRule, Rule, TokenRules, TunnelRule,
};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
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

/// The same token with its last command rule a lone `*` for `deploy`: a terminal as `deploy` is
/// allowed by that last rule only.
fn rules_with_terminal(n: usize) -> TokenRules {
    let mut r = rules(n);
    let last = r.commands.last_mut().expect("a command rule");
    last.rule = CommandRule {
        pattern: CommandPattern::parse("*").expect("pattern"),
        user: Some("deploy".into()),
    };
    r
}

/// The cases, in the order of the summary table.
const CASES: [&str; 5] = ["command", "file", "websh", "websh_denied", "tunnel"];

fn acl(c: &mut Criterion) {
    for n in [1usize, 100] {
        let r = rules(n);
        let terminal = rules_with_terminal(n);
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
        let asks = [
            (
                &r,
                Ask::Command {
                    server: &server,
                    argv: &argv,
                    user: None,
                },
            ),
            (
                &r,
                Ask::File {
                    server: &server,
                    path: &path,
                    action: FileAction::Download,
                    user: Some("deploy"),
                },
            ),
            (
                &terminal,
                Ask::Websh {
                    server: &server,
                    user: Some("deploy"),
                },
            ),
            // No lone `*` at all: the linear decision tries every command rule.
            (
                &r,
                Ask::Websh {
                    server: &server,
                    user: None,
                },
            ),
            (
                &r,
                Ask::Tunnel {
                    server: &server,
                    host: "127.0.0.1",
                    port: 5000 + last as u16,
                },
            ),
        ];
        for (name, (rules, ask)) in CASES.iter().zip(asks) {
            let compiled = rules.compile();
            assert_eq!(
                compiled.decide("ci", &ask),
                decide(rules, "ci", &ask),
                "{name}"
            );
            assert_eq!(compiled.decide("ci", &ask).allowed, *name != "websh_denied");
            c.bench_function(&format!("acl_compiled_{n}_rules_{name}"), |b| {
                b.iter(|| black_box(&compiled).decide("ci", black_box(&ask)))
            });
            if n == 100 {
                c.bench_function(&format!("acl_linear_{n}_rules_{name}"), |b| {
                    b.iter(|| decide(black_box(rules), "ci", black_box(&ask)))
                });
            }
        }
        c.bench_function(&format!("acl_compile_{n}_rules"), |b| {
            b.iter(|| black_box(&r).compile())
        });
    }
}

/// Where criterion writes its estimates (as criterion itself finds it, short of asking cargo).
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("criterion")
}

/// A benchmark's per-call time in µs as criterion reported it (the slope, else the mean), when
/// this run wrote it.
fn micros(home: &std::path::Path, id: &str, since: SystemTime) -> Option<f64> {
    let file = home.join(id).join("new/estimates.json");
    if std::fs::metadata(&file).ok()?.modified().ok()? < since {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
    let typical = json
        .get("slope")
        .filter(|s| !s.is_null())
        .or(json.get("mean"))?;
    Some(typical.get("point_estimate")?.as_f64()? / 1000.0)
}

fn summary(since: SystemTime) {
    let home = criterion_home();
    let cell = |id: &str| micros(&home, id, since);
    println!("\nper call, µs (target: compiled, 100 rules, under 5):");
    println!(
        "{:<14} {:>10} {:>10} {:>8} {:>10} {:>7}",
        "case", "anchor", "100 rules", "ratio", "linear", "< 5 µs"
    );
    for name in CASES {
        let (Some(one), Some(hundred)) = (
            cell(&format!("acl_compiled_1_rules_{name}")),
            cell(&format!("acl_compiled_100_rules_{name}")),
        ) else {
            println!("{name:<14} (not measured in this run)");
            continue;
        };
        let linear = cell(&format!("acl_linear_100_rules_{name}"))
            .map_or("-".to_owned(), |t| format!("{t:.3}"));
        println!(
            "{name:<14} {one:>10.3} {hundred:>10.3} {:>7.2}x {linear:>10} {:>7}",
            hundred / one,
            if hundred < 5.0 { "yes" } else { "NO" }
        );
    }
    for n in [1, 100] {
        if let Some(t) = cell(&format!("acl_compile_{n}_rules")) {
            println!("compiling {n} rule(s) of each kind: {t:.3} µs");
        }
    }
}

fn main() {
    // The modification time of criterion's files marks what this run measured; file systems
    // with coarse timestamps are allowed a second.
    let since = SystemTime::now() - Duration::from_secs(1);
    // Short phases keep three runs of 17 benchmarks within minutes on a shared machine.
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    acl(&mut c);
    c.final_summary();
    summary(since);
}
