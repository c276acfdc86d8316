//! The built console is served at `/` with client-side routing fallback; API paths never are.

mod common;

use common::{Caller, TestApp};
use gatehouse::config::Config;

#[tokio::test]
async fn console_routes_fall_back_to_index_and_api_paths_stay_json() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>Gatehouse</title>",
    )
    .unwrap();
    std::fs::write(dist.path().join("app.js"), "console.log(1)").unwrap();
    let app = TestApp::with_config(Config {
        console_dir: Some(dist.path().to_owned()),
        ..Config::default()
    })
    .await;
    let anon = Caller::default();
    for path in ["/", "/work-sessions", "/work-sessions/123/timeline"] {
        let r = app.get(path, &anon).await;
        assert_eq!(r.status.as_u16(), 200, "{path}");
        assert!(r.text.contains("<title>Gatehouse</title>"), "{path}");
        assert_eq!(r.headers["x-frame-options"], "DENY");
    }
    let js = app.get("/app.js", &anon).await;
    assert_eq!(js.text, "console.log(1)");
    app.get("/api/definitely-not", &anon)
        .await
        .expect_error(404, "not_found");
}
