//! WebFTP and the code editor in headless Chromium, against a real agent serving a
//! `--file-root`: browse, upload two files (and replace one), download, rename (and replace),
//! create a folder, delete after the confirmation, see "permission denied"; open a file in the
//! editor, save with Ctrl-S, and meet the conflict prompt when the file changed on the server.

use crate::console::Console;
use fantoccini::key::Key;
use gatehouse_client::api::files::{FileTarget, Upload};
use gatehouse_e2e::browser::{run_ui_test, Browser, WAIT};
use gatehouse_e2e::files::{q, sha256_hex};
use gatehouse_e2e::{shell_user, wait_connected, Agent};
use gatehouse_shared::WorkSessionId;
use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROW: &str = "[data-testid=file-row]";

/// A console whose agent `web-01` serves files beneath `root` only, and an active work session
/// with the webftp and editor scopes.
struct Files {
    cx: Console,
    root: PathBuf,
    session: WorkSessionId,
    _tree: tempfile::TempDir,
}

/// Hands `path` to the run-as user (as root, file operations run as that user).
fn give_to_run_as(path: &Path) {
    if let Some(user) = shell_user() {
        let status = Command::new("chown")
            .arg("-R")
            .arg(user)
            .arg(path)
            .status()
            .expect("run chown");
        assert!(status.success(), "chown {user} {}", path.display());
    }
}

/// Web-01 as the run-as user, when there is one.
fn web01() -> FileTarget<'static> {
    FileTarget {
        server: "web-01",
        user: shell_user(),
        editor: false,
    }
}

/// `&user=` for the run-as user, when there is one.
fn as_user() -> String {
    shell_user()
        .map(|u| format!("&user={u}"))
        .unwrap_or_default()
}

impl Files {
    async fn start() -> Self {
        let tree = tempfile::tempdir().expect("tempdir");
        // The run-as user must be able to reach the root through the temporary directory.
        std::fs::set_permissions(tree.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let root = std::fs::canonicalize(tree.path())
            .expect("canonical")
            .join("root");
        std::fs::create_dir(&root).expect("mkdir root");

        let mut cx = Console::start(&[], &["web-01"]).await;
        // Restart the agent with the file root (registration already happened).
        let name = cx.agents[0].name.clone();
        let config = cx.agents[0].config.clone();
        cx.agents[0].kill();
        wait_connected(cx.api(), &name, false).await;
        let root_arg = root.to_str().expect("UTF-8 path");
        cx.agents[0] = Agent::run_with(&name, &config, &["--file-root", root_arg]);
        wait_connected(cx.api(), &name, true).await;

        let session = cx
            .session("e2e: files", &["webftp", "editor"], &["web-01"])
            .await
            .id;
        cx.activate(session).await;
        Files {
            cx,
            root,
            session,
            _tree: tree,
        }
    }

    /// `rel` beneath the root, as the server names it.
    fn p(&self, rel: &str) -> String {
        format!("{}/{rel}", self.root.display())
    }

    /// Writes a file beneath the root, owned by the run-as user.
    fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let path = self.root.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        std::fs::write(&path, bytes).expect("write");
        give_to_run_as(&self.root);
        path
    }

    /// The console's WebFTP page at `dir`.
    fn files_url(&self, dir: &str) -> String {
        format!(
            "/files?server=web-01&session={}&path={}{}",
            self.session,
            q(dir),
            as_user()
        )
    }

    fn editor_url(&self, path: &str) -> String {
        format!(
            "/editor?server=web-01&session={}&path={}{}",
            self.session,
            q(path),
            as_user()
        )
    }

    /// The file's bytes as the gateway serves them (in the fixture's session).
    async fn content(&self, path: &str) -> Vec<u8> {
        let client = self.cx.api().client.in_work_session(self.session);
        let mut download = client
            .download(web01(), path)
            .await
            .unwrap_or_else(|e| panic!("GET content of {path}: {e}"));
        let mut got = Vec::new();
        while let Some(chunk) = download.chunk().await.expect("a chunk") {
            got.extend_from_slice(chunk.as_ref());
        }
        got
    }

    /// Replaces the file through the API (someone else's change).
    async fn put(&self, path: &str, bytes: &[u8]) {
        let client = self.cx.api().client.in_work_session(self.session);
        let how = Upload {
            overwrite: true,
            ..Upload::default()
        };
        let body = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes.to_vec())]);
        client
            .upload(web01(), path, &how, body)
            .await
            .unwrap_or_else(|e| panic!("PUT content of {path}: {e}"));
    }
}

fn row(name: &str) -> String {
    format!("{ROW}[data-name='{name}']")
}

/// Over the console's limit for fetching a download into memory (`STREAM_ABOVE`, 64 MiB).
const BIG: u64 = 80 * 1024 * 1024;

fn upload_row(name: &str, state: &str) -> String {
    format!("[data-testid=upload-row][data-name='{name}'][data-state={state}]")
}

/// Waits until `path` exists with `len` bytes (a download being written ends with a rename).
async fn wait_file(path: &Path, len: usize) -> Vec<u8> {
    let what = format!("{} with {len} bytes", path.display());
    gatehouse_e2e::eventually(&what, WAIT, || async {
        std::fs::read(path).ok().filter(|bytes| bytes.len() == len)
    })
    .await
}

/// The `path` query parameter of the page.
async fn shown_dir(browser: &Browser) -> Option<String> {
    browser.query_param("path").await
}

async fn select(browser: &Browser, name: &str) {
    browser
        .click(&format!("{} input[name=select]", row(name)))
        .await;
    assert!(
        browser
            .is_checked(&format!("{} input[name=select]", row(name)))
            .await
    );
}

#[tokio::test]
async fn console_files_browse_upload_download_rename_delete() {
    let fx = Files::start().await;
    fx.write("docs/readme.txt", b"hello docs\n");
    std::fs::create_dir_all(fx.root.join("docs/old")).expect("mkdir");
    // Sparse: large enough to be streamed by the browser, no disk taken in the root.
    let big = fx.write("docs/old/big.iso", b"");
    std::fs::File::options()
        .write(true)
        .open(&big)
        .and_then(|f| f.set_len(BIG))
        .expect("grow big.iso");
    // Unreadable for the run-as user (root's when tests run as root, mode 000 otherwise).
    let secret = fx.write("docs/secret.txt", b"nope");
    if shell_user().is_some() {
        std::os::unix::fs::chown(&secret, Some(0), Some(0)).expect("chown root");
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    } else {
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    }
    let local = tempfile::tempdir().expect("tempdir");
    let alpha = b"alpha\n".to_vec();
    let beta: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let (alpha_file, beta_file) = (local.path().join("a.txt"), local.path().join("b.bin"));
    std::fs::write(&alpha_file, &alpha).expect("write a");
    std::fs::write(&beta_file, &beta).expect("write b");
    let downloads = tempfile::tempdir().expect("tempdir");

    let browser = fx.cx.signed_in("ops").await;
    run_ui_test(
        "console_files_browse_upload_download_rename_delete",
        &fx.cx.driver,
        async {
            // The session page links to Files on its server, with the run-as user.
            browser.goto(&format!("/sessions/{}", fx.session)).await;
            if let Some(user) = shell_user() {
                browser.fill("input[name=run_as]", user).await;
            }
            let link = browser
                .wait_for("[data-testid=open-files][data-server=web-01]")
                .await;
            let href = link.attr("href").await.expect("href").unwrap_or_default();
            let session = fx.session.to_string();
            assert!(
                href.starts_with("/files?server=web-01&session=") && href.contains(&session),
                "open-files link: {href}"
            );
            browser.click("[data-testid=open-files]").await;
            browser.wait_path("/files").await;
            assert_eq!(browser.query_param("user").await.as_deref(), shell_user());

            // An editable path: type the root and press Enter.
            browser
                .fill_and_enter("[data-testid=path-form] input[name=path]", &fx.p(""))
                .await;
            browser
                .wait_for(&format!("{}[data-kind=dir]", row("docs")))
                .await;
            assert_eq!(
                shown_dir(&browser).await,
                Some(fx.root.display().to_string())
            );

            // Into docs by its name; breadcrumbs lead back up.
            browser.click(&format!("{} a.entry", row("docs"))).await;
            browser
                .wait_for(&format!("{}[data-kind=file]", row("readme.txt")))
                .await;
            browser
                .wait_for(&format!("{}[data-kind=dir]", row("old")))
                .await;
            assert_eq!(shown_dir(&browser).await, Some(fx.p("docs")));
            let crumbs = browser.texts("[data-testid=crumb]").await;
            assert_eq!(
                crumbs.last().map(String::as_str),
                Some("docs"),
                "{crumbs:?}"
            );
            let up = browser.find_all("[data-testid=crumb]").await;
            up[up.len() - 2]
                .click()
                .await
                .expect("click the parent crumb");
            browser
                .wait_for(&format!("{}[data-kind=dir]", row("docs")))
                .await;
            browser.wait_count(&row("readme.txt"), 0).await;
            browser.client.back().await.expect("back");
            browser.wait_for(&row("readme.txt")).await;

            // Sorting: folders first, then by size up, then down.
            let order = ["old", "readme.txt", "secret.txt"];
            assert_eq!(browser.attrs(ROW, "data-name").await, order);
            browser.click("button[data-sort=size]").await;
            browser
                .wait_for("th[aria-sort=ascending] button[data-sort=size]")
                .await;
            assert_eq!(
                browser.attrs(ROW, "data-name").await,
                ["old", "secret.txt", "readme.txt"]
            );
            browser.click("button[data-sort=size]").await;
            browser
                .wait_for("th[aria-sort=descending] button[data-sort=size]")
                .await;
            assert_eq!(browser.attrs(ROW, "data-name").await, order);

            // Two files through the file input; each gets its row, its result and its hash.
            let input = browser
                .wait_for("input[type=file][data-testid=upload-input]")
                .await;
            input
                .send_keys(&format!(
                    "{}\n{}",
                    alpha_file.display(),
                    beta_file.display()
                ))
                .await
                .expect("choose files");
            browser.wait_for(&upload_row("a.txt", "done")).await;
            browser.wait_for(&upload_row("b.bin", "done")).await;
            let sha = browser
                .text(&format!(
                    "{} [data-testid=sha256]",
                    upload_row("b.bin", "done")
                ))
                .await;
            assert_eq!(sha, sha256_hex(&beta));
            browser.wait_for(&row("a.txt")).await;
            browser.wait_for(&row("b.bin")).await;
            assert_eq!(
                std::fs::read(fx.root.join("docs/b.bin")).expect("b.bin"),
                beta
            );

            // Dropped onto the listing (a synthetic drop: WebDriver cannot drag from the desktop).
            browser
                .js(
                    "const dt = new DataTransfer();\
                     dt.items.add(new File(['dropped\\n'], 'dropped.txt'));\
                     const zone = document.querySelector('[data-testid=file-drop]');\
                     for (const type of ['dragover', 'drop']) {\
                       zone.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));\
                     }",
                    vec![],
                )
                .await;
            browser.wait_for(&upload_row("dropped.txt", "done")).await;
            browser.wait_for(&row("dropped.txt")).await;
            assert_eq!(
                std::fs::read(fx.root.join("docs/dropped.txt")).expect("dropped"),
                b"dropped\n"
            );

            // The same name again: "Replace?", then it is replaced.
            let alpha2 = b"alpha, second edition\n".to_vec();
            std::fs::write(&alpha_file, &alpha2).expect("rewrite a");
            let input = browser.wait_for("input[data-testid=upload-input]").await;
            input
                .send_keys(&alpha_file.display().to_string())
                .await
                .expect("choose again");
            let conflict = upload_row("a.txt", "conflict");
            browser.wait_for(&conflict).await;
            assert_eq!(std::fs::read(fx.root.join("docs/a.txt")).expect("a"), alpha);
            browser
                .click(&format!("{conflict} [data-action=confirm-overwrite]"))
                .await;
            browser
                .wait_count("[data-testid=upload-row][data-state=done]", 4)
                .await;
            assert_eq!(
                std::fs::read(fx.root.join("docs/a.txt")).expect("a"),
                alpha2
            );

            // Download: fetched with the session header, saved by the browser.
            let dir = downloads.path().to_str().expect("UTF-8 path");
            fx.cx
                .driver
                .cdp(
                    &browser,
                    "Browser.setDownloadBehavior",
                    json!({"behavior": "allow", "downloadPath": dir}),
                )
                .await;
            browser
                .click(&format!("{} [data-action=download]", row("b.bin")))
                .await;
            let saved = wait_file(&downloads.path().join("b.bin"), beta.len()).await;
            assert_eq!(saved, beta);
            browser
                .wait_text("[data-testid=files-notice]", "Downloaded b.bin")
                .await;

            // Permission denied says so.
            browser
                .click(&format!("{} [data-action=download]", row("secret.txt")))
                .await;
            browser.wait_for(".error[data-error-code=forbidden]").await;
            browser
                .wait_text(".file-error-head", "Permission denied")
                .await;

            // Rename a.txt.
            select(&browser, "a.txt").await;
            browser.click("[data-action=rename]").await;
            browser.fill("input[name=new-name]", "renamed.txt").await;
            browser.click("[data-action=confirm-rename]").await;
            browser.wait_for(&row("renamed.txt")).await;
            browser.wait_count(&row("a.txt"), 0).await;
            assert_eq!(
                std::fs::read(fx.root.join("docs/renamed.txt")).expect("renamed"),
                alpha2
            );

            // Renaming onto an existing name asks first.
            select(&browser, "renamed.txt").await;
            browser.click("[data-action=rename]").await;
            browser.fill("input[name=new-name]", "b.bin").await;
            browser.click("[data-action=confirm-rename]").await;
            browser
                .click("[data-testid=overwrite-prompt] [data-action=confirm-overwrite]")
                .await;
            browser.wait_count(&row("renamed.txt"), 0).await;
            assert_eq!(
                std::fs::read(fx.root.join("docs/b.bin")).expect("b"),
                alpha2
            );

            // A new folder.
            browser.click("[data-action=mkdir]").await;
            browser.fill("input[name=new-name]", "new folder").await;
            browser.click("[data-action=confirm-mkdir]").await;
            browser
                .wait_for(&format!("{}[data-kind=dir]", row("new folder")))
                .await;
            assert!(fx.root.join("docs/new folder").is_dir());

            // Delete two, after the confirmation.
            select(&browser, "b.bin").await;
            select(&browser, "new folder").await;
            browser.click("[data-action=delete]").await;
            browser.wait_for("[data-testid=delete-confirm]").await;
            assert!(
                fx.root.join("docs/b.bin").exists(),
                "deleted before the confirmation"
            );
            browser.click("[data-action=confirm-delete]").await;
            browser.wait_count(&row("b.bin"), 0).await;
            browser.wait_count(&row("new folder"), 0).await;
            browser
                .wait_text("[data-testid=files-notice]", "Deleted 2 items")
                .await;
            assert!(!fx.root.join("docs/b.bin").exists());
            assert!(!fx.root.join("docs/new folder").exists());
            browser.doc_screenshot("files.png").await;

            // A large file goes straight to the browser's downloads, streamed to disk.
            browser.click(&format!("{} a.entry", row("old"))).await;
            browser.wait_for(&row("big.iso")).await;
            browser
                .click(&format!("{} [data-action=download]", row("big.iso")))
                .await;
            browser
                .wait_text("[data-testid=files-notice]", "see the browser's downloads")
                .await;
            let saved = downloads.path().join("big.iso");
            gatehouse_e2e::eventually("the large download on disk", WAIT, || async {
                let len = std::fs::metadata(&saved).ok()?.len();
                (len == BIG).then_some(())
            })
            .await;
            let audit = fx.cx.api().audit("file.download").await;
            // Newest last.
            let last = audit.last().expect("items");
            assert_eq!(last.outcome, "success", "{last:?}");
            assert_eq!(last.details["size"], BIG, "{last:?}");
        },
    )
    .await;
}

/// The text CodeMirror shows, one line per `.cm-line`.
async fn editor_text(browser: &Browser) -> String {
    let lines = browser
        .js(
            "return Array.from(document.querySelectorAll('.cm-content .cm-line'))\
             .map(l => l.textContent);",
            vec![],
        )
        .await;
    let lines: Vec<String> = serde_json::from_value(lines).unwrap_or_default();
    lines.join("\n")
}

/// Whether this page has fetched the editor's bundle.
async fn editor_bundle_fetched(browser: &Browser) -> bool {
    browser
        .js(
            "return performance.getEntriesByType('resource')\
             .some(e => new URL(e.name).pathname === '/editor.mjs');",
            vec![],
        )
        .await
        == json!(true)
}

/// Types into the editor at the end of the text (Ctrl-End first).
async fn type_at_end(browser: &Browser, text: &str) {
    let control = char::from(Key::Control);
    let keys = format!("{control}{}{control}{text}", char::from(Key::End));
    browser
        .wait_for(".cm-content")
        .await
        .send_keys(&keys)
        .await
        .expect("type into the editor");
}

async fn press_save(browser: &Browser) {
    let control = char::from(Key::Control);
    browser
        .wait_for(".cm-content")
        .await
        .send_keys(&format!("{control}s{control}"))
        .await
        .expect("Ctrl-S");
}

#[tokio::test]
async fn console_editor_save_and_conflict() {
    let fx = Files::start().await;
    fx.write("app/config.yaml", b"name: demo\nport: 8080\n");
    fx.write("app/notes.md", b"# Notes\n");
    fx.write("app/blob.bin", b"\x7fELF\0\0\x01binary");
    fx.write("app/huge.log", &vec![b'x'; 6 * 1024 * 1024]);
    let path = fx.p("app/config.yaml");

    let browser = fx.cx.signed_in("ops").await;
    run_ui_test("console_editor_save_and_conflict", &fx.cx.driver, async {
        // Binary and oversized files are refused, with the reason.
        browser.goto(&fx.editor_url(&fx.p("app/blob.bin"))).await;
        browser
            .wait_for("[data-testid=editor][data-state=error]")
            .await;
        browser
            .wait_text("[data-testid=editor-refused]", "binary")
            .await;
        browser.goto(&fx.editor_url(&fx.p("app/huge.log"))).await;
        browser
            .wait_for("[data-testid=editor][data-state=error]")
            .await;
        browser
            .wait_text("[data-testid=editor-refused]", "5.0 MiB")
            .await;
        assert_eq!(browser.count(".cm-editor").await, 0);

        // Opened from the listing: CodeMirror with line numbers and YAML highlighting. The
        // editor's bundle is not part of the console's start: fetched only now.
        browser.goto(&fx.files_url(&fx.p("app"))).await;
        browser.wait_for(&row("config.yaml")).await;
        assert!(
            !editor_bundle_fetched(&browser).await,
            "editor.mjs loaded with the console"
        );
        browser
            .click(&format!("{} [data-action=open-editor]", row("config.yaml")))
            .await;
        browser
            .wait_for("[data-testid=editor][data-state=ready]")
            .await;
        browser.wait_for(".cm-editor .cm-lineNumbers").await;
        assert!(editor_bundle_fetched(&browser).await);
        assert_eq!(editor_text(&browser).await, "name: demo\nport: 8080\n");
        assert!(
            browser.count(".cm-content .cm-line span").await > 0,
            "no syntax highlighting"
        );
        assert_eq!(browser.count("[data-testid=dirty]").await, 0);

        // Type, see the dirty marker, Ctrl-S, and the server has it.
        type_at_end(&browser, "debug: true").await;
        browser.wait_for("[data-testid=dirty]").await;
        press_save(&browser).await;
        browser
            .wait_for("[data-testid=editor][data-state=saved]")
            .await;
        browser.wait_gone("[data-testid=dirty]").await;
        let saved = "name: demo\nport: 8080\ndebug: true";
        assert_eq!(String::from_utf8(fx.content(&path).await).unwrap(), saved);

        // Changed through the API after loading: the save is refused with a choice.
        type_at_end(&browser, " # mine").await;
        fx.put(&path, b"name: theirs\n").await;
        press_save(&browser).await;
        browser
            .wait_for("[data-testid=editor][data-state=conflict]")
            .await;
        browser.wait_for("[data-testid=conflict]").await;
        assert_eq!(fx.content(&path).await, b"name: theirs\n");
        browser
            .click("[data-testid=conflict] [data-action=overwrite]")
            .await;
        browser
            .wait_for("[data-testid=editor][data-state=saved]")
            .await;
        let mine = format!("{saved} # mine");
        assert_eq!(String::from_utf8(fx.content(&path).await).unwrap(), mine);

        // Once more, this time taking their version.
        type_at_end(&browser, " again").await;
        fx.put(&path, b"name: theirs again\n").await;
        press_save(&browser).await;
        browser.wait_for("[data-testid=conflict]").await;
        browser
            .click("[data-testid=conflict] [data-action=reload]")
            .await;
        browser
            .wait_for("[data-testid=editor][data-state=ready]")
            .await;
        browser.wait_gone("[data-testid=dirty]").await;
        assert_eq!(editor_text(&browser).await, "name: theirs again\n");
        assert_eq!(fx.content(&path).await, b"name: theirs again\n");
        browser.doc_screenshot("editor.png").await;

        // Another file, by typing its path.
        browser
            .fill_and_enter(
                "[data-testid=editor-path-form] input[name=path]",
                &fx.p("app/notes.md"),
            )
            .await;
        gatehouse_e2e::eventually("the typed file in the editor", WAIT, || async {
            (editor_text(&browser).await == "# Notes\n").then_some(())
        })
        .await;
        browser
            .wait_for("[data-testid=editor][data-state=ready]")
            .await;
        assert_eq!(
            browser.query_param("path").await.as_deref(),
            Some(fx.p("app/notes.md").as_str())
        );
    })
    .await;
}
