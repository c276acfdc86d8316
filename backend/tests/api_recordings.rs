//! `GET /api/recordings`: filters, text search with snippets, who sees what, bad input; the
//! recording's download; and the audit log's free-text and short-id search and newest-first order.
//! Terminals are recorded through the server's own recorder and closed through the same
//! `finalize` the gateway runs, so the searchable text is the one a real terminal gets.

mod common;

use common::{id, Caller, TestApp};
use gatehouse::core::audit::{self, SUCCESS};
use gatehouse::core::gateway::recording::{self, Recorder};
use gatehouse::core::gateway::service;
use gatehouse::core::gateway::terminal::{Terminal, TerminalInfo};
use gatehouse::core::gateway::viewers::ViewerIdentity;
use gatehouse::store::{websh, WriteTx};
use gatehouse::time::now;
use gatehouse_shared::agent_link::ChannelId;
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::share::ParticipantRole;
use gatehouse_shared::{ParticipantId, ServerId};
use serde_json::Value;
use uuid::Uuid;

/// Records a terminal of `owner` in `session` on `server`: `typed` as input, `shown` as output,
/// then ends it the way the gateway does. Returns the terminal's id.
async fn record(
    app: &TestApp,
    owner: &Caller,
    session: &str,
    server: &str,
    typed: &str,
    shown: &str,
) -> String {
    let (id, rec) = record_live(app, owner, session, server, typed, shown).await;
    let info = TerminalInfo {
        id: ChannelId(id),
        work_session: Some(session.parse().unwrap()),
        token: None,
        owner: owner.id.parse().unwrap(),
        owner_name: owner.username.clone(),
        server_id: ServerId::new(),
        server_name: server.to_owned(),
        run_as: Some("deploy".into()),
        started_at: now(),
    };
    let end = rec.output_bytes();
    let term = Terminal::new(info, rec, end, Vec::new());
    term.exited(0);
    service::finalize(&app.state, &term).await;
    id.to_string()
}

/// Like [`record`], but the terminal stays open: its recorder is returned.
async fn record_live(
    app: &TestApp,
    owner: &Caller,
    session: &str,
    server: &str,
    typed: &str,
    shown: &str,
) -> (Uuid, Recorder) {
    let id = Uuid::new_v4();
    let state = &app.state;
    let file = recording::file_name(id);
    let mut tx = WriteTx::begin(&state.db, state.workspace, now())
        .await
        .unwrap();
    websh::insert(
        &mut tx,
        &websh::NewWebsh {
            id,
            authority: websh::Authority::WorkSession(session.parse().unwrap()),
            server_id: ServerId::new(),
            server_name: server,
            user: owner.id.parse().unwrap(),
            run_as: Some("deploy"),
            cols: 120,
            rows: 30,
            recording: &file,
        },
    )
    .await
    .unwrap();
    tx.commit(
        audit::event(AuditAction::WebshOpened, SUCCESS)
            .actor(&owner.username)
            .target(id.to_string())
            .work_session(session.parse().unwrap())
            .server(server)
            .details(serde_json::json!({ "websh": id })),
    )
    .await
    .unwrap();
    let mut rec = Recorder::create(&state.recording_path(&file), 120, 30, "t").unwrap();
    let who = ViewerIdentity {
        participant: ParticipantId::new(),
        name: owner.username.clone(),
        role: ParticipantRole::Owner,
        read_only: false,
        share: None,
    };
    rec.output(b"\x1b[01;32m$\x1b[0m ").unwrap();
    rec.input(typed.as_bytes(), &who).unwrap();
    rec.output(shown.as_bytes()).unwrap();
    // What a live terminal's recording holds once the watcher's once-a-second flush ran.
    rec.flush().unwrap();
    (id, rec)
}

struct World {
    app: TestApp,
    root: Caller,
    mia: Caller,
    bob: Caller,
    staff: Caller,
    mia_session: String,
    bob_session: String,
}

async fn world() -> World {
    let app = TestApp::new().await;
    let root = app.superuser().await;
    let mia = app.user(&root, "mia", "member").await;
    let bob = app.user(&root, "bob", "member").await;
    let staff = app.user(&root, "sam", "staff").await;
    app.server(&root, "web-01").await;
    app.server(&root, "db-01").await;
    app.grant(&root, "ops", "*", &["mia", "bob"]).await;
    let mia_session = id(&app
        .request_session(&mia, &["websh"], &["web-01", "db-01"])
        .await);
    let bob_session = id(&app.request_session(&bob, &["websh"], &["web-01"]).await);
    World {
        app,
        root,
        mia,
        bob,
        staff,
        mia_session,
        bob_session,
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn search_finds_what_was_typed_and_shown_with_its_context() {
    let w = world().await;
    let app = &w.app;
    let needle = record(
        app,
        &w.mia,
        &w.mia_session,
        "web-01",
        "echo GH-needle-42\r",
        "echo GH-needle-42\r\nGH-needle-42\r\n",
    )
    .await;
    let other = record(
        app,
        &w.mia,
        &w.mia_session,
        "db-01",
        "uptime\r",
        "\x1b[1m load average: 0.01\x1b[0m\r\n",
    )
    .await;

    let found = app
        .get("/api/recordings?q=gh-NEEDLE", &w.mia)
        .await
        .expect(200);
    assert_eq!(ids(&found), [needle.as_str()]);
    assert_eq!(found["total"], 1);
    let row = &found["items"][0];
    assert_eq!(row["owner"]["username"], "mia");
    assert_eq!(row["owner"]["id"], w.mia.id.as_str());
    assert_eq!(row["server"], "web-01");
    assert_eq!(row["run_as"], "deploy");
    assert_eq!(row["work_session"]["id"], w.mia_session.as_str());
    assert_eq!(row["work_session"]["purpose"], "maintenance");
    assert_eq!(row["exit_code"], 0);
    assert!(row["ended_at"].is_string() && row["duration_secs"].is_number());
    assert!(row["size_bytes"].as_u64().unwrap() > 0);
    assert_eq!(row["recording"], format!("/api/websh/{needle}/recording"));
    let snippet = row["snippet"].as_str().unwrap();
    assert!(snippet.contains("echo GH-needle-42"), "{snippet}");

    // Output only, and escape sequences do not split the text.
    let shown = app
        .get("/api/recordings?q=load%20average", &w.mia)
        .await
        .expect(200);
    assert_eq!(ids(&shown), [other.as_str()]);
    // "1m load" would only match if the colour code were kept.
    let escape = app
        .get("/api/recordings?q=1m%20load", &w.mia)
        .await
        .expect(200);
    assert_eq!(escape["total"], 0);
    // LIKE wildcards are literal.
    let literal = app.get("/api/recordings?q=%25", &w.mia).await.expect(200);
    assert_eq!(literal["total"], 0);
    // A live terminal is searched in its file, and only by those who may see it.
    let (live, _recorder) = record_live(
        app,
        &w.mia,
        &w.mia_session,
        "web-01",
        "tail -f app.log\r",
        "live-needle in the log\r\n",
    )
    .await;
    let (_, _bobs) = record_live(
        app,
        &w.bob,
        &w.bob_session,
        "web-01",
        "id\r",
        "live-needle for bob\r\n",
    )
    .await;
    let found = app
        .get("/api/recordings?q=LIVE-needle", &w.mia)
        .await
        .expect(200);
    assert_eq!(ids(&found), [live.to_string()]);
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["ended_at"], Value::Null);
    assert_eq!(found["items"][0]["snippet"], "$ live-needle in the log");
    let staff = app
        .get("/api/recordings?q=live-needle", &w.staff)
        .await
        .expect(200);
    assert_eq!(staff["total"], 2);
    let not_live = app
        .get("/api/recordings?q=live-needle&server=db-01", &w.staff)
        .await
        .expect(200);
    assert_eq!(not_live["total"], 0);

    // Without q: everything, newest first, no snippet.
    let all = app.get("/api/recordings", &w.mia).await.expect(200);
    assert_eq!(ids(&all), [live.to_string(), other.clone(), needle.clone()]);
    assert!(all["items"][0].get("snippet").is_none());
    assert_eq!(all["next_cursor"], Value::Null);
}

#[tokio::test]
async fn filters_and_paging() {
    let w = world().await;
    let app = &w.app;
    let a = record(app, &w.mia, &w.mia_session, "web-01", "ls\r", "a\r\n").await;
    let b = record(app, &w.mia, &w.mia_session, "db-01", "ls\r", "b\r\n").await;
    let c = record(app, &w.bob, &w.bob_session, "web-01", "ls\r", "c\r\n").await;

    let root = &w.root;
    let by_server = app
        .get("/api/recordings?server=web-01", root)
        .await
        .expect(200);
    assert_eq!(ids(&by_server), [c.as_str(), a.as_str()]);
    let by_user = app.get("/api/recordings?user=bob", root).await.expect(200);
    assert_eq!(ids(&by_user), [c.as_str()]);
    let by_session = app
        .get(
            &format!("/api/recordings?work_session={}", w.mia_session),
            root,
        )
        .await
        .expect(200);
    assert_eq!(ids(&by_session), [b.as_str(), a.as_str()]);
    // Empty values are no filter, as a form sends them.
    let empty = app
        .get(
            "/api/recordings?user=&server=&work_session=&from=&to=&q=",
            root,
        )
        .await
        .expect(200);
    assert_eq!(empty["total"], 3);

    let future = "2999-01-01T00:00:00Z";
    let past = "2000-01-01T00:00:00Z";
    let window = app
        .get(&format!("/api/recordings?from={past}&to={future}"), root)
        .await
        .expect(200);
    assert_eq!(window["total"], 3);
    let later = app
        .get(&format!("/api/recordings?from={future}"), root)
        .await
        .expect(200);
    assert_eq!(later["total"], 0);

    // Pages of one, newest first, each row once.
    let first = app.get("/api/recordings?limit=1", root).await.expect(200);
    assert_eq!(ids(&first), [c.as_str()]);
    assert_eq!(first["total"], 3);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("/api/recordings?limit=1&cursor={cursor}"), root)
        .await
        .expect(200);
    assert_eq!(ids(&second), [b.as_str()]);
    let cursor = second["next_cursor"].as_str().unwrap();
    let third = app
        .get(&format!("/api/recordings?limit=1&cursor={cursor}"), root)
        .await
        .expect(200);
    assert_eq!(ids(&third), [a.as_str()]);
    assert_eq!(third["next_cursor"], Value::Null);

    // Unknown people, servers and sessions match nothing.
    for query in [
        "user=nobody".to_owned(),
        "server=nowhere".to_owned(),
        format!("work_session={}", Uuid::new_v4()),
        "q=no-such-text".to_owned(),
    ] {
        let page = app
            .get(&format!("/api/recordings?{query}"), root)
            .await
            .expect(200);
        assert_eq!(page["total"], 0, "{query}");
        assert_eq!(page["items"], serde_json::json!([]), "{query}");
    }
}

#[tokio::test]
async fn members_see_their_own_and_staff_see_everyone() {
    let w = world().await;
    let app = &w.app;
    let mine = record(
        app,
        &w.mia,
        &w.mia_session,
        "web-01",
        "id\r",
        "shared-word\r\n",
    )
    .await;
    let bobs = record(
        app,
        &w.bob,
        &w.bob_session,
        "web-01",
        "id\r",
        "shared-word\r\n",
    )
    .await;

    let mia_all = app
        .get("/api/recordings?q=shared-word", &w.mia)
        .await
        .expect(200);
    assert_eq!(ids(&mia_all), [mine.as_str()]);
    assert_eq!(
        mia_all["total"], 1,
        "the total does not count others' recordings"
    );
    // Naming another person, or their session, shows nothing of theirs.
    let asked = app
        .get("/api/recordings?user=bob", &w.mia)
        .await
        .expect(200);
    assert_eq!(asked["total"], 0);
    let their_session = app
        .get(
            &format!("/api/recordings?work_session={}", w.bob_session),
            &w.mia,
        )
        .await
        .expect(200);
    assert_eq!(their_session["total"], 0);
    let me = app.get("/api/recordings?user=me", &w.bob).await.expect(200);
    assert_eq!(ids(&me), [bobs.as_str()]);

    for staff in [&w.staff, &w.root] {
        let all = app
            .get("/api/recordings?q=shared-word", staff)
            .await
            .expect(200);
        assert_eq!(ids(&all), [bobs.as_str(), mine.as_str()]);
    }
    // The recording itself follows the same rule, and downloads as an attachment.
    app.get(&format!("/api/websh/{bobs}/recording"), &w.mia)
        .await
        .expect_error(404, "not_found");
    let download = app
        .get(
            &format!("/api/websh/{mine}/recording?download=true"),
            &w.mia,
        )
        .await;
    assert_eq!(download.status.as_u16(), 200);
    let disposition = download.headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"web-01-")
            && disposition.ends_with(".cast\""),
        "{disposition}"
    );
    assert!(download.text.contains("shared-word"));
    let inline = app
        .get(&format!("/api/websh/{mine}/recording"), &w.mia)
        .await;
    assert!(inline.headers.get("content-disposition").is_none());
    app.get(
        &format!("/api/websh/{mine}/recording?download=maybe"),
        &w.mia,
    )
    .await
    .expect_error(400, "bad_request");

    // One recording with its context: the owner's and staff's, 404 for anyone else.
    let one = app
        .get(&format!("/api/recordings/{mine}"), &w.mia)
        .await
        .expect(200);
    assert_eq!(one["id"], mine.as_str());
    assert_eq!(one["owner"]["username"], "mia");
    assert_eq!(one["work_session"]["purpose"], "maintenance");
    app.get(&format!("/api/recordings/{mine}"), &w.staff)
        .await
        .expect(200);
    app.get(&format!("/api/recordings/{bobs}"), &w.mia)
        .await
        .expect_error(404, "not_found");
    app.get(&format!("/api/recordings/{}", Uuid::new_v4()), &w.root)
        .await
        .expect_error(404, "not_found");
    // A malformed id names nothing, as everywhere in the API.
    app.get("/api/recordings/not-a-uuid", &w.root)
        .await
        .expect_error(404, "not_found");

    // No sign-in, no list.
    app.get("/api/recordings", &Caller::default())
        .await
        .expect_error(401, "unauthenticated");
}

#[tokio::test]
async fn bad_filters_are_refused_with_the_envelope() {
    let w = world().await;
    let app = &w.app;
    let long = "x".repeat(201);
    for (query, field) in [
        ("work_session=not-a-uuid", "work_session"),
        ("from=yesterday", "from"),
        ("to=2026-13-01T00:00:00Z", "to"),
        ("from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "to"),
        ("cursor=garbage", "cursor"),
        (&format!("q={long}"), "q"),
    ] {
        let body = app
            .get(&format!("/api/recordings?{query}"), &w.mia)
            .await
            .expect_error(400, "validation_error");
        assert_eq!(body["fields"][0]["field"], field, "{query}: {body}");
    }
    app.get("/api/recordings?limit=lots", &w.mia)
        .await
        .expect_error(400, "bad_request");
    // Limits are clamped, not refused.
    app.get("/api/recordings?limit=100000", &w.mia)
        .await
        .expect(200);
}

#[tokio::test]
async fn audit_search_by_text_and_short_id_newest_first() {
    let w = world().await;
    let app = &w.app;
    let term = record(app, &w.mia, &w.mia_session, "web-01", "id\r", "x\r\n").await;
    let short = &term[..8];
    let root = &w.root;

    // The short id finds the terminal's events: its target, and ids inside details.
    let by_id = app
        .get(&format!("/api/audit?id={short}&order=newest"), root)
        .await
        .expect(200);
    let actions: Vec<&str> = by_id["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["websh.closed", "websh.opened"]);
    let upper = app
        .get(&format!("/api/audit?id={}", short.to_uppercase()), root)
        .await
        .expect(200);
    assert_eq!(upper["total"], 2);
    // An id only inside the details (no target) is found too, by its start only.
    let job = Uuid::new_v4();
    audit::record_event(
        &app.state,
        audit::event(AuditAction::ExecStarted, SUCCESS)
            .actor("mia")
            .details(serde_json::json!({ "job": job, "command": "uptime" })),
    )
    .await
    .unwrap();
    let in_details = app
        .get(&format!("/api/audit?id={}", &job.to_string()[..8]), root)
        .await
        .expect(200);
    assert_eq!(in_details["total"], 1);
    assert_eq!(in_details["items"][0]["action"], "exec.started");
    let middle = app
        .get(&format!("/api/audit?id={}", &job.to_string()[2..10]), root)
        .await
        .expect(200);
    assert_eq!(middle["total"], 0, "an id matches from its start only");
    // A session's short id finds its transitions (by the work_session column and target).
    let session = app
        .get(
            &format!(
                "/api/audit?id={}&action=work_session.*",
                &w.bob_session[..8]
            ),
            root,
        )
        .await
        .expect(200);
    assert_eq!(session["total"], 1);
    assert_eq!(session["items"][0]["action"], "work_session.requested");

    // Free text over actor, action, target and details, any case.
    let text = app
        .get("/api/audit?q=BOB&order=newest", root)
        .await
        .expect(200);
    assert!(text["total"].as_i64().unwrap() >= 2);
    for e in text["items"].as_array().unwrap() {
        assert!(e.to_string().to_lowercase().contains("bob"), "{e}");
    }
    let none = app
        .get("/api/audit?q=no-such-words", root)
        .await
        .expect(200);
    assert_eq!(none["total"], 0);

    // Newest first pages backwards without gaps or repeats; oldest first stays the default.
    let all = app.get("/api/audit?limit=500", root).await.expect(200);
    let mut chain: Vec<i64> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert!(chain.windows(2).all(|p| p[0] < p[1]));
    chain.reverse();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/audit?order=newest&limit=3&cursor={c}"),
            None => "/api/audit?order=newest&limit=3".to_owned(),
        };
        let page = app.get(&path, root).await.expect(200);
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["seq"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, chain);
    // The export stays in chain order even when asked newest first.
    let lines = app.get("/api/audit?format=jsonl&order=newest", root).await;
    let first: Value = serde_json::from_str(lines.text.lines().next().unwrap()).unwrap();
    assert_eq!(first["seq"], 1);
    app.get("/api/audit/verify", root).await.expect(200);

    // Bad input.
    for (query, field) in [
        ("id=xyz12345", "id"),
        ("id=abc", "id"),
        ("order=sideways", "order"),
        (&format!("q={}", "y".repeat(201)), "q"),
    ] {
        let body = app
            .get(&format!("/api/audit?{query}"), root)
            .await
            .expect_error(400, "validation_error");
        assert_eq!(body["fields"][0]["field"], field, "{query}: {body}");
    }
    // Members may not search the log at all.
    app.get(&format!("/api/audit?id={short}"), &w.mia)
        .await
        .expect_error(403, "forbidden");
}
