//! `gate edit` with `$EDITOR` a small script the test writes: an unchanged file is not saved
//! (no upload in the audit log), a changed one is, and one changed on the server meanwhile is
//! refused with the local copy kept and named.

use crate::cli_cp::{files_gate, remote};
use crate::files::{give_to_run_as, start_with, Tree};
use gatehouse_e2e::gate::Gate;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// An executable `/bin/sh` script in `dir`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\nset -e\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// `gate edit TARGET` with `editor` as both `$VISUAL` and `$EDITOR`.
async fn edit(gate: &Gate, editor: &Path, target: &str) -> gatehouse_e2e::gate::Run {
    let editor = editor.to_str().unwrap();
    gate.run_env(
        &["--json", "edit", target],
        &[("VISUAL", editor), ("EDITOR", editor)],
    )
    .await
}

/// Upload events of `path` in the audit log with `outcome`.
async fn uploads_of(fx: &crate::Fixture, path: &Path, outcome: &str) -> usize {
    let path = path.display().to_string();
    fx.api
        .audit("file.upload")
        .await
        .iter()
        .filter(|e| e.details["path"] == path.as_str() && e.outcome == outcome)
        .count()
}

#[tokio::test]
async fn cli_edit_saves_only_a_change_and_refuses_one_made_underneath() {
    let tree = Tree::new();
    let fx = start_with(&tree, &[]).await;
    let gate = files_gate(&fx).await;
    let scripts = tempfile::tempdir().unwrap();
    let doc = tree.root.join("motd");
    std::fs::write(&doc, b"hello\n").unwrap();
    give_to_run_as(&doc);

    // Opened and closed untouched: nothing saved, nothing uploaded.
    let look = script(scripts.path(), "look", "test -s \"$1\"");
    let run = edit(&gate, &look, &remote(&doc)).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(std::fs::read(&doc).unwrap(), b"hello\n");
    assert_eq!(uploads_of(&fx, &doc, "success").await, 0);
    assert_eq!(uploads_of(&fx, &doc, "failure").await, 0);

    // Changed: saved back. The editor gets the file under its own name, private to the user.
    let append = script(
        scripts.path(),
        "append",
        "case \"$1\" in */motd) ;; *) exit 9 ;; esac\n\
         test \"$(stat -c %a \"$(dirname \"$1\")\")\" = 700\n\
         printf 'edited\\n' >> \"$1\"",
    );
    let run = edit(&gate, &append, &remote(&doc)).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(std::fs::read(&doc).unwrap(), b"hello\nedited\n");
    assert_eq!(uploads_of(&fx, &doc, "success").await, 1);

    // Changed on the server while the editor was open: refused, the copy kept and named.
    let race = script(
        scripts.path(),
        "race",
        &format!(
            "printf 'theirs\\n' > '{}.new' && mv '{0}.new' '{0}'\nprintf 'mine\\n' >> \"$1\"",
            doc.display()
        ),
    );
    let run = edit(&gate, &race, &remote(&doc)).await;
    assert_eq!(run.code, 1, "{run:?}");
    let e = run.error_json();
    assert_eq!(e["ok"], false, "{e}");
    assert_eq!(e["error_code"], "conflict", "{e}");
    let kept = PathBuf::from(e["local_copy"].as_str().expect("local_copy"));
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains(kept.to_str().unwrap()),
        "{e}"
    );
    assert_eq!(std::fs::read(&kept).unwrap(), b"hello\nedited\nmine\n");
    assert_eq!(std::fs::read(&doc).unwrap(), b"theirs\n");
    assert_eq!(uploads_of(&fx, &doc, "success").await, 1);
    assert_eq!(
        uploads_of(&fx, &doc, "failure").await,
        1,
        "the refused save is audited"
    );
    std::fs::remove_dir_all(kept.parent().unwrap()).unwrap();

    // --force saves over it.
    let run = gate
        .run_env(
            &["edit", "--force", &remote(&doc)],
            &[("VISUAL", append.to_str().unwrap())],
        )
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(std::fs::read(&doc).unwrap(), b"theirs\nedited\n");
}
