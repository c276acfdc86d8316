//! The console's terminal in headless Chromium: keystroke to rendered echo, a flood of output
//! rendered, and how soon Ctrl-C stops one.
//!
//! One server serving the built console, one agent, superuser `ops` signed in, a websh tab on
//! the agent's shell (`/bin/sh` in cooked mode under root, so the echo is the kernel's). All
//! times are read in the page as `performance.now()`: the input event's own time stamp
//! (`KeyboardEvent.timeStamp`, when the browser created it, so a busy page cannot hide its
//! delay) to the mutation of xterm.js's rows (DOM renderer) that shows the result. WebDriver's
//! own round trip stays out of every figure.
//!
//! - **Echo**: `BENCH_KEYS` (default 300) single keystrokes, twice: each sent once the previous
//!   one is on screen and the frame that drew it is out, then at a typist's pace, each
//!   `BENCH_KEY_GAP_MS` (default 100) after that; p50/p99/max, and where the time goes inside the
//!   page (event to listener, to the socket's send, to the first message back, to the rows drawn). Then the same bytes
//!   sent from a timer, with no key event around them: the socket's own round trip. The two
//!   differ because Chromium holds a page's other tasks (socket messages among them) after a
//!   key event until its next frame, and xterm.js draws on the frame after that.
//! - **Flood**: `yes | head -c BENCH_FLOOD_MIB MiB` (default 100) rendered to the end marker;
//!   MiB/s, the longest gap between animation frames, the longest task (`longtask` entries).
//! - **Ctrl-C**: `yes` running for a second, then Ctrl-C, `BENCH_STOPS` (default 5) times: the
//!   time until the shell's prompt is back on screen (all of `yes`'s output before it drawn).
//!
//! Run: `scripts/bench-console.sh` (builds first), or `cargo bench -p gatehouse-e2e --bench
//! console_terminal` after `scripts/build-console.sh` and a release build of the binaries.

use fantoccini::elements::Element;
use fantoccini::key::Key;
use gatehouse_e2e::bench::env_num;
use gatehouse_e2e::browser::{console_server, Browser, Driver};
use gatehouse_e2e::{create_user, eventually, wait_connected, Agent, Api, PASSWORD};
use serde_json::{json, Value};
use std::time::Duration;

/// In-page instruments, installed once the terminal is open. `window.__bench` holds what they
/// note; `mode` says which measure is running.
const INSTRUMENTS: &str = r#"
const rows = document.querySelector('.xterm-rows');
const b = window.__bench = {
    mode: 'idle', echo: [], pending: null, gap: 0, marker: null, startAt: null, doneAt: null,
    enterAt: null, mutations: 0, ctrlcAt: null, promptAt: null, maxGap: 0, longestTask: 0, framing: false,
};
b.rows = rows;
const countQ = () => { let n = 0; for (const c of rows.textContent) if (c === 'q') n++; return n; };
const lastRow = () => {
    const texts = Array.from(rows.children, r => r.textContent.trimEnd()).filter(t => t.length);
    return texts.length ? texts[texts.length - 1] : '';
};
document.addEventListener('keydown', e => {
    const t = Math.min(e.timeStamp || performance.now(), performance.now());
    if (b.mode === 'echo' && e.key === 'q') {
        b.pending = { t, dispatchAt: performance.now(), n: countQ() + 1 };
    }
    if (b.mode === 'flood' && e.key === 'Enter') b.startAt = t;
    if (b.mode === 'stop' && e.key === 'Enter') b.enterAt = t;
    if (b.mode === 'stop' && e.key === 'c' && e.ctrlKey) {
        b.ctrlcAt = t;
        b.ctrlcSeen = [e.target.className, b.ws && b.ws.readyState, b.ws && b.ws.bufferedAmount];
        b.sends = [];
    }
}, true);
new MutationObserver(() => {
    const t = performance.now();
    if (b.mode === 'echo' && b.pending && countQ() >= b.pending.n) {
        const p = b.pending;
        b.echo.push([t - p.t, p.dispatchAt - p.t, (p.sendAt ?? t) - p.dispatchAt,
                     (p.messageAt ?? t) - (p.sendAt ?? t), t - (p.messageAt ?? t)]);
        b.pending = null;
        // The next key comes once the frame showing this echo is out, never in the middle of
        // that frame; with a gap set, that long after it, as a typist's next key does.
        b.settled = false;
        requestAnimationFrame(() => requestAnimationFrame(() => {
            if (b.gap > 0) setTimeout(() => { b.settled = true; }, b.gap); else b.settled = true;
        }));
    } else if (b.mode === 'flood' && !b.doneAt && rows.textContent.includes(b.marker)) {
        b.doneAt = t;
    } else if (b.mode === 'stop') {
        if (b.enterAt) b.mutations++;
        if (b.ctrlcAt && !b.promptAt && /[$#]$/.test(lastRow())) b.promptAt = t;
    }
}).observe(rows, { childList: true, subtree: true, characterData: true });
// The hops of one keystroke inside the page: the terminal socket's first send after the key,
// and its first message after that.
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
    const p = b.pending;
    if (data instanceof Uint8Array || data instanceof ArrayBuffer) {
        if (b.ws !== this) this.addEventListener('close', e => (b.closes = b.closes || []).push(e.code));
        b.ws = this;
    }
    if (b.sends && b.sends.length < 20) {
        b.sends.push([this === b.ws, this.readyState, typeof data === 'string' ? data.slice(0, 40) : Array.from((data instanceof Uint8Array ? data : new Uint8Array(data)).slice(0, 8))]);
    }
    if (p && p.sendAt === undefined) {
        p.sendAt = performance.now();
        if (!this.__benchHeard) {
            this.__benchHeard = true;
            this.addEventListener('message', () => {
                const q = b.pending;
                if (q && q.sendAt !== undefined && q.messageAt === undefined) {
                    q.messageAt = performance.now();
                }
            });
        }
    }
    return send.call(this, data);
};
// The same bytes sent from a timer, with no key event around them: the socket's own round trip
// (gateway, agent, shell), free of the browser's input-time scheduling.
b.probe = rounds => {
    b.trips = [];
    let sentAt = null;
    b.ws.addEventListener('message', () => {
        if (sentAt !== null) { b.trips.push(performance.now() - sentAt); sentAt = null; }
    });
    const next = () => {
        if (b.trips.length >= rounds) return;
        sentAt = performance.now();
        b.ws.send(new Uint8Array([113]));
        setTimeout(next, 25);
    };
    next();
};
const frame = (() => {
    let last = null;
    const tick = now => {
        if (!b.framing) { last = null; return; }
        if (last !== null) b.maxGap = Math.max(b.maxGap, now - last);
        last = now;
        requestAnimationFrame(tick);
    };
    return () => { b.framing = true; b.maxGap = 0; requestAnimationFrame(tick); };
})();
b.startFrames = frame;
try {
    new PerformanceObserver(list => {
        for (const e of list.getEntries()) b.longestTask = Math.max(b.longestTask, e.duration);
    }).observe({ type: 'longtask' });
} catch (_) { b.longestTask = -1; }
"#;

/// Waits (polling in the page) until `expr` is truthy, then returns its value.
async fn wait_js(browser: &Browser, what: &str, limit: Duration, expr: &str) -> Value {
    let script = format!("return {expr};");
    eventually(what, limit, || async {
        let v = browser.js(&script, vec![]).await;
        (!v.is_null() && v != Value::Bool(false)).then_some(v)
    })
    .await
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// `keys` keystrokes, each once the previous echo's frame is out and `gap_ms` after it.
async fn echo(browser: &Browser, textarea: &Element, keys: usize, gap_ms: u64) {
    browser
        .js(
            &format!("const b = window.__bench; b.mode = 'echo'; b.echo = []; b.gap = {gap_ms};"),
            vec![],
        )
        .await;
    for i in 0..keys {
        // A line of 50, then erased (Ctrl-U), so the cooked line never wraps or fills.
        if i > 0 && i % 50 == 0 {
            textarea
                .send_keys(&format!("{}u", char::from(Key::Control)))
                .await
                .expect("Ctrl-U");
            eventually("the line erased", Duration::from_secs(10), || async {
                let v = browser
                    .js(
                        "return document.querySelector('.xterm-rows').textContent.includes('q');",
                        vec![],
                    )
                    .await;
                (v == Value::Bool(false)).then_some(())
            })
            .await;
        }
        textarea.send_keys("q").await.expect("a keystroke");
        let expr = format!(
            "window.__bench.echo.length >= {} && window.__bench.settled",
            i + 1
        );
        wait_js(
            browser,
            "the echo on screen",
            Duration::from_secs(10),
            &expr,
        )
        .await;
    }
    textarea
        .send_keys(&format!("{}u", char::from(Key::Control)))
        .await
        .expect("Ctrl-U");
    let echo = browser.js("return window.__bench.echo;", vec![]).await;
    let samples: Vec<[f64; 5]> = serde_json::from_value(echo).expect("echo times");
    let column = |i: usize| {
        let mut ms: Vec<f64> = samples.iter().map(|s| s[i]).collect();
        ms.sort_by(f64::total_cmp);
        ms
    };
    let ms = column(0);
    let cadence = match gap_ms {
        0 => "each two frames after the last echo".to_owned(),
        gap => format!("each {gap} ms after the last echo"),
    };
    println!(
        "keystroke → rendered echo ({} keys, {cadence}): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms.len(),
        percentile(&ms, 0.5),
        percentile(&ms, 0.9),
        percentile(&ms, 0.99),
        ms[ms.len() - 1]
    );
    let hops = [
        "event created → its listener",
        "listener → socket send",
        "send → first message back",
        "message → rows drawn",
    ];
    for (i, hop) in hops.iter().enumerate() {
        let ms = column(i + 1);
        println!(
            "  {hop}: p50 {:.2} ms, p99 {:.2} ms",
            percentile(&ms, 0.5),
            percentile(&ms, 0.99)
        );
    }
    probe(browser, keys.min(100)).await;
    textarea
        .send_keys(&format!("{}u", char::from(Key::Control)))
        .await
        .expect("Ctrl-U");
}

/// The terminal socket's round trip with no key event around it (bytes sent from a timer).
async fn probe(browser: &Browser, rounds: usize) {
    browser
        .js(&format!("window.__bench.probe({rounds});"), vec![])
        .await;
    let expr = format!("window.__bench.trips.length >= {rounds} && window.__bench.trips");
    let trips = wait_js(browser, "the socket probe", Duration::from_secs(30), &expr).await;
    let mut ms: Vec<f64> = serde_json::from_value(trips).expect("round trips");
    ms.sort_by(f64::total_cmp);
    println!(
        "socket round trip from a timer, no key event ({rounds}): p50 {:.2} ms, p99 {:.2} ms",
        percentile(&ms, 0.5),
        percentile(&ms, 0.99)
    );
}

async fn flood(browser: &Browser, textarea: &Element, mib: u64) {
    browser
        .js(
            "const b = window.__bench; b.mode = 'flood'; b.marker = 'flood-42-done';\
             b.startAt = null; b.doneAt = null; b.longestTask = 0; b.startFrames();",
            vec![],
        )
        .await;
    let command = format!(
        "yes | head -c {}; echo flood-$((40+2))-done{}",
        mib << 20,
        char::from(Key::Enter)
    );
    textarea
        .send_keys(&command)
        .await
        .expect("the flood command");
    let limit = Duration::from_secs(60 + mib * 3);
    let at = wait_js(
        browser,
        "the flood's end marker",
        limit,
        "window.__bench.doneAt && [window.__bench.startAt, window.__bench.doneAt, \
         window.__bench.maxGap, window.__bench.longestTask]",
    )
    .await;
    browser.js("window.__bench.framing = false;", vec![]).await;
    let f = |i: usize| at[i].as_f64().expect("a number");
    let secs = (f(1) - f(0)) / 1000.0;
    println!(
        "yes | head -c {mib} MiB rendered: {secs:.2} s, {:.1} MiB/s; longest frame gap {:.0} ms, \
         longest task {:.0} ms",
        mib as f64 / secs,
        f(2),
        f(3)
    );
    browser.wait_terminal_prompt().await;
}

async fn stops(browser: &Browser, textarea: &Element, rounds: u64) {
    let mut ms = Vec::new();
    let mut gaps = Vec::new();
    for round in 0..rounds {
        browser
            .js(
                "const b = window.__bench; b.mode = 'stop'; b.enterAt = null; \
                 b.mutations = 0; b.ctrlcAt = null; b.promptAt = null; b.startFrames();",
                vec![],
            )
            .await;
        textarea
            .send_keys(&format!("yes{}", char::from(Key::Enter)))
            .await
            .expect("yes");
        // Flooding for a second before the Ctrl-C, so every buffer on the way is full.
        wait_js(
            browser,
            "yes flooding for a second",
            Duration::from_secs(30),
            "window.__bench.enterAt && window.__bench.mutations > 10 && \
             performance.now() - window.__bench.enterAt > 1000",
        )
        .await;
        textarea
            .send_keys(&format!("{}c", char::from(Key::Control)))
            .await
            .expect("Ctrl-C");
        let expr = "window.__bench.promptAt && [window.__bench.ctrlcAt, window.__bench.promptAt, \
                    window.__bench.maxGap]";
        let waited = tokio::time::timeout(
            Duration::from_secs(60),
            wait_js(browser, "the prompt", Duration::from_secs(61), expr),
        )
        .await;
        let Ok(at) = waited else {
            let state = browser
                .js("const b = window.__bench; return [b.mode, b.enterAt, b.mutations, b.ctrlcAt, b.promptAt, b.rows.isConnected, b.rows === document.querySelector('.xterm-rows'), b.ctrlcSeen, b.sends, b.closes, document.activeElement && document.activeElement.className];", vec![])
                .await;
            panic!(
                "no prompt within 60 s of Ctrl-C: {state}; screen: {:?}",
                browser.terminal_lines().await
            );
        };
        browser.js("window.__bench.framing = false;", vec![]).await;
        let stop = at[1].as_f64().expect("promptAt") - at[0].as_f64().expect("ctrlcAt");
        println!(
            "  round {}: prompt back {stop:.0} ms after Ctrl-C",
            round + 1
        );
        ms.push(stop);
        gaps.push(at[2].as_f64().expect("gap"));
    }
    ms.sort_by(f64::total_cmp);
    gaps.sort_by(f64::total_cmp);
    println!(
        "yes, then Ctrl-C ({rounds} rounds): prompt back p50 {:.0} ms, max {:.0} ms; longest \
         frame gap while flooding {:.0} ms",
        percentile(&ms, 0.5),
        ms[ms.len() - 1],
        gaps[gaps.len() - 1]
    );
}

#[tokio::main]
async fn main() {
    let keys = env_num("BENCH_KEYS", 300).max(1) as usize;
    let mib = env_num("BENCH_FLOOD_MIB", 100).max(1);
    let rounds = env_num("BENCH_STOPS", 5).max(1);
    let gap_ms = env_num("BENCH_KEY_GAP_MS", 100);

    let dir = tempfile::tempdir().expect("tempdir");
    create_user(dir.path(), "ops", "superuser");
    let server = console_server(dir.path());
    let api = Api::login(&server.base, "ops").await;
    let reg = api
        .post("/api/servers/registration-tokens", json!({"max_uses": 1}))
        .await;
    let token = reg["token"].as_str().expect("token");
    let _agent = Agent::register_and_run(&server.base, token, "web-01", dir.path());
    wait_connected(&api, "web-01", true).await;
    // A superuser's own request is approved at once.
    let session = api
        .post(
            "/api/work-sessions",
            json!({"purpose": "console terminal bench", "scopes": ["websh"],
                   "servers": ["web-01"], "duration_secs": 3600}),
        )
        .await;
    let id = session["id"].as_str().expect("id").to_owned();
    api.post(&format!("/api/work-sessions/{id}/activate"), json!({}))
        .await;

    let driver = Driver::start().await;
    let browser = driver.browser(&server.base).await;
    browser.sign_in("ops", PASSWORD).await;
    browser
        .goto(&format!("/websh?server=web-01&session={id}"))
        .await;
    browser
        .wait_for("[data-testid=terminal][data-state=open]")
        .await;
    browser.wait_terminal_prompt().await;
    browser.js(INSTRUMENTS, vec![]).await;
    browser.click(".xterm").await;
    let textarea = browser.wait_for(".xterm-helper-textarea").await;

    println!("websh in headless Chromium (xterm.js DOM renderer), loopback:");
    echo(&browser, &textarea, keys, 0).await;
    echo(&browser, &textarea, keys, gap_ms).await;
    flood(&browser, &textarea, mib).await;
    stops(&browser, &textarea, rounds).await;
}
