//! The file operations on a temporary directory, as the user running the tests.

use super::*;
use crate::files::paths::is_temp_name;
use crate::files::transfer::{open_read, open_write, IfUnchanged, Keep};
use gatehouse_shared::files::FileErrorKind::{self, IsADirectory};
use nix::sys::stat::Mode;
use sha2::{Digest, Sha256};
use std::fs::{File, Permissions};
use std::io::Write;
use std::os::unix::fs::symlink;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::{Duration, Instant};

/// A root directory with an `outside` sibling that must stay unreachable.
struct Fixture {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
    roots: Roots,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    // Canonical from the start, so the lexical and canonical roots agree in assertions.
    let base = std::fs::canonicalize(tmp.path()).unwrap();
    let root = base.join("root");
    let outside = base.join("outside");
    std::fs::create_dir(&root).unwrap();
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret"), b"secret").unwrap();
    let roots = Roots::new(vec![root.clone()]);
    Fixture {
        _tmp: tmp,
        root,
        outside,
        roots,
    }
}

impl Fixture {
    fn p(&self, rel: &str) -> String {
        format!("{}/{rel}", self.root.display())
    }

    fn no_temp_files(&self, dir: &Path) {
        for e in std::fs::read_dir(dir).unwrap() {
            let name = e.unwrap().file_name();
            assert!(!is_temp_name(&name), "temporary file left: {name:?}");
        }
    }
}

fn kind(r: Result<impl std::fmt::Debug, Failure>) -> FileErrorKind {
    match r {
        Ok(v) => panic!("expected a failure, got {v:?}"),
        Err(f) => f.kind,
    }
}

fn write_all(f: &Fixture, rel: &str, bytes: &[u8], overwrite: bool) -> Result<FileReply, Failure> {
    let mut up = open_write(&f.roots, &f.p(rel), overwrite, IfUnchanged::default())?;
    up.write(bytes)?;
    up.commit()
}

fn read_all(f: &Fixture, rel: &str) -> Result<(Vec<u8>, FileReply), Failure> {
    let mut r = open_read(&f.roots, &f.p(rel))?;
    let mut out = Vec::new();
    let mut buf = [0u8; 7];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    Ok((out, r.done()))
}

#[test]
fn listing_is_sorted_and_reports_symlinks_without_following_them() {
    let f = fixture();
    std::fs::write(f.root.join("b.txt"), b"hello").unwrap();
    std::fs::create_dir(f.root.join("a-dir")).unwrap();
    symlink("b.txt", f.root.join("c-link")).unwrap();
    symlink(&f.outside, f.root.join("d-out")).unwrap();
    let FileReply::Listing { path, entries } = list(&f.roots, &f.p("./")).unwrap() else {
        panic!("not a listing")
    };
    assert_eq!(path, f.root.display().to_string());
    let names: Vec<_> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["a-dir", "b.txt", "c-link", "d-out"]);
    assert_eq!(entries[0].kind, FileKind::Dir);
    assert_eq!((entries[1].kind, entries[1].size), (FileKind::File, 5));
    assert_eq!(entries[2].kind, FileKind::Symlink);
    assert_eq!(entries[2].target.as_deref(), Some("b.txt"));
    assert_eq!(entries[3].kind, FileKind::Symlink);
    assert!(entries[1].mtime > 0 && entries[1].mode & 0o400 != 0);
}

#[test]
fn symlinks_out_of_the_root_are_refused_for_everything_that_follows_them() {
    let f = fixture();
    symlink(&f.outside, f.root.join("out")).unwrap();
    symlink(f.outside.join("secret"), f.root.join("secret-link")).unwrap();
    assert_eq!(kind(list(&f.roots, &f.p("out"))), InvalidPath);
    assert_eq!(kind(open_read(&f.roots, &f.p("out/secret"))), InvalidPath);
    assert_eq!(kind(open_read(&f.roots, &f.p("secret-link"))), InvalidPath);
    assert_eq!(kind(write_all(&f, "out/new", b"x", false)), InvalidPath);
    assert_eq!(kind(write_all(&f, "secret-link", b"x", true)), InvalidPath);
    assert_eq!(kind(mkdir(&f.roots, &f.p("out/d"))), InvalidPath);
    assert_eq!(kind(delete(&f.roots, &f.p("out/secret"))), InvalidPath);
    assert_eq!(
        kind(rename(&f.roots, &f.p("out/secret"), &f.p("stolen"), false)),
        InvalidPath
    );
    // Lexically outside, `..` included.
    let escape = format!("{}/../outside/secret", f.root.display());
    assert_eq!(kind(open_read(&f.roots, &escape)), InvalidPath);
    assert_eq!(kind(list(&f.roots, "relative/path")), InvalidPath);
    assert_eq!(kind(list(&f.roots, &f.p("a\nb"))), InvalidPath);
    // The links themselves can be described, and deleted as links.
    let FileReply::Entry { entry } = stat(&f.roots, &f.p("secret-link")).unwrap() else {
        panic!("not an entry")
    };
    assert_eq!(entry.kind, FileKind::Symlink);
    delete(&f.roots, &f.p("secret-link")).unwrap();
    delete(&f.roots, &f.p("out")).unwrap();
    assert_eq!(std::fs::read(f.outside.join("secret")).unwrap(), b"secret");
    assert!(std::fs::symlink_metadata(f.root.join("out")).is_err());
}

#[test]
fn the_roots_themselves_cannot_be_removed_or_renamed() {
    let f = fixture();
    let root = f.root.display().to_string();
    assert_eq!(kind(delete(&f.roots, &root)), InvalidPath);
    assert_eq!(kind(rename(&f.roots, &root, &f.p("x"), false)), InvalidPath);
    let FileReply::Entry { entry } = stat(&f.roots, &root).unwrap() else {
        panic!("not an entry")
    };
    assert_eq!(entry.kind, FileKind::Dir);
}

#[test]
fn writes_honour_overwrite_and_replace_atomically() {
    let f = fixture();
    std::fs::write(f.root.join("f"), b"old").unwrap();
    std::fs::set_permissions(f.root.join("f"), Permissions::from_mode(0o640)).unwrap();
    assert_eq!(kind(write_all(&f, "f", b"new", false)), Conflict);
    assert_eq!(std::fs::read(f.root.join("f")).unwrap(), b"old");
    let FileReply::Done { size, sha256, .. } = write_all(&f, "f", b"new", true).unwrap() else {
        panic!("not done")
    };
    assert_eq!(size, 3);
    assert_eq!(sha256, hex::encode(Sha256::digest(b"new")));
    assert_eq!(std::fs::read(f.root.join("f")).unwrap(), b"new");
    let mode = std::fs::metadata(f.root.join("f")).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o640, "the old mode is kept");
    write_all(&f, "fresh", b"", false).unwrap();
    assert_eq!(std::fs::read(f.root.join("fresh")).unwrap(), b"");
    std::fs::create_dir(f.root.join("d")).unwrap();
    assert_eq!(kind(write_all(&f, "d", b"x", true)), IsADirectory);
    f.no_temp_files(&f.root);
}

#[test]
fn a_write_may_set_the_mode_and_time_but_never_special_bits() {
    let f = fixture();
    let keep = Keep {
        mode: Some(0o751),
        mtime: Some(1_500_000_000),
    };
    let mut up = open_write(&f.roots, &f.p("kept"), false, IfUnchanged::default())
        .and_then(|up| up.keeping(keep))
        .unwrap();
    up.write(b"x").unwrap();
    let FileReply::Done { mtime, .. } = up.commit().unwrap() else {
        panic!("not done")
    };
    assert_eq!(mtime, 1_500_000_000);
    let meta = std::fs::metadata(f.root.join("kept")).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o751);
    assert_eq!(meta.mtime(), 1_500_000_000);
    for special in [0o4755, 0o2755, 0o1777] {
        let up = open_write(&f.roots, &f.p("setuid"), false, IfUnchanged::default()).unwrap();
        let keep = Keep {
            mode: Some(special),
            mtime: None,
        };
        assert_eq!(
            kind(up.keeping(keep).map(|_| FileReply::Ok)),
            FileErrorKind::InvalidPath
        );
    }
    f.no_temp_files(&f.root);
    assert!(!f.root.join("setuid").exists());
}

#[test]
fn a_symlinked_file_is_written_through_to_its_target() {
    let f = fixture();
    std::fs::write(f.root.join("real"), b"v1").unwrap();
    symlink("real", f.root.join("link")).unwrap();
    write_all(&f, "link", b"v2", true).unwrap();
    assert_eq!(std::fs::read(f.root.join("real")).unwrap(), b"v2");
    let meta = std::fs::symlink_metadata(f.root.join("link")).unwrap();
    assert!(meta.file_type().is_symlink(), "the link stays a link");
}

#[test]
fn an_aborted_write_leaves_nothing_behind() {
    let f = fixture();
    let mut up = open_write(&f.roots, &f.p("partial"), false, IfUnchanged::default()).unwrap();
    up.write(&[7u8; 100_000]).unwrap();
    // Visible only under the temporary name while it runs.
    assert!(!f.root.join("partial").exists());
    drop(up);
    assert!(!f.root.join("partial").exists());
    f.no_temp_files(&f.root);
    assert_eq!(std::fs::read_dir(&f.root).unwrap().count(), 0);
}

#[test]
fn a_file_created_meanwhile_is_not_clobbered_without_overwrite() {
    let f = fixture();
    let mut up = open_write(&f.roots, &f.p("race"), false, IfUnchanged::default()).unwrap();
    up.write(b"mine").unwrap();
    std::fs::write(f.root.join("race"), b"theirs").unwrap();
    assert_eq!(kind(up.commit()), Conflict);
    assert_eq!(std::fs::read(f.root.join("race")).unwrap(), b"theirs");
    f.no_temp_files(&f.root);
}

fn since_mtime(mtime: i64) -> IfUnchanged {
    IfUnchanged {
        mtime: Some(mtime),
        version: None,
    }
}

fn since_version(version: &str) -> IfUnchanged {
    IfUnchanged {
        mtime: None,
        version: Some(version.to_owned()),
    }
}

/// Sets `path`'s modification time to `secs` seconds and `nanos` nanoseconds past the epoch.
fn set_mtime(path: &std::path::Path, secs: u64, nanos: u32) {
    let t = std::time::SystemTime::UNIX_EPOCH + Duration::new(secs, nanos);
    File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

#[test]
fn if_version_sees_changes_within_the_same_second() {
    let f = fixture();
    let doc = f.root.join("doc");
    std::fs::write(&doc, b"v1").unwrap();
    set_mtime(&doc, 1_700_000_000, 100);
    let FileReply::ReadStarted { version, .. } =
        open_read(&f.roots, &f.p("doc")).unwrap().started()
    else {
        panic!("not started")
    };
    let save = |expect: IfUnchanged, body: &[u8]| -> Result<FileReply, Failure> {
        let mut up = open_write(&f.roots, &f.p("doc"), true, expect)?;
        up.write(body)?;
        up.commit()
    };
    // Rewritten in place, same size, same second: the seconds check is blind to it...
    std::fs::write(&doc, b"v2").unwrap();
    set_mtime(&doc, 1_700_000_000, 200);
    assert!(open_write(&f.roots, &f.p("doc"), true, since_mtime(1_700_000_000)).is_ok());
    // ...the version is not.
    assert_eq!(kind(save(since_version(&version), b"mine")), Conflict);
    // Replaced by a rename (a new inode), same size and the very same time: still a change.
    let FileReply::ReadStarted { version, .. } =
        open_read(&f.roots, &f.p("doc")).unwrap().started()
    else {
        panic!("not started")
    };
    std::fs::write(f.root.join("other"), b"v3").unwrap();
    set_mtime(&f.root.join("other"), 1_700_000_000, 200);
    std::fs::rename(f.root.join("other"), &doc).unwrap();
    assert_eq!(kind(save(since_version(&version), b"mine")), Conflict);
    assert_eq!(std::fs::read(&doc).unwrap(), b"v3");
    // Unchanged since the load: saved, and the answer carries the next version to expect.
    let FileReply::ReadStarted { version, .. } =
        open_read(&f.roots, &f.p("doc")).unwrap().started()
    else {
        panic!("not started")
    };
    let FileReply::Done { version: next, .. } = save(since_version(&version), b"mine").unwrap()
    else {
        panic!("not done")
    };
    assert_eq!(std::fs::read(&doc).unwrap(), b"mine");
    assert_ne!(next, version);
    assert!(save(since_version(&next), b"again").is_ok());
    f.no_temp_files(&f.root);
}

#[test]
fn if_mtime_guards_the_editor_save() {
    let f = fixture();
    std::fs::write(f.root.join("doc"), b"v1").unwrap();
    let mtime = std::fs::metadata(f.root.join("doc")).unwrap().mtime();
    let save = |m: i64, body: &[u8]| -> Result<FileReply, Failure> {
        let mut up = open_write(&f.roots, &f.p("doc"), true, since_mtime(m))?;
        up.write(body)?;
        up.commit()
    };
    assert_eq!(kind(save(mtime - 10, b"stale")), Conflict);
    let FileReply::Done { mtime: after, .. } = save(mtime, b"v2").unwrap() else {
        panic!("not done")
    };
    assert_eq!(std::fs::read(f.root.join("doc")).unwrap(), b"v2");
    // Changed between load and commit: refused at commit, the other change kept.
    let mut up = open_write(&f.roots, &f.p("doc"), true, since_mtime(after)).unwrap();
    up.write(b"v3").unwrap();
    std::fs::write(f.root.join("doc"), b"someone else").unwrap();
    let t = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(after as u64 + 100);
    File::options()
        .write(true)
        .open(f.root.join("doc"))
        .unwrap()
        .set_modified(t)
        .unwrap();
    assert_eq!(kind(up.commit()), Conflict);
    assert_eq!(std::fs::read(f.root.join("doc")).unwrap(), b"someone else");
    // Gone since it was loaded.
    std::fs::remove_file(f.root.join("doc")).unwrap();
    assert_eq!(kind(save(after, b"v4")), Conflict);
    f.no_temp_files(&f.root);
}

#[test]
fn reads_stream_regular_files_and_refuse_everything_else_quickly() {
    let f = fixture();
    let body: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(f.root.join("data"), &body).unwrap();
    let (got, done) = read_all(&f, "data").unwrap();
    assert_eq!(got, body);
    let FileReply::Done { size, sha256, .. } = done else {
        panic!("not done")
    };
    assert_eq!(size, body.len() as u64);
    assert_eq!(sha256, hex::encode(Sha256::digest(&body)));

    nix::unistd::mkfifo(&f.root.join("fifo"), Mode::from_bits_truncate(0o600)).unwrap();
    let started = Instant::now();
    assert_eq!(kind(read_all(&f, "fifo")), Unsupported);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(kind(read_all(&f, "")), IsADirectory);
    assert_eq!(kind(read_all(&f, "missing")), FileErrorKind::NotFound);

    let everything = Roots::new(vec![PathBuf::from("/")]);
    for p in [
        "/proc/self/status",
        "/dev/zero",
        "/dev/null",
        "/sys/kernel/notes",
    ] {
        let r = open_read(&everything, p).map(|r| r.started());
        assert_eq!(kind(r), Unsupported, "{p}");
    }
}

#[test]
fn a_growing_file_is_read_only_up_to_its_size_at_open() {
    let f = fixture();
    std::fs::write(f.root.join("log"), b"12345").unwrap();
    let mut r = open_read(&f.roots, &f.p("log")).unwrap();
    let mut log = File::options()
        .append(true)
        .open(f.root.join("log"))
        .unwrap();
    log.write_all(b"more and more").unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(r.read(&mut buf).unwrap(), 5);
    assert_eq!(r.read(&mut buf).unwrap(), 0);
}

#[test]
fn mkdir_delete_and_rename() {
    let f = fixture();
    mkdir(&f.roots, &f.p("d")).unwrap();
    assert_eq!(kind(mkdir(&f.roots, &f.p("d"))), Conflict);
    assert_eq!(
        kind(mkdir(&f.roots, &f.p("missing/d"))),
        FileErrorKind::NotFound
    );
    std::fs::write(f.root.join("d/x"), b"x").unwrap();
    assert_eq!(kind(delete(&f.roots, &f.p("d"))), Unsupported);
    std::fs::write(f.root.join("y"), b"y").unwrap();
    // No overwrite without asking; with it, replaced.
    assert_eq!(
        kind(rename(&f.roots, &f.p("y"), &f.p("d/x"), false)),
        Conflict
    );
    assert_eq!(std::fs::read(f.root.join("d/x")).unwrap(), b"x");
    rename(&f.roots, &f.p("y"), &f.p("d/x"), true).unwrap();
    assert_eq!(std::fs::read(f.root.join("d/x")).unwrap(), b"y");
    // A symlink is renamed as the link.
    symlink("d/x", f.root.join("l")).unwrap();
    rename(&f.roots, &f.p("l"), &f.p("l2"), false).unwrap();
    assert_eq!(
        std::fs::read_link(f.root.join("l2")).unwrap(),
        Path::new("d/x")
    );
    // Both ends are checked.
    assert_eq!(
        kind(rename(
            &f.roots,
            &f.p("d/x"),
            &f.outside.join("x").display().to_string(),
            false
        )),
        InvalidPath
    );
    assert_eq!(
        kind(rename(&f.roots, &f.p("nothing"), &f.p("z"), false)),
        FileErrorKind::NotFound
    );
    delete(&f.roots, &f.p("d/x")).unwrap();
    delete(&f.roots, &f.p("d")).unwrap();
    delete(&f.roots, &f.p("l2")).unwrap();
    assert_eq!(std::fs::read_dir(&f.root).unwrap().count(), 0);
}
