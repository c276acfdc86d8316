//! Confined file operations on a temporary directory: an API token allowed one folder, in which
//! symlinks lead out of it, while the agent's roots would allow all of it.

use crate::files::confine::Confine;
use crate::files::fsops::{delete, list, mkdir, rename, stat, Roots};
use crate::files::transfer::{open_read, open_write, IfUnchanged};
use crate::files::Failure;
use gatehouse_shared::files::FileErrorKind::{self, PermissionDenied};
use gatehouse_shared::files::FileReply;
use std::os::unix::fs::symlink;
use std::path::PathBuf;

/// `base/allowed` (the token's folder, holding `ok.txt`, `file-out` linking to
/// `base/outside/secret` and `dir-out` linking to `base/outside`) and `base/outside`.
struct Fixture {
    _tmp: tempfile::TempDir,
    base: PathBuf,
    outside: PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize(tmp.path()).unwrap();
    let allowed = base.join("allowed");
    let outside = base.join("outside");
    std::fs::create_dir(&allowed).unwrap();
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(allowed.join("ok.txt"), b"fine").unwrap();
    std::fs::write(outside.join("secret"), b"secret").unwrap();
    symlink(outside.join("secret"), allowed.join("file-out")).unwrap();
    symlink(&outside, allowed.join("dir-out")).unwrap();
    Fixture {
        _tmp: tmp,
        base,
        outside,
    }
}

impl Fixture {
    /// The agent's roots (all of `base`), confined to `rules` when given.
    fn roots(&self, rules: Option<Vec<String>>) -> Roots {
        Roots::new(vec![self.base.clone()]).confined(Confine::new(rules))
    }

    /// Confined to `base/allowed/**`, as the token's rule.
    fn token(&self) -> Roots {
        self.roots(Some(vec![format!("{}/allowed/**", self.base.display())]))
    }

    fn p(&self, rel: &str) -> String {
        format!("{}/{rel}", self.base.display())
    }
}

fn refusal(r: Result<impl std::fmt::Debug, Failure>) -> (FileErrorKind, String) {
    match r {
        Ok(v) => panic!("expected a refusal, got {v:?}"),
        Err(f) => (f.kind, f.message),
    }
}

fn denied(r: Result<impl std::fmt::Debug, Failure>) {
    let (kind, message) = refusal(r);
    assert_eq!(kind, PermissionDenied, "{message}");
    assert!(message.contains("token's file rules"), "{message}");
}

fn write(roots: &Roots, path: &str, bytes: &[u8]) -> Result<FileReply, Failure> {
    let mut up = open_write(roots, path, true, IfUnchanged::default())?;
    up.write(bytes)?;
    up.commit()
}

#[test]
fn plain_files_inside_the_rules_are_served() {
    let f = fixture();
    let roots = f.token();
    let mut r = open_read(&roots, &f.p("allowed/ok.txt")).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(r.read(&mut buf).unwrap(), 4);
    assert!(matches!(
        list(&roots, &f.p("allowed")).unwrap(),
        FileReply::Listing { .. }
    ));
    write(&roots, &f.p("allowed/new.txt"), b"new").unwrap();
    assert_eq!(
        std::fs::read(f.base.join("allowed/new.txt")).unwrap(),
        b"new"
    );
    mkdir(&roots, &f.p("allowed/d")).unwrap();
    rename(&roots, &f.p("allowed/new.txt"), &f.p("allowed/d/n"), false).unwrap();
    delete(&roots, &f.p("allowed/d/n")).unwrap();
    // The links are entries of the folder: described and removed as links, never followed.
    assert!(matches!(
        stat(&roots, &f.p("allowed/file-out")).unwrap(),
        FileReply::Entry { .. }
    ));
    delete(&roots, &f.p("allowed/file-out")).unwrap();
    assert_eq!(std::fs::read(f.outside.join("secret")).unwrap(), b"secret");
}

#[test]
fn symlinks_out_of_the_rules_are_refused_for_reads_and_lists() {
    let f = fixture();
    let roots = f.token();
    let (_, message) = refusal(open_read(&roots, &f.p("allowed/file-out")));
    assert!(
        message.contains(&format!(
            "resolves to {}",
            f.outside.join("secret").display()
        )),
        "{message}"
    );
    denied(open_read(&roots, &f.p("allowed/file-out")));
    // A `..`-free path whose parent directory is the link.
    denied(open_read(&roots, &f.p("allowed/dir-out/secret")));
    denied(list(&roots, &f.p("allowed/dir-out")));
    denied(stat(&roots, &f.p("allowed/dir-out/secret")));
    // Lexically outside, without any link: refused before anything is resolved.
    denied(open_read(&roots, &f.p("outside/secret")));
}

#[test]
fn symlinks_out_of_the_rules_are_refused_for_changes() {
    let f = fixture();
    let roots = f.token();
    denied(write(&roots, &f.p("allowed/file-out"), b"overwritten"));
    denied(write(&roots, &f.p("allowed/dir-out/planted"), b"x"));
    denied(mkdir(&roots, &f.p("allowed/dir-out/d")));
    denied(delete(&roots, &f.p("allowed/dir-out/secret")));
    // Rename checks both ends.
    denied(rename(
        &roots,
        &f.p("allowed/ok.txt"),
        &f.p("allowed/dir-out/stolen"),
        false,
    ));
    denied(rename(
        &roots,
        &f.p("allowed/dir-out/secret"),
        &f.p("allowed/taken"),
        false,
    ));
    denied(rename(
        &roots,
        &f.p("allowed/ok.txt"),
        &f.p("outside/moved"),
        false,
    ));
    assert_eq!(std::fs::read(f.outside.join("secret")).unwrap(), b"secret");
    let mut left: Vec<_> = std::fs::read_dir(&f.outside)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["secret"],
        "nothing was created, moved or removed outside"
    );
    assert!(f.base.join("allowed/ok.txt").exists());
}

#[test]
fn an_empty_rule_list_refuses_everything_and_none_changes_nothing() {
    let f = fixture();
    let nothing = f.roots(Some(Vec::new()));
    denied(open_read(&nothing, &f.p("allowed/ok.txt")));
    denied(list(&nothing, &f.p("allowed")));
    denied(mkdir(&nothing, &f.p("allowed/d")));
    // Not confined: the agent's roots alone decide, and the links lead within them.
    let open = f.roots(None);
    let mut r = open_read(&open, &f.p("allowed/file-out")).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(r.read(&mut buf).unwrap(), 6);
    assert!(matches!(
        list(&open, &f.p("allowed/dir-out")).unwrap(),
        FileReply::Listing { .. }
    ));
}
