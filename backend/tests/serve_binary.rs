//! The real `gatehouse` binary over real TCP with a fresh data dir: serve, admin, audit verify.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
const PASSWORD: &str = "correct horse battery staple";

/// A running `gatehouse serve`, killed on drop.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(data_dir: &std::path::Path) -> Self {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start gatehouse serve");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        // The first line names the bound address; reading it is the readiness signal.
        let first = lines
            .next()
            .expect("a first line")
            .expect("readable stdout");
        let base = first
            .strip_prefix("gatehouse listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .to_owned();
        std::thread::spawn(move || for _ in lines {});
        Server { child, base }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn admin(data_dir: &std::path::Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gatehouse");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn serve_admin_and_audit_verify_over_real_tcp() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = admin(
        dir.path(),
        &[
            "admin",
            "create-user",
            "--username",
            "ops",
            "--role",
            "superuser",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(code, 0, "create-user failed: {err}");
    assert!(out.contains("created superuser user ops"));
    let (code, _, err) = admin(
        dir.path(),
        &[
            "admin",
            "create-user",
            "--username",
            "weak",
            "--role",
            "member",
        ],
        "short\n",
    );
    assert_ne!(code, 0);
    assert!(err.contains("password"), "{err}");

    let server = Server::start(dir.path());
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let url = |p: &str| format!("{}{p}", server.base);

    // Set-up is closed: a user exists.
    let r = http
        .post(url("/api/setup"))
        .json(&json!({"username": "x", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);

    let r = http
        .post(url("/api/auth/login"))
        .json(&json!({"username": "ops", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
    let login: Value = r.json().await.unwrap();
    let csrf = login["csrf_token"].as_str().unwrap().to_owned();

    let r = http
        .post(url("/api/servers"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "web-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = http
        .post(url("/api/work-sessions"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"purpose": "tcp test", "scopes": ["command"], "servers": ["web-01"], "duration_secs": 600}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let session: Value = r.json().await.unwrap();
    let id = session["id"].as_str().unwrap();
    let r = http
        .post(url(&format!("/api/work-sessions/{id}/use")))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(url("/api/gate/check"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"scope": "command", "server": "web-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(url("/api/gate/check"))
        .header("x-csrf-token", &csrf)
        .body("{oops")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let envelope: Value = r.json().await.unwrap();
    assert_eq!(envelope["error_code"], "bad_request");
    let r = http.get(url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200, "still serving after bad input");
    drop(server);

    let (code, out, _) = admin(dir.path(), &["audit", "verify"], "");
    assert_eq!(code, 0);
    let verdict: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(verdict["ok"], true);

    // Tamper with the file directly, as an attacker with disk access would.
    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("gatehouse.db").display()
    ))
    .await
    .unwrap();
    sqlx::query("UPDATE audit_log SET actor = 'nobody' WHERE seq = 2")
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let (code, out, _) = admin(dir.path(), &["audit", "verify"], "");
    assert_eq!(code, 1);
    let verdict: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(verdict["first_bad_seq"], 2);
}

#[test]
fn plain_http_is_refused_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a loopback address"));
}
