//! `gate websh` in a real pseudo-terminal against a real agent, signed in with a password as a
//! person (so inside a work session): keys echo, a resize reaches the remote shell, the shell's
//! exit status is gate's, `~.` after Enter leaves at once (255, as ssh), and a gateway restart
//! mid-session is ridden out with no byte lost or repeated.

use crate::Fixture;
use gatehouse_client::api::sessions::{SessionDecision, SessionFilter};
use gatehouse_e2e::gate::Gate;
use gatehouse_e2e::pty::PtyGate;
use gatehouse_e2e::{free_port, shell_user, PASSWORD};

/// `ops` signed in to a `gate` by password, with a websh session on web-01 in use.
async fn signed_in(fx: &Fixture) -> Gate {
    signed_in_with(fx, "--scope websh").await
}

/// Like [`signed_in`], the session with `scopes` (`--scope …` flags).
async fn signed_in_with(fx: &Fixture, scopes: &str) -> Gate {
    let gate = Gate::new();
    gate.login_password(&fx.server.base, "ops", PASSWORD).await;
    let args = format!(
        "--json work-session create --purpose websh {scopes} --server web-01 --expires-in 1h --use"
    );
    let created = gate.run(&args.split_whitespace().collect::<Vec<_>>()).await;
    assert_eq!(created.code, 0, "{created:?}");
    // A superuser's own request is approved as made; `--use` starts it for this sign-in.
    assert_eq!(created.json()["status"], "active", "{created:?}");
    gate
}

/// The target: the test shell account when running as root.
fn target() -> String {
    match shell_user() {
        Some(user) => format!("{user}@web-01"),
        None => "web-01".to_owned(),
    }
}

/// `gate websh` in a `cols`×`rows` pseudo-terminal, once the remote shell has drawn its prompt.
async fn websh(gate: &Gate, cols: u16, rows: u16) -> PtyGate {
    let term = PtyGate::spawn(gate.home.path(), &["websh", &target()], &[], cols, rows);
    term.wait_after("after Enter leaves it").await;
    term
}

#[tokio::test]
async fn websh_in_a_pty_echoes_resizes_and_exits_with_the_shell_status() {
    let fx = Fixture::start(&["web-01"]).await;
    let gate = signed_in(&fx).await;
    let mut term = websh(&gate, 80, 24).await;
    term.type_keys("echo hi-$((40+2))\r").await;
    term.wait_for("hi-42").await;
    // The size at start, then a resize, as the remote shell sees them.
    term.type_keys("stty size\r").await;
    term.wait_for("24 80").await;
    term.resize(100, 30);
    // The new size travels as SIGWINCH to gate, a message to the gateway, a resize of the remote
    // terminal: ask again until the remote shell answers with it.
    for asked in 1.. {
        let stale = term.count("24 80");
        term.type_keys("stty size\r").await;
        term.wait_until("an answer to stty size", |text| {
            text.matches("24 80").count() > stale || text.contains("30 100")
        })
        .await;
        if term.text().contains("30 100") {
            break;
        }
        assert!(asked < 100, "the resize never arrived: {}", term.text());
    }
    term.type_keys("exit 7\r").await;
    assert_eq!(term.wait_exit().await, 7, "{}", term.text());
}

#[tokio::test]
async fn websh_escape_leaves_at_once_and_a_tilde_elsewhere_is_typed() {
    let fx = Fixture::start(&["web-01"]).await;
    let gate = signed_in(&fx).await;
    let mut term = websh(&gate, 80, 24).await;
    // A tilde inside a line is typed; `~~` sends one; neither leaves.
    term.type_keys("echo a~b; echo ~~c\r").await;
    term.wait_for("a~b").await;
    term.wait_for("~~c").await;
    term.type_keys("~.").await;
    let code = term.wait_exit().await;
    assert_eq!(code, 255, "{}", term.text());
    // What gate said last may still be on its way through the pty.
    term.wait_for("left the terminal").await;
}

#[tokio::test]
async fn websh_rides_out_a_gateway_restart_with_no_byte_lost_or_repeated() {
    let fx = Fixture::start_on(&["web-01"], free_port()).await;
    let gate = signed_in(&fx).await;
    let mut term = websh(&gate, 80, 24).await;
    term.type_keys("export MARK=kept-$((40+2)); echo set-$MARK\r")
        .await;
    term.wait_for("set-kept-42").await;

    let fx = fx.crash_and_restart("web-01").await;

    // gate reconnects by itself and resumes where it was: the shell kept its state, and what
    // was drawn before the restart is not drawn again.
    term.type_keys("echo again-$MARK\r").await;
    term.wait_for("again-kept-42").await;
    assert_eq!(term.count("set-kept-42"), 1, "{}", term.text());
    term.type_keys("exit\r").await;
    assert_eq!(term.wait_exit().await, 0, "{}", term.text());
    drop(fx);
}

#[tokio::test]
async fn websh_share_join_watch_and_close_from_the_command_line() {
    let fx = Fixture::start(&["web-01"]).await;
    let gate = signed_in(&fx).await;
    let mut owner = websh(&gate, 80, 24).await;

    // The owner's terminal is listed, with its id.
    let ls = gate.run(&["--json", "websh", "ls"]).await;
    assert_eq!(ls.code, 0, "{ls:?}");
    let id = ls.json()["items"][0]["id"]
        .as_str()
        .expect("a live terminal")
        .to_owned();

    // Shared: the link on stdout and, stdout being a pipe here, the password after it.
    let shared = gate.run(&["websh", "share", &id]).await;
    assert_eq!(shared.code, 0, "{shared:?}");
    let mut lines = shared.stdout.lines();
    let url = lines.next().expect("the link").to_owned();
    let password = lines.next().expect("the password").to_owned();
    assert!(url.contains("/join#"), "{url}");

    // A guest with no sign-in joins, is asked for the password without echo, and watches.
    let nobody = Gate::new();
    let mut guest = PtyGate::spawn(nobody.home.path(), &["websh", "join", &url], &[], 80, 24);
    guest.wait_for("Link password:").await;
    guest.type_keys(&format!("{password}\r")).await;
    // Staff watch it too.
    let mut watcher = PtyGate::spawn(gate.home.path(), &["websh", "watch", &id], &[], 80, 24);
    watcher.wait_after("~. after Enter leaves").await;

    owner.type_keys("echo shared-$((6*7))\r").await;
    guest.wait_for("shared-42").await;
    watcher.wait_for("shared-42").await;
    assert!(
        !guest.text().contains(&password),
        "the password was echoed: {}",
        guest.text()
    );
    // A read-only guest's keys go nowhere.
    guest.type_keys("echo from-guest-$((1+1))\r").await;
    owner.type_keys("echo owner-after\r").await;
    owner.wait_for("owner-after").await;
    assert_eq!(owner.count("from-guest-2"), 0, "{}", owner.text());

    // Closing it ends every view; the owner's gate says so and exits non-zero.
    let closed = gate.run(&["websh", "close", &id]).await;
    assert_eq!(closed.code, 0, "{closed:?}");
    assert_ne!(owner.wait_exit().await, 0, "{}", owner.text());
    assert_ne!(guest.wait_exit().await, 0, "{}", guest.text());
    assert_ne!(watcher.wait_exit().await, 0, "{}", watcher.text());
}

#[tokio::test]
async fn websh_with_a_command_runs_it_on_a_terminal_and_exits_with_its_status() {
    let fx = Fixture::start(&["web-01"]).await;
    // A command is a command: it needs the `command` scope, as `exec` does.
    let gate = signed_in_with(&fx, "--scope websh --scope command").await;
    let mut term = PtyGate::spawn(
        gate.home.path(),
        &["websh", &target(), "echo cmd-$((2+3)) on $(tty); exit 4"],
        &[],
        80,
        24,
    );
    term.wait_for("cmd-5 on /dev/pts/").await;
    assert_eq!(term.wait_exit().await, 4, "{}", term.text());
    let mut folded = PtyGate::spawn(
        gate.home.path(),
        &["websh", "--gate-exit-codes", &target(), "exit 4"],
        &[],
        80,
        24,
    );
    assert_eq!(folded.wait_exit().await, 1, "{}", folded.text());
}

#[tokio::test]
async fn a_revoked_session_ends_gate_websh_at_once() {
    let fx = Fixture::start(&["web-01"]).await;
    let gate = signed_in(&fx).await;
    let mut term = websh(&gate, 80, 24).await;
    let active = SessionFilter {
        status: Some("active".to_owned()),
        ..SessionFilter::default()
    };
    let sessions = fx
        .api
        .client
        .work_sessions(&active)
        .await
        .expect("sessions");
    let id = sessions.items.first().expect("the session").id;
    let revoked_at = std::time::Instant::now();
    fx.api
        .client
        .decide_work_session(id, SessionDecision::Revoke, Some("e2e: stop".to_owned()))
        .await
        .expect("revoked");
    // Decided against: gate exits 6 and says why, without waiting for a key.
    assert_eq!(term.wait_exit().await, 6, "{}", term.text());
    eprintln!("websh ended {:?} after the revoke", revoked_at.elapsed());
    term.wait_for("revoked").await;
}
