//! Console render time: 1,000 work sessions on `/sessions` in headless Chromium.
//!
//! Seeds `BENCH_SESSIONS` (default 1000) work sessions through the API, signs in once, then
//! navigates to `/sessions?status=all&limit=<n>` `BENCH_RUNS` (default 5) times and reports the
//! time from navigation start until `n` `[data-testid=session-row]` elements exist, read as
//! `performance.now()` in the page. A mutation observer installed before any page script runs
//! notes the moment, so the figure does not depend on when WebDriver gets to look. "Cold"
//! clears the browser's HTTP cache before each navigation (wasm downloaded and compiled again);
//! "warm" keeps it, as for someone returning to the console.
//!
//! Run: `scripts/bench-console.sh` (builds the console first), or
//! `cargo bench -p gatehouse-e2e --bench console` after `scripts/build-console.sh` and a
//! release build of the binaries.

use futures_util::StreamExt;
use gatehouse_e2e::browser::{console_server, Browser, Driver};
use gatehouse_e2e::{create_user, Api, PASSWORD};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ROW: &str = "[data-testid=session-row]";
const SERVERS: [&str; 5] = ["web-01", "web-02", "db-01", "db-02", "cache-01"];
const PURPOSES: [&str; 6] = [
    "deploy release",
    "rotate TLS keys",
    "investigate latency",
    "restart nginx",
    "database migration",
    "patch kernel",
];
const SCOPES: [&[&str]; 3] = [&["websh"], &["websh", "command"], &["webftp", "editor"]];

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Installed into every new document: notes when the first row and when `n` rows exist.
fn observer_script(n: usize) -> String {
    format!(
        "(() => {{
            const css = {css}, n = {n};
            const observer = new MutationObserver(() => {{
                const count = document.querySelectorAll(css).length;
                if (count > 0 && window.__benchFirstRowAt === undefined) {{
                    window.__benchFirstRowAt = performance.now();
                }}
                if (count >= n) {{
                    window.__benchRowsAt = performance.now();
                    observer.disconnect();
                }}
            }});
            observer.observe(document, {{childList: true, subtree: true}});
        }})();",
        css = json!(ROW),
    )
}

/// One navigation: (ms to the first row, ms to all `n` rows), both since navigation start.
async fn measure(browser: &Browser, path: &str, n: usize) -> (f64, f64) {
    browser.goto(path).await;
    let what = format!("{n} rows on {path}");
    gatehouse_e2e::eventually(&what, Duration::from_secs(120), || async {
        let at = browser
            .js(
                "return [window.__benchFirstRowAt ?? null, window.__benchRowsAt ?? null];",
                vec![],
            )
            .await;
        Some((at[0].as_f64()?, at[1].as_f64()?))
    })
    .await
}

fn summary(label: &str, mut values: Vec<f64>) {
    values.sort_by(f64::total_cmp);
    let p50 = values[values.len() / 2];
    println!(
        "{label}: min {:.0} ms, p50 {p50:.0} ms, max {:.0} ms ({} runs)",
        values[0],
        values[values.len() - 1],
        values.len()
    );
}

#[tokio::main]
async fn main() {
    let total = env_num("BENCH_SESSIONS", 1000).clamp(1, 1000);
    let runs = env_num("BENCH_RUNS", 5).max(1);
    let dir = tempfile::tempdir().expect("tempdir");
    create_user(dir.path(), "ops", "superuser");
    let server = console_server(dir.path());
    let api = Api::login(&server.base, "ops").await;
    for name in SERVERS {
        api.post("/api/servers", json!({"name": name})).await;
    }

    // A superuser's own requests are approved at once: no decisions needed.
    let started = Instant::now();
    let created: Vec<Value> = futures_util::stream::iter(0..total)
        .map(|i| {
            let api = api.clone();
            async move {
                let servers: Vec<&str> = (0..1 + i % 3)
                    .map(|k| SERVERS[(i + k) % SERVERS.len()])
                    .collect();
                let body = json!({
                    "purpose": format!("{} #{i}", PURPOSES[i % PURPOSES.len()]),
                    "scopes": SCOPES[i % SCOPES.len()],
                    "servers": servers,
                    "duration_secs": 3600 + 60 * (i % 120),
                });
                let (status, value) = api
                    .call(reqwest::Method::POST, "/api/work-sessions", Some(body))
                    .await;
                assert_eq!(status, 201, "creating session {i}: {value}");
                value
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let listed = api.get("/api/work-sessions?status=all&limit=1").await;
    assert_eq!(listed["total"].as_u64(), Some(total as u64), "{listed}");
    println!(
        "seeded {} work sessions in {:.1} s",
        created.len(),
        started.elapsed().as_secs_f64()
    );

    let driver = Driver::start().await;
    let browser = driver.browser(&server.base).await;
    browser.sign_in("ops", PASSWORD).await;
    driver
        .cdp(
            &browser,
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": observer_script(total)}),
        )
        .await;
    let path = format!("/sessions?status=all&limit={total}");
    // One navigation first, so the server's and the browser's own first-use costs stay out.
    measure(&browser, &path, total).await;

    let mut cold = (Vec::new(), Vec::new());
    let mut warm = (Vec::new(), Vec::new());
    for _ in 0..runs {
        driver
            .cdp(&browser, "Network.clearBrowserCache", json!({}))
            .await;
        let (first, all) = measure(&browser, &path, total).await;
        cold.0.push(first);
        cold.1.push(all);
        let (first, all) = measure(&browser, &path, total).await;
        warm.0.push(first);
        warm.1.push(all);
    }
    println!("{path} in headless Chromium, time since navigation start:");
    summary(
        &format!("  cold (HTTP cache cleared), {total} rows"),
        cold.1,
    );
    summary("  cold, first row", cold.0);
    summary(&format!("  warm (HTTP cache kept), {total} rows"), warm.1);
    summary("  warm, first row", warm.0);
}
