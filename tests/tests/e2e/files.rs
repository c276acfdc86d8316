//! WebFTP through the gateway with a real agent serving a `--file-root`: a gibibyte streamed up
//! and down in flat memory, hostile paths, symlink escapes, permissions, interrupted transfers,
//! conflicts, the audit trail and the gate. Ordinary operations go through the typed client;
//! hostile paths and what only the wire shows (headers, a body broken off, the query) go raw.

use crate::{refused, Fixture};
use gatehouse_client::api::files::{FileTarget, SaveCheck, Upload};
use gatehouse_client::{ApiError, ClientError};
use gatehouse_e2e::files::{q, read_body, sha256_hex, Pattern, RssSampler};
use gatehouse_e2e::{eventually, shell_user, wait_connected, Agent};
use gatehouse_shared::files::{FileKind, TransferResult};
use gatehouse_shared::ErrorCode;
use reqwest::Method;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub(crate) const WAIT: Duration = Duration::from_secs(30);
const GIB: u64 = 1024 * 1024 * 1024;

/// A directory tree for one test: `root` (the agent's file root, owned by the run-as user) and
/// `outside` beside it with a file that must stay out of reach.
pub(crate) struct Tree {
    _dir: tempfile::TempDir,
    pub(crate) root: PathBuf,
    outside: PathBuf,
}

impl Tree {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        // The run-as user must be able to reach the root through the temporary directory.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        let root = base.join("root");
        let outside = base.join("outside");
        std::fs::create_dir(&root).unwrap();
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("secret"), b"outside the root").unwrap();
        give_to_run_as(&root);
        Tree {
            _dir: dir,
            root,
            outside,
        }
    }

    fn p(&self, rel: &str) -> String {
        format!("{}/{rel}", self.root.display())
    }

    /// Names in `dir`, sorted.
    pub(crate) fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// Hands `path` to the run-as user (when the tests run as root, files are handled as that user).
pub(crate) fn give_to_run_as(path: &Path) {
    if let Some(user) = shell_user() {
        let status = Command::new("chown")
            .arg("-R")
            .arg(user)
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success(), "chown {user} {}", path.display());
    }
}

/// `&user=` for the run-as user, when there is one.
pub(crate) fn as_user() -> String {
    shell_user()
        .map(|u| format!("&user={u}"))
        .unwrap_or_default()
}

/// A fixture whose agent serves files beneath `tree.root` only.
async fn start(tree: &Tree) -> Fixture {
    start_with(tree, &[]).await
}

/// Like `start`, with extra `serve` flags.
pub(crate) async fn start_with(tree: &Tree, server_flags: &[&str]) -> Fixture {
    let mut fx = Fixture::start_with(&["web-01"], server_flags).await;
    let name = fx.agents[0].name.clone();
    let config = fx.agents[0].config.clone();
    fx.agents[0].kill();
    wait_connected(&fx.api, &name, false).await;
    let root = tree.root.to_str().unwrap();
    fx.agents[0] = Agent::run_with(&name, &config, &["--file-root", root]);
    wait_connected(&fx.api, &name, true).await;
    fx
}

/// `GET`/`POST` a files endpoint of web-01 with the run-as user; returns status and body.
async fn call(
    fx: &Fixture,
    method: Method,
    op: &str,
    query: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let path = format!("/api/files/web-01/{op}?{query}{}", as_user());
    fx.api.call(method, &path, body).await
}

/// A raw upload, `extra` added to its query as it is.
async fn upload(fx: &Fixture, path: &str, extra: &str, bytes: Vec<u8>) -> (u16, Value) {
    let url = format!(
        "/api/files/web-01/content?path={}{extra}{}",
        q(path),
        as_user()
    );
    let r = fx
        .api
        .request(Method::PUT, &url)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A raw download, for its headers or its body read bit by bit.
async fn download(fx: &Fixture, path: &str) -> reqwest::Response {
    let url = format!("/api/files/web-01/content?path={}{}", q(path), as_user());
    fx.api.request(Method::GET, &url).send().await.unwrap()
}

/// A sparse file of `len` bytes (zeros that take no disk).
pub(crate) fn sparse_file(path: &Path, len: u64) {
    std::fs::File::create(path).unwrap().set_len(len).unwrap();
}

/// A download of `path` whose first bytes have arrived; the rest is left unread.
pub(crate) async fn download_started(fx: &Fixture, path: &Path) -> reqwest::Response {
    let mut r = download(fx, &path.display().to_string()).await;
    assert_eq!(r.status(), 200);
    assert!(r.chunk().await.unwrap().is_some());
    r
}

/// Web-01 as the run-as user, for the typed client's file calls.
fn web01() -> FileTarget<'static> {
    FileTarget {
        server: "web-01",
        user: shell_user(),
        editor: false,
    }
}

/// Web-01 for the editor (scope `editor` instead of `webftp`).
fn web01_editor() -> FileTarget<'static> {
    FileTarget {
        editor: true,
        ..web01()
    }
}

/// `bytes` uploaded to `path` on web-01 through the typed client.
pub(crate) async fn put(
    fx: &Fixture,
    path: &str,
    how: &Upload,
    bytes: Vec<u8>,
) -> Result<TransferResult, ClientError> {
    let body = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes)]);
    fx.api.client.upload(web01(), path, how, body).await
}

/// The whole of `path` on web-01, through the typed client.
async fn fetch(fx: &Fixture, path: &str) -> Vec<u8> {
    let mut download = fx
        .api
        .client
        .download(web01(), path)
        .await
        .expect("a download");
    let mut got = Vec::new();
    while let Some(chunk) = download.chunk().await.expect("a chunk") {
        got.extend_from_slice(chunk.as_ref());
    }
    got
}

/// A raw answer that must be the error envelope with `code`.
fn assert_envelope(status: u16, body: &Value, want_status: u16, code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["ok"], false, "{body}");
    assert_eq!(body["error_code"], code, "{body}");
}

/// A typed refusal that must be the error envelope with `code`.
fn assert_refused(e: &ApiError, status: u16, code: ErrorCode) {
    assert_eq!((e.status, e.code()), (status, Some(code)), "{e}");
    assert_eq!(e.envelope["ok"], false, "{e}");
}

/// An upload that replaces whatever is there.
fn overwrite() -> Upload {
    Upload {
        overwrite: true,
        ..Upload::default()
    }
}

#[tokio::test]
async fn a_gibibyte_streams_up_and_down_in_flat_memory() {
    let tree = Tree::new();
    let fx = start(&tree).await;
    let session = fx.session(&["webftp"], &["web-01"]).await;
    let dest = tree.p("big.bin");

    let baseline = gatehouse_e2e::rss_kib(fx.server.pid());
    let sampler = RssSampler::start(fx.server.pid());
    let (body, sent) = Pattern::default().stream(GIB);
    let result = fx
        .api
        .client
        .upload(web01(), &dest, &Upload::default(), body)
        .await
        .expect("uploaded");
    assert_eq!(result.size, GIB);
    assert_eq!(result.sha256, sent.hex());
    let mtime = result.mtime.expect("the mtime after the write");
    assert_eq!(std::fs::metadata(&dest).unwrap().len(), GIB);

    // Raw: the download's headers are what is checked.
    let r = download(&fx, &dest).await;
    assert_eq!(r.status(), 200);
    let headers = r.headers().clone();
    assert_eq!(headers["content-length"], GIB.to_string().as_str());
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"big.bin\"; filename*=UTF-8''big.bin"
    );
    assert_eq!(headers["x-file-mtime"], mtime.to_string().as_str());
    let got = read_body(r, |_| {}).await;
    let peak = sampler.stop();
    assert_eq!(got.error, None);
    assert_eq!(got.size, GIB);
    assert_eq!(got.sha256, sent.hex());
    let growth_mib = peak.saturating_sub(baseline) / 1024;
    println!("server RSS: {baseline} KiB before, {peak} KiB at peak (+{growth_mib} MiB)");
    assert!(growth_mib < 64, "the server grew by {growth_mib} MiB");

    // Both transfers are audited with path, size and SHA-256, on the session's timeline too.
    for action in ["file.upload", "file.download"] {
        let events = fx.api.audit(action).await;
        let event = events.last().unwrap_or_else(|| panic!("no {action} event"));
        assert_eq!(event.outcome, "success", "{event:?}");
        assert_eq!(event.server.as_deref(), Some("web-01"));
        assert_eq!(event.details["path"], dest.as_str());
        assert_eq!(event.details["size"], GIB);
        assert_eq!(event.details["sha256"], sent.hex());
    }
    let timeline = fx.api.client.timeline(session.id).await.unwrap();
    let kinds: Vec<&str> = timeline.items.iter().map(|e| e.kind.as_str()).collect();
    assert!(
        kinds.contains(&"file.upload") && kinds.contains(&"file.download"),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn hostile_paths_symlink_escapes_and_permissions_are_refused() {
    let tree = Tree::new();
    let fx = start(&tree).await;
    fx.session(&["webftp"], &["web-01"]).await;
    let root = tree.root.display().to_string();

    // Traversal in every spelling: refused with the envelope, before the agent. Hostile paths go
    // raw, spelled exactly as sent.
    for path in [
        format!("{root}/../outside/secret"),
        format!("{root}/%2e%2e%2foutside%2fsecret"),
        format!("{root}/%252e%252e%252foutside%252fsecret"),
        format!("{root}/a%00b"),
        format!("{root}/a%0ab"),
        format!("{root}/a%1bb"),
        "outside/secret".to_owned(),
    ] {
        // Already percent-encoded spellings go into the query as they are.
        let query = format!("path={}", path.replace('/', "%2F"));
        for op in ["list", "stat", "content"] {
            let (status, body) = call(&fx, Method::GET, op, &query, None).await;
            assert_envelope(status, &body, 400, "validation_error");
            assert_eq!(body["fields"][0]["field"], "path");
        }
    }
    let (status, body) = call(
        &fx,
        Method::POST,
        "mkdir",
        "",
        Some(json!({"path": format!("{root}/../outside/new")})),
    )
    .await;
    assert_envelope(status, &body, 400, "validation_error");
    let (status, body) = upload(
        &fx,
        &format!("{root}/x/../../outside/up"),
        "",
        b"x".to_vec(),
    )
    .await;
    assert_envelope(status, &body, 400, "validation_error");

    // A symlink inside the root that points outside it leads nowhere.
    std::os::unix::fs::symlink(&tree.outside, tree.root.join("escape")).unwrap();
    let escape = tree.p("escape");
    let (status, body) = call(
        &fx,
        Method::GET,
        "list",
        &format!("path={}", q(&escape)),
        None,
    )
    .await;
    assert_envelope(status, &body, 400, "validation_error");
    let r = download(&fx, &format!("{escape}/secret")).await;
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_envelope(status, &body, 400, "validation_error");
    let (status, body) = upload(&fx, &format!("{escape}/planted"), "", b"x".to_vec()).await;
    assert_envelope(status, &body, 400, "validation_error");
    // A path outside the root altogether.
    let outside = tree.outside.join("secret").display().to_string();
    let (status, body) = call(
        &fx,
        Method::GET,
        "stat",
        &format!("path={}", q(&outside)),
        None,
    )
    .await;
    assert_envelope(status, &body, 400, "validation_error");
    // Listing the root shows the symlink as a symlink, never what is behind it.
    let listing = fx
        .api
        .client
        .file_list(web01(), &root)
        .await
        .expect("the root");
    let entry = &listing.entries[0];
    assert_eq!(entry.name, "escape");
    assert_eq!(entry.kind, FileKind::Symlink);

    // Renames onto protected places are refused and leave the file where it was.
    put(
        &fx,
        &tree.p("mine.txt"),
        &Upload::default(),
        b"mine".to_vec(),
    )
    .await
    .expect("uploaded");
    let locked = tree.root.join("locked");
    std::fs::create_dir(&locked).unwrap();
    // Owned by the test's user (root when root, so the run-as user may not write into it;
    // without root the owner is the run-as user, whom 0555 keeps out as well).
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    let into_locked = fx
        .api
        .client
        .file_rename(
            web01(),
            &tree.p("mine.txt"),
            &tree.p("locked/mine.txt"),
            false,
        )
        .await;
    assert_refused(&refused(into_locked), 403, ErrorCode::Forbidden);
    let (status, body) = call(
        &fx,
        Method::POST,
        "rename",
        "",
        Some(json!({"from": tree.p("mine.txt"), "to": tree.outside.join("stolen").display().to_string()})),
    )
    .await;
    assert_envelope(status, &body, 400, "validation_error");
    assert_eq!(std::fs::read(tree.root.join("mine.txt")).unwrap(), b"mine");

    // A file only root may read is refused to the run-as user.
    let secret = tree.root.join("root-only");
    std::fs::write(&secret, b"root only").unwrap();
    let mode = if shell_user().is_some() { 0o600 } else { 0o000 };
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(mode)).unwrap();
    let root_only = fx
        .api
        .client
        .download(web01(), &secret.display().to_string())
        .await;
    let e = refused(root_only);
    assert_eq!(
        (e.status, e.code()),
        (403, Some(ErrorCode::Forbidden)),
        "{e}"
    );

    // Nothing outside the root was touched.
    assert_eq!(Tree::names(&tree.outside), ["secret"]);
    assert_eq!(
        std::fs::read(tree.outside.join("secret")).unwrap(),
        b"outside the root"
    );
}

#[tokio::test]
async fn interrupted_transfers_leave_nothing_behind_and_are_audited() {
    let tree = Tree::new();
    let mut fx = start(&tree).await;
    fx.session(&["webftp"], &["web-01"]).await;
    let dir = tree.root.join("up");
    std::fs::create_dir(&dir).unwrap();
    give_to_run_as(&dir);
    let dest = dir.join("cut.bin").display().to_string();

    // The body sends 8 MiB, waits until the agent's temporary file exists, then breaks off (raw:
    // the broken-off request itself is what is checked).
    let pattern = Pattern::default();
    let watched = dir.clone();
    let stream = futures_util::stream::unfold(0u64, move |i| {
        let pattern = pattern.clone();
        let watched = watched.clone();
        async move {
            if i < 8 {
                return Some((Ok(pattern.chunk(i, 1024 * 1024)), i + 1));
            }
            if i == 8 {
                eventually("the agent's temporary file", WAIT, || {
                    let watched = watched.clone();
                    async move { (!Tree::names(&watched).is_empty()).then_some(()) }
                })
                .await;
                return Some((Err(std::io::Error::other("client gone")), i + 1));
            }
            None
        }
    });
    let url = format!("/api/files/web-01/content?path={}{}", q(&dest), as_user());
    let sent = fx
        .api
        .request(Method::PUT, &url)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await;
    assert!(
        sent.is_err(),
        "the request should have broken off: {sent:?}"
    );
    // The agent discards the partial file: nothing at the destination, no temporary file.
    eventually("the partial upload to be cleaned up", WAIT, || {
        let dir = dir.clone();
        async move { Tree::names(&dir).is_empty().then_some(()) }
    })
    .await;
    let event = eventually("the interrupted upload's audit event", WAIT, || async {
        fx.api.audit("file.upload").await.pop()
    })
    .await;
    assert_eq!(event.outcome, "failure", "{event:?}");
    assert_eq!(event.details["interrupted"], true, "{event:?}");
    assert_eq!(event.details["path"], dest.as_str());

    // A download the client abandons half-way is recorded as interrupted too.
    let big = tree.root.join("big.bin");
    sparse_file(&big, 64 * 1024 * 1024);
    let r = download_started(&fx, &big).await;
    drop(r);
    let event = eventually("the abandoned download's audit event", WAIT, || async {
        fx.api.audit("file.download").await.pop()
    })
    .await;
    assert_eq!(event.outcome, "failure", "{event:?}");
    assert_eq!(event.details["interrupted"], true, "{event:?}");
    assert!(event.details["bytes"].as_u64().unwrap() < 64 * 1024 * 1024);

    // An agent that goes away mid-download fails the transfer at once.
    let r = download_started(&fx, &big).await;
    fx.agents[0].kill();
    let got = tokio::time::timeout(WAIT, read_body(r, |_| {}))
        .await
        .expect("the body ends");
    assert!(
        got.error.is_some(),
        "the download completed without its agent"
    );
    let event = eventually("the cut download's audit event", WAIT, || async {
        let last = fx.api.audit("file.download").await.pop()?;
        let error = last.details["error"].as_str()?;
        error.contains("agent disconnected").then_some(last)
    })
    .await;
    assert_eq!(event.outcome, "failure", "{event:?}");
    assert_eq!(event.details["interrupted"], true, "{event:?}");
}

#[tokio::test]
async fn conflicts_and_the_small_operations() {
    let tree = Tree::new();
    let fx = start(&tree).await;
    fx.session(&["webftp"], &["web-01"]).await;
    let ops = &fx.api.client;
    let path = tree.p("notes.txt");
    let first = Pattern::default().bytes(300 * 1024 + 7);
    let result = put(&fx, &path, &Upload::default(), first.clone())
        .await
        .expect("uploaded");
    assert_eq!(result.sha256, sha256_hex(&first));
    assert_eq!(std::fs::read(&path).unwrap(), first);

    // overwrite=false (the default) on an existing file: 409, and the file is unchanged. Raw
    // first: the typed client always names `overwrite`, and the default is what is tested.
    let (status, body) = upload(&fx, &path, "", b"second".to_vec()).await;
    assert_envelope(status, &body, 409, "conflict");
    let e = refused(put(&fx, &path, &Upload::default(), b"second".to_vec()).await);
    assert_refused(&e, 409, ErrorCode::Conflict);
    // The editor's check: a stale modification time is a 409 too.
    let entry = ops.file_stat(web01(), &path).await.expect("a stat");
    assert_eq!(entry.kind, FileKind::File);
    assert_eq!(entry.size, first.len() as u64);
    let mtime = entry.mtime;
    let stale = SaveCheck::Mtime(mtime - 100);
    let e = refused(ops.file_save(web01(), &path, "second", &stale).await);
    assert_refused(&e, 409, ErrorCode::Conflict);
    assert_eq!(std::fs::read(&path).unwrap(), first);
    let current = SaveCheck::Mtime(mtime);
    ops.file_save(web01(), &path, "second", &current)
        .await
        .expect("saved");
    assert_eq!(std::fs::read(&path).unwrap(), b"second");
    assert_eq!(fetch(&fx, &path).await, b"second");

    // The version check sees a change the seconds cannot: in place, same size, same second.
    let at = |nanos| std::time::UNIX_EPOCH + Duration::new(1_700_000_000, nanos);
    let set_mtime = |nanos| {
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(at(nanos)))
            .unwrap();
    };
    set_mtime(100);
    let opened = ops.download(web01(), &path).await.expect("a download");
    assert_eq!(opened.mtime, Some(1_700_000_000));
    let loaded = opened.version.expect("a version");
    std::fs::write(&path, b"SECOND").unwrap();
    set_mtime(200);
    let stale = Upload {
        if_version: Some(loaded.clone()),
        ..overwrite()
    };
    let e = refused(put(&fx, &path, &stale, b"mine!!".to_vec()).await);
    assert_refused(&e, 409, ErrorCode::Conflict);
    assert_eq!(std::fs::read(&path).unwrap(), b"SECOND");
    let opened = ops.download(web01(), &path).await.expect("a download");
    let current = opened.version.expect("a version");
    assert_ne!(current, loaded);
    let fresh = Upload {
        if_version: Some(current.clone()),
        ..overwrite()
    };
    let result = put(&fx, &path, &fresh, b"mine!!".to_vec())
        .await
        .expect("saved at the current version");
    let next = result.version.expect("the next version");
    assert_ne!(next, current);
    let e = refused(put(&fx, &path, &fresh, b"stale".to_vec()).await);
    assert_refused(&e, 409, ErrorCode::Conflict);
    let again = Upload {
        if_version: Some(next),
        ..overwrite()
    };
    put(&fx, &path, &again, b"second".to_vec())
        .await
        .expect("saved at the next version");
    // Not a version at all (raw: the malformed parameter is the point): refused before the
    // agent sees it.
    let (status, body) = upload(&fx, &path, "&overwrite=true&if_version=%01", b"x".to_vec()).await;
    assert_envelope(status, &body, 400, "validation_error");
    assert_eq!(std::fs::read(&path).unwrap(), b"second");

    // mkdir, list, rename, delete. The first mkdir raw: its body is exactly `{"ok": true}`.
    let dir = tree.p("docs");
    let (status, body) = call(&fx, Method::POST, "mkdir", "", Some(json!({"path": dir}))).await;
    assert_eq!((status, &body), (200, &json!({"ok": true})));
    let e = refused(ops.file_mkdir(web01(), &dir).await);
    assert_refused(&e, 409, ErrorCode::Conflict);
    let moved = tree.p("docs/notes.txt");
    ops.file_rename(web01(), &path, &moved, false)
        .await
        .expect("renamed");
    let listing = ops.file_list(web01(), &dir).await.expect("a listing");
    assert_eq!(listing.entries[0].name, "notes.txt");
    assert_eq!(listing.entries[0].size, 6);
    let e = refused(ops.file_delete(web01(), &dir).await);
    assert!(
        matches!(e.status, 400 | 409),
        "a non-empty directory stays: {} {e}",
        e.status
    );
    ops.file_delete(web01(), &moved).await.expect("deleted");
    ops.file_delete(web01(), &dir).await.expect("deleted");
    let e = refused(ops.file_stat(web01(), &dir).await);
    assert_refused(&e, 404, ErrorCode::NotFound);
    assert_eq!(Tree::names(&tree.root), Vec::<String>::new());
    for action in [
        "file.mkdir",
        "file.rename",
        "file.delete",
        "file.list",
        "file.stat",
    ] {
        assert!(!fx.api.audit(action).await.is_empty(), "no {action} event");
    }
    let uploads = fx.api.audit("file.upload").await;
    assert!(uploads
        .iter()
        .any(|e| e.outcome == "failure" && e.details["error_code"] == "conflict"));
}

#[tokio::test]
async fn the_gate_guards_files_and_a_revoke_cuts_a_download() {
    let tree = Tree::new();
    let fx = start(&tree).await;
    let big = tree.root.join("big.bin");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(256 * 1024 * 1024).unwrap();
    drop(file);
    let big = big.display().to_string();
    let root = tree.root.display().to_string();

    let ops = &fx.api.client;
    let not_allowed = ErrorCode::WorkSessionScopeNotAllowed;

    fx.session(&["websh"], &["web-01"]).await;
    let e = refused(ops.file_list(web01(), &root).await);
    assert_refused(&e, 403, not_allowed);
    assert_eq!(e.envelope["context"]["required_scope"], "webftp");

    fx.session(&["webftp"], &["web-01"]).await;
    let e = refused(ops.download(web01_editor(), &big).await);
    assert_refused(&e, 403, not_allowed);
    assert_eq!(e.envelope["context"]["required_scope"], "editor");
    let e = refused(ops.file_stat(web01_editor(), &big).await);
    assert_refused(&e, 403, not_allowed);
    let denials = fx.api.audit("gate.denied").await;
    assert!(denials.len() >= 3, "{denials:?}");

    // An editor-only session may stat for the editor, but not browse.
    fx.session(&["editor"], &["web-01"]).await;
    let entry = ops
        .file_stat(web01_editor(), &big)
        .await
        .expect("the editor's stat");
    assert_eq!(entry.size, 256 * 1024 * 1024);
    let e = refused(ops.file_stat(web01(), &big).await);
    assert_refused(&e, 403, not_allowed);

    // A download the browser opens as a plain link names its work session in the query: the
    // link, the query and the header are the point, so these go raw.
    let small = tree.root.join("small.txt");
    std::fs::write(&small, b"small file").unwrap();
    give_to_run_as(&small);
    let webftp = fx.session(&["webftp"], &["web-01"]).await;
    let webftp = webftp.id.to_string();
    let websh = fx.session(&["websh"], &["web-01"]).await;
    let websh = websh.id.to_string();
    let link = |extra: &str| {
        format!(
            "/api/files/web-01/content?path={}{}{extra}",
            q(&small.display().to_string()),
            as_user()
        )
    };
    let (status, body) = fx.api.call(Method::GET, &link(""), None).await;
    assert_envelope(status, &body, 403, "work_session_scope_not_allowed");
    let r = fx
        .api
        .request(Method::GET, &link(&format!("&work_session={webftp}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"small file");
    let r = fx
        .api
        .request(Method::GET, &link(&format!("&work_session={webftp}")))
        .header("X-Work-Session", &websh)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "the query and the header disagree");
    let (status, body) = fx
        .api
        .call(Method::GET, &link("&work_session=not-a-session"), None)
        .await;
    assert_envelope(status, &body, 400, "bad_request");

    // With the editor scope the editor loads; a revoke cuts a download in flight (raw: its
    // body is read bit by bit).
    let session = fx.session(&["editor", "webftp"], &["web-01"]).await;
    let url = format!(
        "/api/files/web-01/content?path={}&editor=true{}",
        q(&big),
        as_user()
    );
    let mut r = fx.api.request(Method::GET, &url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.chunk().await.unwrap().is_some());
    fx.revoke(session.id).await;
    // Recorded at the revoke even though the client is not reading (the stall limit is 60 s).
    let event = eventually("the revoked download's audit event", WAIT, || async {
        let last = fx.api.audit("file.download").await.pop()?;
        (last.outcome == "failure").then_some(last)
    })
    .await;
    assert_eq!(event.outcome, "failure", "{event:?}");
    assert!(
        event.details["error"].as_str().unwrap().contains("revoked"),
        "{event:?}"
    );
    let got = tokio::time::timeout(WAIT, read_body(r, |_| {}))
        .await
        .expect("the body ends");
    assert!(got.error.is_some(), "the download went on after the revoke");
    assert!(got.size < 256 * 1024 * 1024);
}
