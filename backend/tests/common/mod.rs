//! Test harness: the whole app over a fresh SQLite file, driven with `oneshot`.
#![allow(dead_code)]

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use gatehouse::config::Config;
use gatehouse::{app, AppState};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::net::SocketAddr;
use tempfile::TempDir;
use tower::ServiceExt;

pub mod elevation;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    /// The same database file opened a second time, outside the server's store, the way an
    /// operator or an attacker with file access would: tests read and tamper through it.
    pub raw: sqlx::SqlitePool,
    _dir: TempDir,
}

/// How a request authenticates.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
    pub peer: Option<SocketAddr>,
    pub username: String,
    pub id: String,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Response {
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        self.body
    }

    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(self.body["ok"], false, "not an envelope: {}", self.text);
        assert_eq!(self.body["error_code"], code, "body: {}", self.text);
        assert!(self.body["message"].as_str().is_some_and(|m| !m.is_empty()));
        self.body
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_config(Config::default()).await
    }

    pub async fn with_config(mut config: Config) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        config.data_dir = dir.path().to_owned();
        let state = AppState::open(&url, config).await.expect("open state");
        let raw = sqlx::SqlitePool::connect(&url)
            .await
            .expect("open the file again");
        gatehouse::spawn_background(&state);
        Self {
            router: app(state.clone()),
            state,
            raw,
            _dir: dir,
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        caller: &Caller,
    ) -> Response {
        let raw = body.map(|b| b.to_string());
        self.call_raw(method, path, raw, caller, &[]).await
    }

    pub async fn call_raw(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
        caller: &Caller,
        extra: &[(&str, &str)],
    ) -> Response {
        let mut builder = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(path);
        if let Some(cookie) = &caller.cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        if let Some(csrf) = &caller.csrf {
            builder = builder.header("x-csrf-token", csrf);
        }
        if let Some(token) = &caller.bearer {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        for (k, v) in extra {
            builder = builder.header(*k, *v);
        }
        let has_body = body.is_some();
        if has_body {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
        }
        let mut request = builder.body(Body::from(body.unwrap_or_default())).unwrap();
        let peer = caller
            .peer
            .unwrap_or_else(|| "127.0.0.1:40000".parse().unwrap());
        request.extensions_mut().insert(ConnectInfo(peer));
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Response {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, caller: &Caller) -> Response {
        self.call("GET", path, None, caller).await
    }

    pub async fn delete(&self, path: &str, caller: &Caller) -> Response {
        self.call("DELETE", path, None, caller).await
    }

    pub async fn post(&self, path: &str, body: Value, caller: &Caller) -> Response {
        self.call("POST", path, Some(body), caller).await
    }

    /// Creates the first superuser `root` and signs in.
    pub async fn superuser(&self) -> Caller {
        self.post(
            "/api/setup",
            json!({"username": "root", "password": PASSWORD}),
            &Caller::default(),
        )
        .await
        .expect(201);
        self.login("root").await
    }

    pub async fn login(&self, username: &str) -> Caller {
        let r = self
            .post(
                "/api/auth/login",
                json!({"username": username, "password": PASSWORD}),
                &Caller::default(),
            )
            .await;
        let cookie = session_cookie(&r.headers);
        let body = r.expect(200);
        Caller {
            cookie: Some(cookie),
            csrf: body["csrf_token"].as_str().map(str::to_owned),
            username: username.to_owned(),
            id: body["user"]["id"].as_str().unwrap().to_owned(),
            ..Caller::default()
        }
    }

    /// Creates a user with `role` (as `admin`) and signs them in.
    pub async fn user(&self, admin: &Caller, username: &str, role: &str) -> Caller {
        self.post(
            "/api/users",
            json!({"username": username, "password": PASSWORD, "role": role}),
            admin,
        )
        .await
        .expect(201);
        self.login(username).await
    }

    /// Creates an API token of `owner` named `name`; a caller that presents it.
    pub async fn token(&self, owner: &Caller, name: &str) -> Caller {
        let created = self
            .post("/api/tokens", json!({"name": name}), owner)
            .await
            .expect(201);
        Caller {
            bearer: Some(created["token"].as_str().unwrap().to_owned()),
            ..Caller::default()
        }
    }

    /// Issues an agent registration token as `admin` with `body`'s options; the 201 answer.
    pub async fn registration_token(&self, admin: &Caller, body: Value) -> Value {
        self.post("/api/servers/registration-tokens", body, admin)
            .await
            .expect(201)
    }

    pub async fn server(&self, admin: &Caller, name: &str) -> Value {
        self.post("/api/servers", json!({"name": name}), admin)
            .await
            .expect(201)
    }

    /// A group granting `pattern` to `members`.
    pub async fn grant(&self, admin: &Caller, group: &str, pattern: &str, members: &[&str]) {
        let g = self
            .post("/api/groups", json!({"name": group}), admin)
            .await
            .expect(201);
        let id = g["id"].as_str().unwrap();
        self.post(
            &format!("/api/groups/{id}/servers"),
            json!({"pattern": pattern}),
            admin,
        )
        .await
        .expect(200);
        for m in members {
            self.post(
                &format!("/api/groups/{id}/members"),
                json!({"username": m}),
                admin,
            )
            .await
            .expect(200);
        }
    }

    /// Requests a session with a one-hour duration.
    pub async fn request_session(
        &self,
        caller: &Caller,
        scopes: &[&str],
        servers: &[&str],
    ) -> Value {
        self.post(
            "/api/work-sessions",
            json!({"purpose": "maintenance", "scopes": scopes, "servers": servers, "duration_secs": 3600}),
            caller,
        )
        .await
        .expect(201)
    }

    /// Approves session `id` as `approver`; the session as it is now.
    pub async fn approve(&self, approver: &Caller, id: &str) -> Value {
        self.post(
            &format!("/api/work-sessions/{id}/approve"),
            json!({}),
            approver,
        )
        .await
        .expect(200)
    }

    pub async fn audit_actions(&self, admin: &Caller) -> Vec<String> {
        let page = self.get("/api/audit?limit=500", admin).await.expect(200);
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    }
}

pub fn session_cookie(headers: &HeaderMap) -> String {
    let set = headers
        .get(header::SET_COOKIE)
        .expect("a Set-Cookie header")
        .to_str()
        .unwrap();
    assert!(set.contains("HttpOnly"), "cookie must be HttpOnly: {set}");
    assert!(
        set.contains("SameSite=Strict"),
        "cookie must be SameSite=Strict: {set}"
    );
    set.split(';').next().unwrap().to_owned()
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}
