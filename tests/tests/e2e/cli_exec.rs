//! `gate exec` against real agents, through an API token's ACLs: an argv's stdout and stderr
//! stay apart, the remote exit code passes through (or folds to 1 with `--gate-exit-codes`),
//! and a fan-out to two agents prefixes each line with its server and sums up on stderr.

use crate::{shell_token, Fixture};
use gatehouse_client::api::sessions::SessionDecision;
use gatehouse_e2e::gate::Gate;
use gatehouse_e2e::shell_user;
use gatehouse_shared::WorkSessionId;
use std::os::unix::fs::PermissionsExt;

/// `ops`'s token allowed `sh …` on web-*, signed in to a `gate`.
async fn gate_for(fx: &Fixture) -> Gate {
    let secret = shell_token(&fx.api, "cli", "web-*").await;
    let gate = Gate::new();
    let login = gate.run(&["login", &fx.server.base, "-t", &secret]).await;
    assert_eq!(login.code, 0, "{login:?}");
    gate
}

/// `gate exec [-u USER] TARGET -- sh -c SCRIPT` with extra flags before the target.
fn exec_args<'a>(flags: &[&'a str], target: &'a str, script: &'a str) -> Vec<&'a str> {
    let mut args = vec!["exec"];
    args.extend(flags);
    if let Some(user) = shell_user() {
        args.extend(["-u", user]);
    }
    args.extend([target, "--", "sh", "-c", script]);
    args
}

#[tokio::test]
async fn exec_keeps_stdout_and_stderr_apart_and_passes_the_remote_exit_code_through() {
    let fx = Fixture::start(&["web-01"]).await;
    let gate = gate_for(&fx).await;
    let script = "echo out-$((40+2)); echo err-line >&2; exit 7";

    let run = gate.run(&exec_args(&[], "web-01", script)).await;
    assert_eq!(run.code, 7, "{run:?}");
    assert_eq!(run.stdout, "out-42\n");
    assert_eq!(run.stderr, "err-line\n");

    // Folded: any remote failure is 1, by flag or by environment.
    let folded = gate
        .run(&exec_args(&["--gate-exit-codes"], "web-01", script))
        .await;
    assert_eq!(folded.code, 1, "{folded:?}");
    assert_eq!(folded.stdout, "out-42\n");
    let by_env = gate
        .run_env(
            &exec_args(&[], "web-01", script),
            &[("GATE_EXIT_CODES", "1")],
        )
        .await;
    assert_eq!(by_env.code, 1, "{by_env:?}");
    let not_folded = gate
        .run_env(
            &exec_args(&[], "web-01", script),
            &[("GATE_EXIT_CODES", "0")],
        )
        .await;
    assert_eq!(not_folded.code, 7, "{not_folded:?}");

    // JSON carries the remote exit code apart from gate's own.
    let json = gate
        .run(&exec_args(
            &["--json", "--gate-exit-codes"],
            "web-01",
            script,
        ))
        .await;
    assert_eq!(json.code, 1, "{json:?}");
    let body = json.json();
    assert_eq!(body["runs"][0]["remote_exit_code"], 7);
    assert_eq!(body["runs"][0]["stdout"], "out-42\n");
    assert_eq!(body["runs"][0]["stderr"], "err-line\n");
    assert_eq!(body["exit_code"], 1);
    // How long it ran, as the API's job would say (the stream's `exit` carries it).
    assert!(body["runs"][0]["duration_ms"].is_u64(), "{body}");

    // A success is 0, and an argv is not a shell line: each word arrives as one argument,
    // metacharacters and all.
    let mut args = exec_args(&[], "web-01", "printf '[%s]' \"$@\"");
    args.extend(["sh", "a; echo injected", "$(id)"]);
    let ok = gate.run(&args).await;
    assert_eq!(ok.code, 0, "{ok:?}");
    assert_eq!(ok.stdout, "[a; echo injected][$(id)]");

    // The token's ACL is still the gate: a program it does not allow is exit 3.
    let mut denied = vec!["exec"];
    if let Some(user) = shell_user() {
        denied.extend(["-u", user]);
    }
    denied.extend(["web-01", "--", "id"]);
    let denied = gate.run(&denied).await;
    assert_eq!(denied.code, 3, "{denied:?}");
    assert_eq!(denied.stdout, "");
}

#[tokio::test]
async fn exec_fans_out_with_prefixed_lines_a_summary_and_log_files() {
    let fx = Fixture::start(&["web-01", "web-02"]).await;
    let gate = gate_for(&fx).await;
    // Both agents share this machine: the first to create the marker exits 0, the other 5.
    let markers = fx.dir.path().join("markers");
    std::fs::create_dir(&markers).unwrap();
    std::fs::set_permissions(&markers, std::fs::Permissions::from_mode(0o777)).unwrap();
    let script = format!(
        "echo hello; echo oops >&2; mkdir {} 2>/dev/null && exit 0 || exit 5",
        markers.join("taken").display()
    );
    let logs = gate.home.path().join("logs");
    let logs_arg = logs.display().to_string();
    let run = gate
        .run(&exec_args(
            &["--log-dir", &logs_arg],
            "web-01,web-02",
            &script,
        ))
        .await;
    assert_eq!(run.code, 1, "one of two failed: {run:?}");
    assert_eq!(run.stdout, "web-01 | hello\nweb-02 | hello\n");
    assert!(
        run.stderr.starts_with("web-01 | oops\nweb-02 | oops\n"),
        "{run:?}"
    );
    let summary = run.stderr.lines().last().unwrap();
    assert!(summary.starts_with("1 of 2 servers succeeded"), "{summary}");
    assert!(
        summary.contains("exit 0") && summary.contains("exit 5"),
        "{summary}"
    );
    for server in ["web-01", "web-02"] {
        let out = std::fs::read_to_string(logs.join(format!("{server}.stdout"))).unwrap();
        let err = std::fs::read_to_string(logs.join(format!("{server}.stderr"))).unwrap();
        assert_eq!((out.as_str(), err.as_str()), ("hello\n", "oops\n"));
    }

    // --all: every server of the named work session (a superuser's own, approved at once).
    let session = gate
        .run(&[
            "--json",
            "work-session",
            "create",
            "--purpose",
            "fan out",
            "--scope",
            "command",
            "--server",
            "web-01,web-02",
            "--expires-in",
            "1h",
        ])
        .await;
    assert_eq!(session.code, 0, "{session:?}");
    let id = session.json()["id"].as_str().unwrap().to_owned();
    let mut all = vec!["--work-session", id.as_str(), "exec", "--all"];
    if let Some(user) = shell_user() {
        all.extend(["-u", user]);
    }
    all.extend(["--", "sh", "-c", "echo all"]);
    let run = gate.run(&all).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "web-01 | all\nweb-02 | all\n");

    // All succeed: 0; one at a time (--parallel 1) gives the same report.
    let run = gate
        .run(&exec_args(&["--parallel", "1"], "web-01,web-02", "echo hi"))
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "web-01 | hi\nweb-02 | hi\n");
    assert!(run.stderr.contains("2 of 2 servers succeeded"), "{run:?}");
}

#[tokio::test]
async fn exec_streams_stdin_a_terminal_three_megabytes_and_signals() {
    let fx = Fixture::start(&["web-01"]).await;
    let gate = gate_for(&fx).await;

    // Standard input reaches the command; its end closes the command's input.
    let cat = gate
        .run_stdin(
            &exec_args(&["--stdin"], "web-01", "cat; echo eof-seen >&2"),
            "line one\nline two\n",
        )
        .await;
    assert_eq!(cat.code, 0, "{cat:?}");
    assert_eq!(cat.stdout, "line one\nline two\n");
    assert_eq!(cat.stderr, "eof-seen\n");

    // Three megabytes arrive whole, live, through the stream (the stored capture is bounded).
    let big = gate
        .run(&exec_args(
            &[],
            "web-01",
            "head -c 3000000 /dev/zero | tr '\\0' x; echo",
        ))
        .await;
    assert_eq!(big.code, 0, "{}", big.stderr);
    assert_eq!(big.stdout.len(), 3_000_001);
    assert!(big.stdout.trim_end().bytes().all(|b| b == b'x'));

    // A terminal: the command sees a pseudo-terminal of this one's size.
    let mut args = vec!["exec", "-t"];
    if let Some(user) = shell_user() {
        args.extend(["-u", user]);
    }
    args.extend(["web-01", "--", "sh", "-c", "tty; stty size; exit 3"]);
    let mut term = gatehouse_e2e::pty::PtyGate::spawn(gate.home.path(), &args, &[], 90, 33);
    term.wait_for("/dev/pts/").await;
    term.wait_for("33 90").await;
    assert_eq!(term.wait_exit().await, 3, "{}", term.text());

    // Ctrl-C (SIGINT to gate) interrupts the remote command: 128 + 2.
    let (waiting, _) = gate
        .start_until(
            &exec_args(&[], "web-01", "echo started >&2; sleep 100"),
            "started",
        )
        .await;
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &waiting.pid().to_string()])
        .status()
        .expect("kill");
    assert!(interrupted.success());
    let run = waiting.finish().await;
    assert_eq!(run.code, 130, "{run:?}");

    // --stdin takes one server.
    let two = gate
        .run(&exec_args(&["--stdin"], "web-01,web-02", "cat"))
        .await;
    assert_eq!(two.code, 2, "{two:?}");
}

#[tokio::test]
async fn a_revoked_session_ends_a_running_exec_within_a_second() {
    let fx = Fixture::start(&["web-01"]).await;
    let gate = Gate::new();
    gate.login_password(&fx.server.base, "ops", gatehouse_e2e::PASSWORD)
        .await;
    let made = gate.use_session(&["--scope", "command"], "web-01").await;
    let id: WorkSessionId = made["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("a session id");
    let (waiting, _) = gate
        .start_until(
            &exec_args(&[], "web-01", "echo started >&2; sleep 100"),
            "started",
        )
        .await;
    let revoked_at = std::time::Instant::now();
    fx.api
        .client
        .decide_work_session(id, SessionDecision::Revoke, Some("e2e: stop".to_owned()))
        .await
        .expect("revoked");
    let run = waiting.finish().await;
    let took = revoked_at.elapsed();
    eprintln!("exec ended {took:?} after the revoke");
    assert_eq!(run.code, 6, "decided against: {run:?}");
    assert!(run.stderr.contains("ended"), "{run:?}");
}
