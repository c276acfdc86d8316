//! `gate play`: a terminal typed into through `gate websh` in a real pseudo-terminal, then its
//! recording replayed at high speed: what was typed (echoed by the remote shell) and printed
//! comes back on stdout.

use crate::cli_cp::files_gate;
use crate::Fixture;
use gatehouse_e2e::pty::PtyGate;
use gatehouse_e2e::shell_user;

#[tokio::test]
async fn cli_play_replays_a_recorded_terminal() {
    let fx = Fixture::start(&["web-01"]).await;
    let gate = files_gate(&fx).await;
    let target = match shell_user() {
        Some(user) => format!("{user}@web-01"),
        None => "web-01".to_owned(),
    };
    let mut term = PtyGate::spawn(gate.home.path(), &["websh", &target], &[], 80, 24);
    term.wait_after("after Enter leaves it").await;
    let ls = gate.run(&["--json", "websh", "ls"]).await;
    assert_eq!(ls.code, 0, "{ls:?}");
    let id = ls.json()["items"][0]["id"]
        .as_str()
        .expect("the live terminal's id")
        .to_owned();
    term.type_keys("echo played-$((6*7)) # typed-by-test\r")
        .await;
    term.wait_for("played-42").await;
    term.type_keys("exit\r").await;
    assert_eq!(term.wait_exit().await, 0, "{}", term.text());
    fx.api.recording_with(&id, "played-42").await;

    let run = gate
        .run(&["play", &id, "--speed", "1000", "--skip-idle", "0.01"])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    // The echo of the typed line, then the command's output.
    let typed = run.stdout.find("typed-by-test").expect("the typed line");
    let printed = run.stdout.rfind("played-42").expect("the output");
    assert!(typed < printed, "{run:?}");
    assert!(run.stderr.is_empty(), "{run:?}");

    // Bad speeds are usage errors; an unknown terminal is the server's not_found.
    let bad = gate.run(&["play", &id, "--speed", "0"]).await;
    assert_eq!(bad.code, 2, "{bad:?}");
    let missing = gate
        .run(&["--json", "play", "00000000-0000-4000-8000-000000000000"])
        .await;
    assert_eq!(missing.code, 1, "{missing:?}");
    assert_eq!(
        missing.error_json()["error_code"],
        "not_found",
        "{missing:?}"
    );
}
