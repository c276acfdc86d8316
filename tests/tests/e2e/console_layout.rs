//! The console at phone width (390 px): no page scrolls sideways, the navigation folds behind a
//! Menu button, and a terminal has an on-screen key row (Esc, Ctrl, Tab, arrows) whose keys
//! reach the shell. And terminal text is exact: an underscore is drawn inside its row, at the
//! default font size, after the A−/A+ control changed it, and in the dark theme.

use crate::console::Console;
use crate::session_request;
use fantoccini::key::Key;
use gatehouse_e2e::browser::{run_ui_test, Browser, Driver};
use gatehouse_e2e::{eventually, Api};
use gatehouse_shared::work_session::CreateWorkSession;
use serde_json::{json, Value};
use std::time::Duration;

const PHONE: (u32, u32) = (390, 844);

/// Makes the page's viewport a phone's, as Chromium's device emulation does (not `mobile`,
/// which would let the layout viewport grow to fit a too-wide page and hide the overflow).
pub(crate) async fn phone(driver: &Driver, browser: &Browser) {
    driver
        .cdp(
            browser,
            "Emulation.setDeviceMetricsOverride",
            json!({"width": PHONE.0, "height": PHONE.1, "deviceScaleFactor": 1, "mobile": false}),
        )
        .await;
}

/// Fails when the page is wider than the window (something scrolls sideways).
pub(crate) async fn assert_no_sideways_scroll(browser: &Browser, page: &str) {
    let sizes = browser
        .js(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await;
    let (scroll, inner) = (sizes[0].as_u64(), sizes[1].as_u64());
    assert_eq!(inner, Some(u64::from(PHONE.0)), "{page}: the viewport");
    assert!(
        scroll <= inner,
        "{page} scrolls sideways: {scroll:?} px of content in {inner:?} px"
    );
}

#[tokio::test]
async fn console_layout_fits_a_phone_and_its_terminal_has_a_key_row() {
    let cx = Console::start(&[("mia", "member")], &["web-01"]).await;
    cx.grant("mia", "web-01").await;
    // Something in every list: the superuser's active session, a member's waiting request (the
    // approvals queue) and, with them, audit events.
    let long = "rotate the TLS certificates on every front-end after the CA change, see \
                https://wiki.example.com/ops/runbooks/tls-rotation-with-a-very-long-path";
    let id = cx.session(long, &["websh"], &["web-01"]).await.id;
    cx.activate(id).await;
    let mia = Api::login(&cx.server.base, "mia").await;
    mia.client
        .create_work_session(&CreateWorkSession {
            purpose: long.to_owned(),
            ..session_request(&["websh"], &["web-01"])
        })
        .await
        .expect("a waiting request");

    let ops = cx.signed_in("ops").await;
    run_ui_test(
        "console_layout_fits_a_phone_and_its_terminal_has_a_key_row",
        &cx.driver,
        async {
            phone(&cx.driver, &ops).await;
            ops.goto("/sessions").await;
            ops.wait_for("[data-testid=session-row]").await;
            assert_no_sideways_scroll(&ops, "/sessions").await;
            ops.doc_screenshot("phone-sessions.png").await;
            ops.goto("/approvals").await;
            ops.wait_for("[data-testid=approval-card]").await;
            assert_no_sideways_scroll(&ops, "/approvals").await;
            ops.goto("/audit").await;
            ops.wait_for(".audit-table tbody tr").await;
            assert_no_sideways_scroll(&ops, "/audit").await;

            // The navigation is folded; the Menu button opens it and a link closes it again.
            let nav_shown =
                "return getComputedStyle(document.querySelector('#main-nav')).display !== 'none';";
            assert_eq!(ops.js(nav_shown, vec![]).await, false, "nav folded");
            ops.click("[data-testid=menu-button]").await;
            assert_eq!(ops.js(nav_shown, vec![]).await, true, "nav opened");
            ops.click("#main-nav a[href='/servers']").await;
            ops.wait_path("/servers").await;
            eventually("the menu to fold", Duration::from_secs(5), || async {
                (ops.js(nav_shown, vec![]).await == false).then_some(())
            })
            .await;
            assert_no_sideways_scroll(&ops, "/servers").await;

            // A terminal: the key row is shown, and its keys go through the shell's input.
            ops.goto(&format!("/websh?server=web-01&session={id}"))
                .await;
            ops.wait_for("[data-testid=terminal][data-state=open]")
                .await;
            assert_no_sideways_scroll(&ops, "/websh").await;
            let enter = char::from(Key::Enter);
            ops.type_in_terminal(&format!("cat -A{enter}")).await;
            // Esc, ←, Tab, then Enter: `cat -A` shows exactly the bytes the shell received.
            ops.click("[data-testid=key-esc]").await;
            ops.click("[data-testid=key-left]").await;
            ops.click("[data-testid=key-tab]").await;
            ops.type_in_terminal(&enter.to_string()).await;
            ops.wait_terminal_line("^[^[[D^I$").await;
            // Ctrl is sticky for one key: Ctrl then c interrupts `cat`, and the shell runs
            // the next command (typed into `cat`, it would only be echoed back).
            ops.click("[data-testid=key-ctrl]").await;
            assert_eq!(
                ops.attrs("[data-testid=key-ctrl]", "aria-pressed").await,
                ["true"]
            );
            ops.type_in_terminal("c").await;
            ops.type_in_terminal(&format!("echo done_$((40+2)){enter}"))
                .await;
            ops.wait_terminal_line("done_42").await;
            ops.doc_screenshot("phone-terminal.png").await;
            assert_eq!(
                ops.attrs("[data-testid=key-ctrl]", "aria-pressed").await,
                ["false"],
                "Ctrl is released after one key"
            );

            // The Share panel opens over the bottom of the screen: the terminal keeps its size.
            let host_height =
                "return document.querySelector('.terminal-host').getBoundingClientRect().height;";
            let before = ops.js(host_height, vec![]).await.as_f64().expect("height");
            assert!(
                before > f64::from(PHONE.1) / 2.0,
                "the terminal takes most of the screen: {before} px"
            );
            ops.click("[data-testid=share-button]").await;
            ops.wait_for("#share-panel").await;
            let after = ops.js(host_height, vec![]).await.as_f64().expect("height");
            assert!(
                (after - before).abs() < 1.0,
                "the Share panel shrank the terminal from {before} to {after} px"
            );
            assert_no_sideways_scroll(&ops, "/websh with the Share panel").await;
            ops.doc_screenshot("phone-terminal-share.png").await;
        },
    )
    .await;
}

/// Where the underscore of the row showing exactly `a_b_c` is, and its row's box (CSS pixels).
const UNDERSCORE_BOX: &str = r#"
const row = Array.from(document.querySelectorAll('.xterm-rows > div'))
  .find(r => r.textContent.trim() === 'a_b_c');
if (!row) return null;
const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
let node;
while ((node = walker.nextNode())) {
  const i = node.data.indexOf('_');
  if (i < 0) continue;
  const range = document.createRange();
  range.setStart(node, i);
  range.setEnd(node, i + 1);
  const c = range.getBoundingClientRect(), r = row.getBoundingClientRect();
  return {left: c.left, right: c.right, top: r.top, bottom: r.bottom, rowRight: r.right,
          dpr: window.devicePixelRatio, fontSize: parseFloat(getComputedStyle(row).fontSize)};
}
return null;
"#;

/// Counts, in the PNG `arguments[0]` (a data: URL), the pixels of the box `arguments[1]`
/// (device pixels) that differ clearly from the colour at `arguments[2]` (the background).
const INK_PIXELS: &str = r#"
const [url, box, bgAt, done] = arguments;
const img = new Image();
img.onload = () => {
  const c = document.createElement('canvas');
  c.width = img.width; c.height = img.height;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const bg = g.getImageData(bgAt[0], bgAt[1], 1, 1).data;
  const d = g.getImageData(box.x, box.y, box.w, box.h).data;
  let ink = 0;
  for (let p = 0; p < d.length; p += 4) {
    const diff = Math.abs(d[p] - bg[0]) + Math.abs(d[p + 1] - bg[1]) + Math.abs(d[p + 2] - bg[2]);
    if (diff > 120) ink++;
  }
  done(ink);
};
img.onerror = () => done(-1);
img.src = url;
"#;

/// How many clearly drawn pixels the lower half of the underscore's cell holds, within its row
/// (what the screen shows: a clipped underscore has none there).
async fn underscore_ink(browser: &Browser) -> (i64, f64) {
    let at = eventually(
        "the row `a_b_c` on screen",
        Duration::from_secs(10),
        || async {
            let v = browser.js(UNDERSCORE_BOX, vec![]).await;
            (!v.is_null()).then_some(v)
        },
    )
    .await;
    let f = |k: &str| at[k].as_f64().unwrap_or_else(|| panic!("{k} in {at}"));
    let dpr = f("dpr");
    let (left, right, top, bottom) = (f("left"), f("right"), f("top"), f("bottom"));
    let mid = (top + bottom) / 2.0;
    let device = |v: f64| (v * dpr).round() as i64;
    let region = json!({
        "x": device(left), "y": device(mid),
        "w": (device(right) - device(left)).max(1),
        "h": (device(bottom) - device(mid)).max(1),
    });
    let background = json!([device(f("rowRight")) - 3, device(mid)]);
    let png = browser.client.screenshot().await.expect("screenshot");
    let url = format!(
        "data:image/png;base64,{}",
        data_encoding::BASE64.encode(&png)
    );
    let ink: Value = browser
        .client
        .execute_async(INK_PIXELS, vec![json!(url), region, background])
        .await
        .expect("decode the screenshot");
    let ink = ink.as_i64().expect("a count");
    assert!(ink >= 0, "the screenshot did not decode");
    (ink, f("fontSize"))
}

/// Steps the A−/A+ control until it shows `size`.
async fn set_font_size(browser: &Browser, size: f64) {
    eventually(
        &format!("the font size {size}"),
        Duration::from_secs(10),
        || async {
            let now: f64 = browser.text("[data-testid=font-size]").await.parse().ok()?;
            if (now - size).abs() < 0.5 {
                return Some(());
            }
            let button = if now > size {
                "font-smaller"
            } else {
                "font-larger"
            };
            browser.click(&format!("[data-testid={button}]")).await;
            None
        },
    )
    .await;
}

#[tokio::test]
async fn console_terminal_draws_underscores_at_every_font_size_and_theme() {
    let cx = Console::start(&[], &["web-01"]).await;
    let id = cx.session("underscores", &["websh"], &["web-01"]).await.id;
    cx.activate(id).await;
    let ops = cx.signed_in("ops").await;
    run_ui_test(
        "console_terminal_draws_underscores_at_every_font_size_and_theme",
        &cx.driver,
        async {
            ops.goto(&format!("/websh?server=web-01&session={id}"))
                .await;
            ops.wait_for("[data-testid=terminal][data-state=open]").await;
            ops.type_in_terminal(&format!("echo a_b_c{}", char::from(Key::Enter)))
                .await;
            ops.wait_terminal_line("a_b_c").await;
            assert_eq!(ops.text("[data-testid=font-size]").await, "14");

            // The default size, then the smallest and the largest the control offers.
            for size in [14.0, 10.0, 28.0] {
                set_font_size(&ops, size).await;
                // The terminal took the size (xterm re-renders its rows in it).
                let ink = eventually(
                    &format!("the terminal's rows at {size}px"),
                    Duration::from_secs(10),
                    || async {
                        let (ink, drawn) = underscore_ink(&ops).await;
                        ((drawn - size).abs() < 0.5).then_some(ink)
                    },
                )
                .await;
                // An underscore is a line about half a cell wide or more, a pixel thick or more.
                let least = (size * 0.6 * 0.5).floor() as i64;
                assert!(
                    ink >= least,
                    "at {size}px the underscore's row shows {ink} drawn pixels in the lower \
                     half of its cell (want at least {least}): clipped?"
                );
            }

            // The dark theme: the page and the open terminal take its colours, and the
            // underscore is still drawn (light on dark).
            let colours = "return [getComputedStyle(document.body).backgroundColor,\
                 getComputedStyle(document.querySelector('.xterm-rows')).color,\
                 document.documentElement.getAttribute('data-theme')];";
            let light = ops.js(colours, vec![]).await;
            assert_eq!(light[2], Value::Null, "System by default");
            ops.select("[data-testid=theme-switch]", "dark").await;
            let dark = eventually("the terminal in dark colours", Duration::from_secs(10), || async {
                let now = ops.js(colours, vec![]).await;
                (now[1] != light[1]).then_some(now)
            })
            .await;
            assert_eq!(dark[0], "rgb(15, 20, 25)", "the page's dark background");
            assert_eq!(dark[1], "rgb(230, 233, 236)", "the terminal's dark foreground");
            assert_eq!(dark[2], "dark");
            let (ink, _) = underscore_ink(&ops).await;
            assert!(ink >= 8, "the underscore on dark shows {ink} pixels");

            // The check sees a clipped underscore: cut the row's lower quarter off and the
            // pixels are gone.
            ops.js(
                "Array.from(document.querySelectorAll('.xterm-rows > div'))\
                   .find(r => r.textContent.trim() === 'a_b_c').style.clipPath = 'inset(0 0 30% 0)';",
                vec![],
            )
            .await;
            let (ink, _) = underscore_ink(&ops).await;
            assert_eq!(ink, 0, "a clipped underscore must show no pixels");

            // The size is remembered by this browser.
            ops.goto("/websh").await;
            ops.wait_text("[data-testid=font-size]", "28").await;
            // And so is the theme, applied by index.html before the app starts.
            assert_eq!(
                ops.js("return document.documentElement.getAttribute('data-theme');", vec![])
                    .await,
                "dark"
            );
            assert_eq!(
                ops.js("return document.querySelector('[data-testid=theme-switch]').value;", vec![])
                    .await,
                "dark"
            );
            // The inline script that applies it is allowed by the page's policy (pinned by hash).
            let log = cx.driver.console_log(&ops).await.expect("the console log");
            assert!(
                !log.iter().any(|l| l.contains("Content Security Policy")),
                "{log:?}"
            );
        },
    )
    .await;
}
