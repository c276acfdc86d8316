//! `gate cp` against a real gateway and an agent serving a `--file-root`, signed in by password
//! inside a work session: 20 MB both ways with SHA-256 compared, trees with their modes and
//! times, standard input and output, `-n`, and hostile paths refused with nothing left behind.

use crate::files::{give_to_run_as, start_with, Tree};
use crate::Fixture;
use gatehouse_e2e::files::{sha256_hex, Pattern, RssSampler};
use gatehouse_e2e::gate::Gate;
use gatehouse_e2e::pty::PtyGate;
use gatehouse_e2e::{shell_user, PASSWORD};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// `ops` signed in to a `gate` by password, with a session for files (and the editor) in use.
pub(crate) async fn files_gate(fx: &Fixture) -> Gate {
    let gate = Gate::new();
    gate.login_password(&fx.server.base, "ops", PASSWORD).await;
    let args = "--json work-session create --purpose files --scope webftp,editor,websh \
                --server web-01 --expires-in 1h --use";
    let created = gate.run(&args.split_whitespace().collect::<Vec<_>>()).await;
    assert_eq!(created.code, 0, "{created:?}");
    assert_eq!(created.json()["status"], "active", "{created:?}");
    gate
}

/// `[USER@]web-01:PATH` for a path on the agent (as the test shell account when run as root).
pub(crate) fn remote(path: &Path) -> String {
    match shell_user() {
        Some(user) => format!("{user}@web-01:{}", path.display()),
        None => format!("web-01:{}", path.display()),
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn file_sha256(path: &Path) -> String {
    sha256_hex(&std::fs::read(path).unwrap())
}

/// A local scratch folder, readable by the run-as user.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[tokio::test]
async fn cli_cp_round_trips_20_mb_with_sha256_checked_both_ways() {
    let tree = Tree::new();
    let fx = start_with(&tree, &[]).await;
    let gate = files_gate(&fx).await;
    let local = scratch();
    let original = local.path().join("big.bin");
    let mut file = std::fs::File::create(&original).unwrap();
    for chunk in Pattern::default().chunks(20 * 1024 * 1024) {
        file.write_all(&chunk).unwrap();
    }
    drop(file);
    let want = file_sha256(&original);

    // Up: the server's SHA-256 is gate's own, and the file on the server is the same.
    let on_server = tree.root.join("big.bin");
    let up = gate
        .run(&[
            "--json",
            "cp",
            original.to_str().unwrap(),
            &remote(&on_server),
        ])
        .await;
    assert_eq!(up.code, 0, "{up:?}");
    // stderr is a pipe here: no progress line, no carriage returns.
    assert!(up.stderr.is_empty(), "{up:?}");
    let item = &up.json()[0];
    assert_eq!(item["sha256"], want.as_str(), "{up:?}");
    assert_eq!(item["size"], 20 * 1024 * 1024);
    assert_eq!(file_sha256(&on_server), want);

    // Down into a folder: the same bytes, private (0600), nothing else left there.
    let back = scratch();
    let down = gate
        .run(&[
            "--json",
            "cp",
            &remote(&on_server),
            back.path().to_str().unwrap(),
        ])
        .await;
    assert_eq!(down.code, 0, "{down:?}");
    let copy = back.path().join("big.bin");
    assert_eq!(file_sha256(&copy), want);
    assert_eq!(down.json()[0]["sha256"], want.as_str(), "{down:?}");
    assert_eq!(mode(&copy), 0o600);
    assert_eq!(Tree::names(back.path()), ["big.bin"]);
    // The gateway recorded the digest it checked against the agent's: the one gate computed.
    let events = fx.api.audit("file.download").await;
    let last = events.last().expect("a download event");
    assert_eq!(last.details["sha256"], want.as_str(), "{last:?}");
}

#[tokio::test]
async fn cli_cp_recursive_keeps_modes_and_preserve_keeps_times() {
    let tree = Tree::new();
    let fx = start_with(&tree, &[]).await;
    let gate = files_gate(&fx).await;
    let local = scratch();
    let top = local.path().join("site");
    std::fs::create_dir_all(top.join("conf")).unwrap();
    std::fs::write(top.join("run.sh"), b"#!/bin/sh\necho run\n").unwrap();
    std::fs::write(top.join("conf/app.ini"), b"[app]\nname = x\n").unwrap();
    std::fs::write(top.join("conf/secret"), b"s3cret\n").unwrap();
    let set = |p: &str, m: u32| {
        std::fs::set_permissions(top.join(p), std::fs::Permissions::from_mode(m)).unwrap()
    };
    set("run.sh", 0o755);
    set("conf/app.ini", 0o644);
    set("conf/secret", 0o600);
    set("conf", 0o750);

    // Up, into an existing folder: the tree lands under its own name with the files' modes.
    let up = gate
        .run(&["cp", "-r", top.to_str().unwrap(), &remote(&tree.root)])
        .await;
    assert_eq!(up.code, 0, "{up:?}");
    let there = tree.root.join("site");
    assert_eq!(
        std::fs::read(there.join("conf/app.ini")).unwrap(),
        b"[app]\nname = x\n"
    );
    assert_eq!(mode(&there.join("run.sh")), 0o755);
    assert_eq!(mode(&there.join("conf/app.ini")), 0o644);
    assert_eq!(mode(&there.join("conf/secret")), 0o600);

    // Down to a new folder: files and folders with the server's modes.
    std::fs::set_permissions(there.join("conf"), std::fs::Permissions::from_mode(0o750)).unwrap();
    let back = scratch();
    let copy = back.path().join("copy");
    let down = gate
        .run(&["cp", "-r", &remote(&there), copy.to_str().unwrap()])
        .await;
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(
        std::fs::read(copy.join("run.sh")).unwrap(),
        b"#!/bin/sh\necho run\n"
    );
    assert_eq!(mode(&copy.join("run.sh")), 0o755);
    assert_eq!(mode(&copy.join("conf/secret")), 0o600);
    assert_eq!(mode(&copy.join("conf")), 0o750);

    // -p: the modification time travels both ways.
    let stamped = local.path().join("stamped.txt");
    std::fs::write(&stamped, b"old news\n").unwrap();
    let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_500_000_000);
    let f = std::fs::File::options().write(true).open(&stamped).unwrap();
    f.set_times(std::fs::FileTimes::new().set_modified(old))
        .unwrap();
    drop(f);
    let on_server = tree.root.join("stamped.txt");
    let up = gate
        .run(&["cp", "-p", stamped.to_str().unwrap(), &remote(&on_server)])
        .await;
    assert_eq!(up.code, 0, "{up:?}");
    assert_eq!(
        std::fs::metadata(&on_server).unwrap().mtime(),
        1_500_000_000
    );
    let fetched = back.path().join("stamped.txt");
    let down = gate
        .run(&["cp", "-p", &remote(&on_server), fetched.to_str().unwrap()])
        .await;
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(std::fs::metadata(&fetched).unwrap().mtime(), 1_500_000_000);
}

#[tokio::test]
async fn cli_cp_reads_standard_input_and_writes_standard_output() {
    let tree = Tree::new();
    let fx = start_with(&tree, &[]).await;
    let gate = files_gate(&fx).await;
    let on_server = tree.root.join("piped.txt");
    let text = "line one\nline two: ünïcødé\n";
    let up = gate
        .run_stdin(&["cp", "-", &remote(&on_server)], text)
        .await;
    assert_eq!(up.code, 0, "{up:?}");
    assert_eq!(std::fs::read_to_string(&on_server).unwrap(), text);

    let down = gate.run(&["cp", &remote(&on_server), "-"]).await;
    assert_eq!(down.code, 0, "{down:?}");
    // stdout carries the file and nothing else.
    assert_eq!(down.stdout, text);

    // Standard input has no name: it needs a file path, not a folder.
    let refused = gate
        .run_stdin(&["cp", "-", &remote(&tree.root)], text)
        .await;
    assert_eq!(refused.code, 2, "{refused:?}");
}

#[tokio::test]
async fn cli_cp_no_clobber_skips_with_a_message_and_exits_zero() {
    let tree = Tree::new();
    let fx = start_with(&tree, &[]).await;
    let gate = files_gate(&fx).await;
    let on_server = tree.root.join("keep.txt");
    std::fs::write(&on_server, b"server copy\n").unwrap();
    give_to_run_as(&on_server);
    let local = scratch();
    let mine = local.path().join("keep.txt");
    std::fs::write(&mine, b"local copy\n").unwrap();

    let up = gate
        .run(&["cp", "-n", mine.to_str().unwrap(), &remote(&on_server)])
        .await;
    assert_eq!(up.code, 0, "{up:?}");
    assert!(up.stderr.contains("not overwritten"), "{up:?}");
    assert_eq!(std::fs::read(&on_server).unwrap(), b"server copy\n");
    assert!(fx.api.audit("file.upload").await.is_empty());

    let down = gate
        .run(&["cp", "-n", &remote(&on_server), mine.to_str().unwrap()])
        .await;
    assert_eq!(down.code, 0, "{down:?}");
    assert!(down.stderr.contains("not overwritten"), "{down:?}");
    assert_eq!(std::fs::read(&mine).unwrap(), b"local copy\n");
    assert_eq!(Tree::names(local.path()), ["keep.txt"]);

    // Without -n both are replaced.
    let up = gate
        .run(&["cp", mine.to_str().unwrap(), &remote(&on_server)])
        .await;
    assert_eq!(up.code, 0, "{up:?}");
    assert_eq!(std::fs::read(&on_server).unwrap(), b"local copy\n");
}

#[tokio::test]
async fn cli_cp_refuses_hostile_paths_with_the_envelope_and_leaves_nothing() {
    let tree = Tree::new();
    let fx = start_with(&tree, &[]).await;
    let gate = files_gate(&fx).await;
    let local = scratch();
    let escape = tree.root.join("../outside/secret");

    // A .. segment: refused by the gateway before any agent sees it.
    let down = gate
        .run(&[
            "--json",
            "cp",
            &remote(&escape),
            local.path().to_str().unwrap(),
        ])
        .await;
    assert_eq!(down.code, 1, "{down:?}");
    let e = down.error_json();
    assert_eq!(e["ok"], false, "{e}");
    assert_eq!(e["error_code"], "validation_error", "{e}");
    assert_eq!(e["exit_code"], 1, "{e}");
    assert!(down.stdout.is_empty(), "{down:?}");
    assert!(Tree::names(local.path()).is_empty());

    // Outside the agent's file root: refused by the agent, nothing written anywhere.
    let upload = local.path().join("planted");
    std::fs::write(&upload, b"planted\n").unwrap();
    let outside = tree.root.parent().unwrap().join("outside");
    let before = Tree::names(&outside);
    let up = gate
        .run(&[
            "--json",
            "cp",
            upload.to_str().unwrap(),
            &remote(&outside.join("planted")),
        ])
        .await;
    assert_eq!(up.code, 1, "{up:?}");
    let e = up.error_json();
    assert_eq!(e["ok"], false, "{e}");
    assert!(
        e["error_code"].is_string() && e["message"].is_string(),
        "{e}"
    );
    assert_eq!(Tree::names(&outside), before);
    let down = gate
        .run(&[
            "--json",
            "cp",
            &remote(&outside.join("secret")),
            local.path().to_str().unwrap(),
        ])
        .await;
    assert_eq!(down.code, 1, "{down:?}");
    assert_eq!(
        down.error_json()["error_code"],
        "validation_error",
        "{down:?}"
    );
    assert_eq!(Tree::names(local.path()), ["planted"]);
    assert_eq!(Tree::names(&tree.root), Vec::<String>::new());

    // A file the run-as account cannot read: stat works, the download is refused after gate
    // made its temporary file, which is gone again.
    let locked = tree.root.join("locked");
    std::fs::write(&locked, b"no\n").unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let down = gate
        .run(&[
            "--json",
            "cp",
            &remote(&locked),
            local.path().to_str().unwrap(),
        ])
        .await;
    assert_eq!(down.code, 1, "{down:?}");
    assert_eq!(down.error_json()["error_code"], "forbidden", "{down:?}");
    assert_eq!(Tree::names(local.path()), ["planted"]);
}

#[tokio::test]
async fn cli_cp_draws_progress_on_a_terminal_and_not_with_quiet() {
    let tree = Tree::new();
    let fx = start_with(&tree, &[]).await;
    let gate = files_gate(&fx).await;
    let local = scratch();
    let original = local.path().join("four.bin");
    std::fs::write(&original, Pattern::default().bytes(4 * 1024 * 1024)).unwrap();
    let to = remote(&tree.root.join("four.bin"));
    let home = gate.home.path();

    let mut term = PtyGate::spawn(home, &["cp", original.to_str().unwrap(), &to], &[], 100, 24);
    assert_eq!(term.wait_exit().await, 0, "{}", term.text());
    term.wait_for("100%").await;
    let text = term.text();
    assert!(text.contains("4.0 MiB") && text.contains("/s"), "{text}");

    let args = ["-q", "cp", original.to_str().unwrap(), &to];
    let mut quiet = PtyGate::spawn(home, &args, &[], 100, 24);
    assert_eq!(quiet.wait_exit().await, 0, "{}", quiet.text());
    assert!(!quiet.text().contains('%'), "{}", quiet.text());
    assert_eq!(
        file_sha256(&tree.root.join("four.bin")),
        file_sha256(&original)
    );
}

#[tokio::test]
async fn cli_cp_without_a_work_session_is_the_gates_refusal() {
    let tree = Tree::new();
    let fx = start_with(&tree, &[]).await;
    let gate = Gate::new();
    gate.login_password(&fx.server.base, "ops", PASSWORD).await;
    let local = scratch();
    let mine = local.path().join("f.txt");
    std::fs::write(&mine, b"x\n").unwrap();
    let up = gate
        .run(&[
            "--json",
            "cp",
            mine.to_str().unwrap(),
            &remote(&tree.root.join("f.txt")),
        ])
        .await;
    assert_eq!(up.code, 3, "{up:?}");
    let e = up.error_json();
    assert!(
        e["error_code"]
            .as_str()
            .unwrap()
            .starts_with("work_session_"),
        "{e}"
    );
    assert!(e["next_actions"].is_array(), "{e}");
    assert_eq!(Tree::names(&tree.root), Vec::<String>::new());
}

/// Runs `gate ARGS…` to its end and returns its exit code and peak resident memory in MiB.
async fn peak_mib(gate: &Gate, args: &[&str]) -> (i32, u64) {
    let child = gate.command(args).spawn().expect("start gate");
    let sampler = RssSampler::start(child.id().expect("pid"));
    let output = child.wait_with_output().await.expect("gate ran");
    let peak = sampler.stop() / 1024;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?}: {stderr}");
    (output.status.code().unwrap_or(-1), peak)
}

#[tokio::test]
async fn cli_cp_streams_in_flat_memory() {
    const SIZE: u64 = 256 * 1024 * 1024;
    let tree = Tree::new();
    let fx = start_with(&tree, &[]).await;
    let gate = files_gate(&fx).await;
    let local = scratch();
    // Sparse: a quarter gibibyte of zeros that takes no disk.
    let original = local.path().join("zeros.bin");
    std::fs::File::create(&original)
        .unwrap()
        .set_len(SIZE)
        .unwrap();
    let on_server = tree.root.join("zeros.bin");

    let (code, up) = peak_mib(
        &gate,
        &["cp", original.to_str().unwrap(), &remote(&on_server)],
    )
    .await;
    assert_eq!(code, 0);
    assert_eq!(std::fs::metadata(&on_server).unwrap().len(), SIZE);
    let back = local.path().join("back.bin");
    let (code, down) = peak_mib(&gate, &["cp", &remote(&on_server), back.to_str().unwrap()]).await;
    assert_eq!(code, 0);
    assert_eq!(std::fs::metadata(&back).unwrap().len(), SIZE);
    println!("gate peak RSS: {up} MiB up, {down} MiB down");
    // Holding the file would take 256 MiB; streaming stays at gate's own size.
    assert!(
        up < 64 && down < 64,
        "gate grew to {up} MiB up, {down} MiB down"
    );
}
