//! Shared websh links and oversight: share, join with the right and wrong password, read-only
//! guests dropped and audited, read-write guests attributed in the recording, revocation and
//! expiry cutting guests off, the lock after ten wrong passwords, secrets kept out of the log,
//! staff watching and ending terminals.

use crate::{refused, Fixture};
use gatehouse_client::ClientError;
use gatehouse_e2e::terminal::{asciinema_cat, Term};
use gatehouse_e2e::{bearer_client, create_user, eventually, Api, Server};
use gatehouse_shared::share::{CreateShare, JoinShare, Joined};
use gatehouse_shared::{ErrorCode, ParticipantId, ShareId};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

/// A link as its owner got it.
pub(crate) struct Link {
    pub(crate) id: ShareId,
    pub(crate) secret: String,
    pub(crate) password: String,
}

/// Terminal `websh` shared by `ops`.
pub(crate) async fn share(fx: &Fixture, websh: &str, request: CreateShare) -> Link {
    let created = fx
        .api
        .client
        .share_websh(websh.parse().expect("a terminal id"), &request)
        .await
        .expect("a link");
    let (base, secret) = created
        .url
        .split_once("/join#")
        .expect("the secret in the fragment");
    assert_eq!(base, fx.server.base, "the link points at this server");
    Link {
        id: created.id,
        secret: secret.to_owned(),
        password: created.password,
    }
}

/// `POST /api/share/join` with no sign-in at all.
async fn join(fx: &Fixture, request: &JoinShare) -> Result<Joined, ClientError> {
    let anonymous = bearer_client(&fx.server.base, None);
    anonymous.join_share(request).await
}

/// A join with `password` (and no name).
fn join_with(link: &Link, password: &str) -> JoinShare {
    JoinShare {
        secret: link.secret.clone(),
        password: password.to_owned(),
        name: None,
        participant: None,
    }
}

fn join_body(link: &Link, name: &str) -> JoinShare {
    JoinShare {
        name: Some(name.to_owned()),
        ..join_with(link, &link.password)
    }
}

fn guest_url(fx: &Fixture, joined: &Joined) -> String {
    fx.server
        .ws_url(&format!("{}?ticket={}", joined.ws_path, joined.ticket))
}

/// Joins and connects as a guest named `name`.
pub(crate) async fn guest(fx: &Fixture, link: &Link, name: &str) -> (Joined, Term) {
    let joined = join(fx, &join_body(link, name)).await.expect("join");
    let term = Term::connect_anonymous(&guest_url(fx, &joined), None)
        .await
        .expect("guest connects");
    (joined, term)
}

fn contains(needle: &'static str) -> impl Fn(&Term) -> bool {
    move |t: &Term| t.text().contains(needle)
}

/// The names in the last participants list `term` received.
fn participant_names(term: &Term) -> Vec<String> {
    term.messages
        .iter()
        .rev()
        .find(|m| m["t"] == "participants")
        .and_then(|m| m["items"].as_array())
        .map(|items| {
            items
                .iter()
                .map(|p| {
                    format!(
                        "{}:{}",
                        p["role"].as_str().unwrap_or("?"),
                        p["name"].as_str().unwrap_or("?")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_read_only_guest_sees_the_terminal_live_and_its_input_is_dropped_and_audited() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["websh"], &["web-01"]).await;
    let (id, url) = fx.terminal("web-01").await;
    let mut owner = Term::connect(&url, &fx.api, None).await.expect("owner");
    owner.type_text("echo before-$((2+3))\r").await;
    assert!(owner.read_until(WAIT, contains("before-5")).await);

    let link = share(&fx, &id, CreateShare::default()).await;
    let terminal = id.parse().expect("a terminal id");
    let listed = fx.api.client.shares(terminal).await.expect("the links");
    let row = &listed.items[0];
    assert_eq!((row.read_only, row.active), (true, true));
    // The body as sent: a typed list would drop a field that leaked the secret.
    let raw = fx.api.get(&format!("/api/websh/{id}/shares")).await;
    assert!(!raw.to_string().contains(&link.secret) && !raw.to_string().contains(&link.password));

    // A wrong password is refused, and the link then makes the next try wait.
    let e = refused(join(&fx, &join_with(&link, "guess")).await);
    assert_eq!(
        (e.status, e.code()),
        (401, Some(ErrorCode::Unauthenticated)),
        "{e}"
    );
    let e = refused(join(&fx, &join_body(&link, "carol")).await);
    assert_eq!(
        (e.status, e.code()),
        (429, Some(ErrorCode::RateLimited)),
        "{e}"
    );
    assert!(
        e.envelope["retry_after_secs"].as_u64().is_some(),
        "{}",
        e.envelope
    );
    let joined = eventually("the backoff to pass", WAIT, || async {
        join(&fx, &join_body(&link, "carol")).await.ok()
    })
    .await;
    assert!(joined.read_only);
    assert_eq!(joined.owner, "ops");
    assert_eq!(joined.server, "web-01");
    let guest_url = guest_url(&fx, &joined);
    let mut guest = Term::connect_anonymous(&guest_url, None)
        .await
        .expect("guest");
    // The scrollback so far, then live output.
    assert!(
        guest.read_until(WAIT, contains("before-5")).await,
        "{}",
        guest.text()
    );
    owner.type_text("echo shared-$((6*7))\r").await;
    assert!(
        guest.read_until(WAIT, contains("shared-42")).await,
        "{}",
        guest.text()
    );

    // The owner sees the guest arrive.
    assert!(
        owner
            .read_until(WAIT, |t| participant_names(t)
                .contains(&"guest:carol".to_owned()))
            .await,
        "{:?}",
        owner.messages
    );
    let listed = fx
        .api
        .client
        .participants(terminal)
        .await
        .expect("the participants");
    assert_eq!(listed.total, 2, "{listed:?}");

    // Keystrokes, resizes and stray frames from the read-only guest never reach the shell.
    guest.type_text("echo guest-typed\r").await;
    guest
        .control(json!({"t": "resize", "cols": 40, "rows": 10}))
        .await;
    owner.type_text("echo after-$((1+1)); stty size\r").await;
    assert!(owner.read_until(WAIT, contains("after-2")).await);
    assert!(
        owner.read_until(WAIT, contains("24 80")).await,
        "{}",
        owner.text()
    );
    assert!(!owner.text().contains("guest-typed"), "{}", owner.text());
    let dropped = eventually("the dropped input audited", WAIT, || async {
        let rows = fx.api.audit("websh.input_dropped").await;
        (!rows.is_empty()).then_some(rows)
    })
    .await;
    assert_eq!(dropped[0].actor.as_deref(), Some("guest:carol"));
    assert_eq!(dropped[0].outcome, "denied");

    // A ticket opens one connection only.
    let again = Term::connect_anonymous(&guest_url, None).await;
    let mut again = again.expect("the upgrade itself succeeds");
    assert!(again.read_until(WAIT, |t| t.closed.is_some()).await || again.closed.is_some());
    assert_eq!(again.closed, Some(4001));

    // Every attempt, allowed or not, is on the record.
    let joins = fx.api.audit("share.join").await;
    let outcomes: Vec<&str> = joins.iter().map(|e| e.outcome.as_str()).collect();
    assert!(
        outcomes.contains(&"failure")
            && outcomes.contains(&"denied")
            && outcomes.contains(&"success"),
        "{outcomes:?}"
    );

    // The guest leaves; the owner's list follows.
    drop(guest);
    assert!(
        owner
            .read_until(WAIT, |t| !participant_names(t)
                .contains(&"guest:carol".to_owned()))
            .await
    );
}

#[tokio::test]
async fn a_read_write_guests_input_is_attributed_to_them_in_the_recording() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["websh"], &["web-01"]).await;
    let (id, url) = fx.terminal("web-01").await;
    let mut owner = Term::connect(&url, &fx.api, None).await.expect("owner");
    let request = CreateShare {
        read_only: false,
        expires_in_secs: Some(300),
    };
    let link = share(&fx, &id, request).await;
    let (joined, mut bob) = guest(&fx, &link, "bob").await;
    assert!(!joined.read_only);
    bob.type_text("echo from-$((100+1))\r").await;
    assert!(
        owner.read_until(WAIT, contains("from-101")).await,
        "{}",
        owner.text()
    );
    owner.type_text("echo owner-$((200+2))\r").await;
    assert!(bob.read_until(WAIT, contains("owner-202")).await);
    owner.type_text("exit\r").await;
    assert!(owner.read_until(WAIT, |t| t.closed.is_some()).await || owner.closed.is_some());
    assert!(bob.read_until(WAIT, |t| t.closed.is_some()).await || bob.closed.is_some());
    assert_eq!(bob.closed, Some(1000));

    let cast = fx
        .api
        .client
        .websh_recording(id.parse().expect("a terminal id"))
        .await
        .expect("the recording");
    // Each input event belongs to whoever the last `input_by` event names.
    let mut typist: Option<Value> = None;
    let mut typed: Vec<(String, String, String)> = Vec::new();
    for line in cast.lines().skip(1) {
        let event: Value = serde_json::from_str(line).expect("an event line");
        match event[1].as_str() {
            Some("input_by") => typist = Some(event[2].clone()),
            Some("i") => {
                let who = typist.as_ref().expect("input is always attributed");
                typed.push((
                    who["role"].as_str().unwrap_or_default().to_owned(),
                    who["name"].as_str().unwrap_or_default().to_owned(),
                    event[2].as_str().unwrap_or_default().to_owned(),
                ));
            }
            _ => {}
        }
    }
    let by = |role: &str, name: &str| -> String {
        typed
            .iter()
            .filter(|(r, n, _)| r == role && n == name)
            .map(|(_, _, text)| text.as_str())
            .collect()
    };
    assert!(
        by("guest", "bob").contains("echo from-$((100+1))"),
        "{typed:?}"
    );
    assert!(!by("guest", "bob").contains("owner-"), "{typed:?}");
    assert!(
        by("owner", "ops").contains("echo owner-$((200+2))"),
        "{typed:?}"
    );
    assert!(!by("owner", "ops").contains("from-"), "{typed:?}");
    assert!(
        cast.contains(&joined.participant.to_string()),
        "the participant id names bob uniquely"
    );

    // The extension event does not stop asciinema replaying it.
    let replayed = asciinema_cat(fx.dir.path(), &cast);
    assert!(
        replayed.contains("from-101") && replayed.contains("owner-202"),
        "{replayed}"
    );
}

#[tokio::test]
async fn revoking_the_link_or_the_work_session_disconnects_guests_within_a_second() {
    let fx = Fixture::start(&["web-01"]).await;
    let session = fx.session(&["websh"], &["web-01"]).await;
    let (id, url) = fx.terminal("web-01").await;
    let mut owner = Term::connect(&url, &fx.api, None).await.expect("owner");
    let terminal = id.parse().expect("a terminal id");
    let link = share(&fx, &id, CreateShare::default()).await;
    let (_, mut alice) = guest(&fx, &link, "alice").await;
    assert!(
        owner
            .read_until(WAIT, |t| participant_names(t).len() == 2)
            .await
    );

    let revoked_at = Instant::now();
    fx.api
        .client
        .revoke_share(terminal, link.id)
        .await
        .expect("the link revoked");
    assert!(alice.read_until(WAIT, |t| t.closed.is_some()).await || alice.closed.is_some());
    let took = revoked_at.elapsed();
    assert_eq!(alice.closed, Some(4012));
    assert!(took < Duration::from_secs(1), "guest cut after {took:?}");
    let e = refused(join(&fx, &join_body(&link, "alice")).await);
    assert_eq!(e.status, 404, "{e}");
    assert!(e.message.contains("revoked"), "{e}");
    // The owner's terminal is untouched.
    owner.type_text("echo still-$((3*3))\r").await;
    assert!(owner.read_until(WAIT, contains("still-9")).await);

    // Revoking the work session ends the terminal, and with it every guest's view.
    let writable = CreateShare {
        read_only: false,
        ..CreateShare::default()
    };
    let second = share(&fx, &id, writable).await;
    let (_, mut dave) = guest(&fx, &second, "dave").await;
    assert!(dave.read_until(WAIT, contains("still-9")).await);
    let revoked_at = Instant::now();
    fx.revoke(session.id).await;
    assert!(dave.read_until(WAIT, |t| t.closed.is_some()).await || dave.closed.is_some());
    let took = revoked_at.elapsed();
    assert_eq!(dave.closed, Some(4010));
    assert!(took < Duration::from_secs(1), "guest cut after {took:?}");
    assert_eq!(
        dave.has_message("ended").expect("ended")["reason"],
        "revoked"
    );
    let e = refused(join(&fx, &join_body(&second, "dave")).await);
    assert_eq!(e.status, 404, "{e}");
}

#[tokio::test]
async fn an_expired_link_disconnects_its_guests_and_refuses_joins() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["websh"], &["web-01"]).await;
    let (id, _) = fx.terminal("web-01").await;
    let request = CreateShare {
        expires_in_secs: Some(300),
        ..CreateShare::default()
    };
    let link = share(&fx, &id, request).await;
    let joined = join(&fx, &join_body(&link, "erin")).await.expect("joined");
    // Five minutes is the shortest link a user can ask for: bring this one's end forward in
    // the store (as if the time had passed) before the guest connects.
    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        fx.dir.path().join("gatehouse.db").display()
    ))
    .await
    .expect("open the store");
    let expires_at = chrono_micros_from_now(Duration::from_millis(1500));
    sqlx::query("UPDATE websh_shares SET expires_at = ? WHERE id = ?")
        .bind(expires_at)
        .bind(link.id.to_string())
        .execute(&db)
        .await
        .expect("move the expiry");
    let mut erin = Term::connect_anonymous(&guest_url(&fx, &joined), None)
        .await
        .expect("guest");
    assert!(erin.read_until(WAIT, |t| t.closed.is_some()).await || erin.closed.is_some());
    let late = micros_now() - expires_at;
    assert_eq!(erin.closed, Some(4012));
    assert!(late >= 0, "cut {}µs before the expiry", -late);
    assert!(late < 1_000_000, "cut {late}µs after the expiry");
    let e = refused(join(&fx, &join_body(&link, "erin")).await);
    assert_eq!(e.status, 404, "{e}");
    assert!(e.message.contains("expired"), "{e}");
}

fn micros_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

fn chrono_micros_from_now(after: Duration) -> i64 {
    micros_now() + after.as_micros() as i64
}

#[tokio::test]
async fn ten_wrong_passwords_lock_the_link_and_bad_requests_get_the_envelope() {
    let fx = Fixture::start_with(&["web-01"], &["--share-backoff-ms", "1"]).await;
    fx.session(&["websh"], &["web-01"]).await;
    let (id, _) = fx.terminal("web-01").await;

    // Bad input first: each gets the envelope and changes nothing.
    let terminal = id.parse().expect("a terminal id");
    for expires_in_secs in [10, 20_000] {
        let request = CreateShare {
            read_only: true,
            expires_in_secs: Some(expires_in_secs),
        };
        let e = refused(fx.api.client.share_websh(terminal, &request).await);
        assert_eq!(e.status, 400, "{e}");
        assert_eq!(e.envelope["ok"], false);
    }
    // Bodies the typed request cannot hold: sent raw.
    for body in [json!({"read_only": "yes"}), json!({"bogus": 1})] {
        let (status, reply) = fx
            .api
            .call(
                reqwest::Method::POST,
                &format!("/api/websh/{id}/share"),
                Some(body),
            )
            .await;
        assert_eq!(status, 400, "{reply}");
        assert_eq!(reply["ok"], false);
    }
    let unknown = "00000000-0000-4000-8000-000000000000"
        .parse()
        .expect("an id");
    let e = refused(
        fx.api
            .client
            .share_websh(unknown, &CreateShare::default())
            .await,
    );
    assert_eq!((e.status, e.code()), (404, Some(ErrorCode::NotFound)));
    let links = fx.api.client.shares(terminal).await.expect("the links");
    assert_eq!(links.total, 0);
    // Not JSON at all: raw.
    let raw = reqwest::Client::new()
        .post(format!("{}/api/share/join", fx.server.base))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(raw.status(), 400);
    let reply: Value = raw.json().await.expect("envelope");
    assert_eq!(reply["ok"], false);
    let no_such_link = JoinShare {
        secret: "no-such-link".to_owned(),
        password: "x".to_owned(),
        name: None,
        participant: None,
    };
    let e = refused(join(&fx, &no_such_link).await);
    assert_eq!((e.status, e.code()), (404, Some(ErrorCode::NotFound)));
    let oversized = JoinShare {
        secret: "x".repeat(100_000),
        ..no_such_link
    };
    assert_eq!(refused(join(&fx, &oversized).await).status, 413);

    let link = share(&fx, &id, CreateShare::default()).await;
    let mut wrong = 0;
    while wrong < 10 {
        let e = refused(join(&fx, &join_with(&link, &format!("guess-{wrong}"))).await);
        match e.status {
            401 => wrong += 1,
            // The backoff (1, 2, 4 … 64 ms here): try again.
            429 => tokio::task::yield_now().await,
            other => panic!("unexpected {other}: {e}"),
        }
    }
    // Locked: even the right password no longer opens it.
    let e = refused(join(&fx, &join_body(&link, "mallory")).await);
    assert_eq!(
        (e.status, e.code()),
        (403, Some(ErrorCode::Forbidden)),
        "{e}"
    );
    assert!(e.message.contains("locked"), "{e}");
    let listed = fx.api.client.shares(terminal).await.expect("the links");
    assert_eq!(
        (listed.items[0].locked, listed.items[0].active),
        (true, false)
    );
    let joins = fx.api.audit("share.join").await;
    let failures = joins.iter().filter(|e| e.outcome == "failure").count();
    assert_eq!(failures, 10, "each wrong password audited");
    assert!(joins
        .iter()
        .any(|e| e.details["outcome"]["reason"] == "locked"));

    // Per address, across links: 20 failures (the unknown secret above and ten wrong passwords
    // were 11) and this address is turned away even with a right password for a fresh link.
    let fresh = share(&fx, &id, CreateShare::default()).await;
    let mut failures = 11;
    while failures < 20 {
        let e = refused(join(&fx, &join_with(&fresh, &format!("again-{failures}"))).await);
        match e.status {
            401 => failures += 1,
            429 => tokio::task::yield_now().await,
            other => panic!("unexpected {other}: {e}"),
        }
    }
    let e = refused(join(&fx, &join_body(&fresh, "mallory")).await);
    assert_eq!(e.status, 429, "{e}");
    assert!(e.message.contains("this address"), "{e}");
}

#[tokio::test]
async fn the_link_secret_password_and_ticket_never_reach_the_server_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    create_user(dir.path(), "ops", "superuser");
    let log = dir.path().join("server.log");
    let server = Server::start_logged(dir.path(), &[], &log);
    let fx = Fixture::with_server(&["web-01"], dir, server).await;
    fx.session(&["websh"], &["web-01"]).await;
    let (id, _) = fx.terminal("web-01").await;
    let link = share(&fx, &id, CreateShare::default()).await;
    let (joined, mut guest) = guest(&fx, &link, "logcheck").await;
    guest.control(json!({"t": "ping"})).await;
    assert!(
        guest
            .read_until(WAIT, |t| t.has_message("pong").is_some())
            .await
    );
    let ticket = joined.ticket;
    let text = std::fs::read_to_string(&log).expect("read the log");
    // The log is on, and it did see these requests.
    assert!(
        text.contains("/api/share/join"),
        "requests are logged at debug level"
    );
    for (what, secret) in [
        ("link secret", &link.secret),
        ("password", &link.password),
        ("ticket", &ticket),
    ] {
        assert!(
            !text.contains(secret.as_str()),
            "the {what} is in the server log"
        );
    }
    // The console page a link opens tells the browser never to pass the address on (a header:
    // read raw).
    let page = reqwest::get(format!("{}/join", fx.server.base))
        .await
        .expect("join page");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
}

#[tokio::test]
async fn staff_see_every_live_terminal_watch_read_only_and_end_it() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["websh"], &["web-01"]).await;
    let (id, url) = fx.terminal("web-01").await;
    let mut owner = Term::connect(&url, &fx.api, None).await.expect("owner");
    create_user(fx.dir.path(), "auditor", "staff");
    create_user(fx.dir.path(), "dev", "member");
    let auditor = Api::login(&fx.server.base, "auditor").await;
    let dev = Api::login(&fx.server.base, "dev").await;

    let live = auditor
        .client
        .live_terminals()
        .await
        .expect("the live terminals");
    assert_eq!(live.total, 1, "{live:?}");
    let item = &live.items[0];
    assert_eq!(
        (item.id.to_string(), item.owner.username.as_str()),
        (id.clone(), "ops")
    );
    assert_eq!(item.server, "web-01");
    let theirs = dev
        .client
        .live_terminals()
        .await
        .expect("the live terminals");
    assert_eq!(theirs.total, 0, "members see only their own");

    // A member cannot watch; staff can, read-only, and the owner is told.
    let watch_url = format!("{url}?watch=true");
    let mut nosy = Term::connect(&watch_url, &dev, None)
        .await
        .expect("upgrade");
    assert!(nosy.read_until(WAIT, |t| t.closed.is_some()).await || nosy.closed.is_some());
    assert_eq!(nosy.closed, Some(4004));
    let mut watcher = Term::connect(&watch_url, &auditor, None)
        .await
        .expect("watch");
    assert!(
        owner
            .read_until(WAIT, |t| t.messages.iter().any(|m| m["t"] == "notice"
                && m["text"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("auditor is watching")))
            .await,
        "{:?}",
        owner.messages
    );
    assert!(
        owner
            .read_until(WAIT, |t| participant_names(t)
                .contains(&"watcher:auditor".to_owned()))
            .await
    );
    owner.type_text("echo watched-$((5*5))\r").await;
    assert!(watcher.read_until(WAIT, contains("watched-25")).await);
    watcher.type_text("echo watcher-typed\r").await;
    owner.type_text("echo mark-$((4*4))\r").await;
    assert!(owner.read_until(WAIT, contains("mark-16")).await);
    assert!(!owner.text().contains("watcher-typed"));

    // Staff end it: every view closes with 4011.
    auditor
        .client
        .close_websh(item.id)
        .await
        .expect("ended by staff");
    for term in [&mut owner, &mut watcher] {
        assert!(term.read_until(WAIT, |t| t.closed.is_some()).await || term.closed.is_some());
        assert_eq!(term.closed, Some(4011));
    }
    let live = auditor
        .client
        .live_terminals()
        .await
        .expect("the live terminals");
    assert_eq!(live.total, 0);
    assert!(!fx.api.audit("websh.watched").await.is_empty());
}

#[tokio::test]
async fn the_owner_removes_a_guest_who_then_cannot_rejoin_as_themselves() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["websh"], &["web-01"]).await;
    let (id, url) = fx.terminal("web-01").await;
    let mut owner = Term::connect(&url, &fx.api, None).await.expect("owner");
    let terminal = id.parse().expect("a terminal id");
    let link = share(&fx, &id, CreateShare::default()).await;
    let (joined, mut frank) = guest(&fx, &link, "frank").await;
    assert!(
        owner
            .read_until(WAIT, |t| participant_names(t)
                .contains(&"guest:frank".to_owned()))
            .await
    );
    let participant = joined.participant;

    // Others' terminals are not theirs to manage.
    create_user(fx.dir.path(), "dev", "member");
    let dev = Api::login(&fx.server.base, "dev").await;
    let e = refused(dev.client.remove_participant(terminal, participant).await);
    assert_eq!(e.status, 404, "{e}");
    let e = refused(
        dev.client
            .share_websh(terminal, &CreateShare::default())
            .await,
    );
    assert_eq!(e.status, 404, "{e}");
    let ops = fx.api.client.whoami().await.expect("whoami").user.id;
    let e = refused(
        fx.api
            .client
            .remove_participant(terminal, ParticipantId(ops.0))
            .await,
    );
    assert_eq!(e.status, 409, "the owner cannot be removed");

    fx.api
        .client
        .remove_participant(terminal, participant)
        .await
        .expect("the guest removed");
    assert!(frank.read_until(WAIT, |t| t.closed.is_some()).await || frank.closed.is_some());
    assert_eq!(frank.closed, Some(4013));
    assert!(
        owner
            .read_until(WAIT, |t| participant_names(t)
                == vec!["owner:ops".to_owned()])
            .await
    );
    let rejoin = JoinShare {
        participant: Some(participant),
        ..join_body(&link, "frank")
    };
    let e = refused(join(&fx, &rejoin).await);
    assert_eq!(e.status, 403, "{e}");
}

#[tokio::test]
async fn a_guest_that_loses_its_connection_rejoins_as_itself_and_resumes_without_loss() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["websh"], &["web-01"]).await;
    let (id, url) = fx.terminal("web-01").await;
    let mut owner = Term::connect(&url, &fx.api, None).await.expect("owner");
    let link = share(&fx, &id, CreateShare::default()).await;
    let (joined, mut gina) = guest(&fx, &link, "gina").await;
    owner.type_text("echo one-$((10+1))\r").await;
    assert!(gina.read_until(WAIT, contains("one-11")).await);
    let seen = gina.end();
    let before = gina.output.clone();
    gina.drop_connection();

    // Output the guest misses while away.
    owner.type_text("echo two-$((20+2))\r").await;
    assert!(owner.read_until(WAIT, contains("two-22")).await);

    // Back: join again as the same participant, resume from what was rendered.
    let rejoin = JoinShare {
        participant: Some(joined.participant),
        ..join_body(&link, "gina")
    };
    let again = join(&fx, &rejoin).await.expect("joined again");
    assert_eq!(again.participant, joined.participant);
    assert_ne!(again.ticket, joined.ticket, "a fresh ticket");
    let resume = format!("{}&resume_from={seen}", guest_url(&fx, &again));
    let mut back = Term::connect_anonymous(&resume, None)
        .await
        .expect("reconnect");
    assert!(
        back.read_until(WAIT, contains("two-22")).await,
        "{}",
        back.text()
    );
    // The stream continued exactly at the offset: together the two connections hold every byte
    // the owner's view holds, once.
    let mut whole = before;
    whole.extend_from_slice(&back.output);
    assert_eq!(back.start, seen);
    assert!(owner.output.starts_with(&whole) || whole.starts_with(&owner.output));
    // One participant, not two.
    let terminal = id.parse().expect("a terminal id");
    let names = eventually("the participants to settle", WAIT, || async {
        let list = fx
            .api
            .client
            .participants(terminal)
            .await
            .expect("the participants");
        (list.items.len() == 2).then_some(list.items)
    })
    .await;
    assert_eq!(
        names.iter().filter(|p| p.name == "gina").count(),
        1,
        "{names:?}"
    );
}
