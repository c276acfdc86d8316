//! xterm.js as the console uses it: one [`Screen`] per terminal, built on xterm-js-rs plus the
//! few xterm 6 calls that crate (written for 4.x) lacks.
//!
//! xterm-js-rs' `setOption`, `writeUtf8` and friends no longer exist in xterm 6 and throw, so
//! options go in at construction or through `term.options`, and bytes through
//! `write(Uint8Array, callback)`. Addons are cast with `unchecked_into`: `dyn_into` would import
//! a class the module does not export and break the whole page.

use js_sys::Uint8Array;
use std::any::Any;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;
use xterm_js_rs::addons::fit::FitAddon;
use xterm_js_rs::{Terminal, TerminalAddon, TerminalOptions, Theme};

#[wasm_bindgen(module = "xterm")]
extern "C" {
    /// Loads the real xterm.js behind the stand-in module (`frontend/xterm-lazy.mjs`).
    #[wasm_bindgen(js_name = loadXterm)]
    fn load_xterm() -> js_sys::Promise;
}

/// Loads xterm.js on first use; pages await this before opening a [`Screen`], which keeps the
/// terminal library out of the console's first download.
pub async fn load() -> Result<(), String> {
    wasm_bindgen_futures::JsFuture::from(load_xterm())
        .await
        .map(|_| ())
        .map_err(|e| format!("cannot load the terminal library: {e:?}"))
}

#[wasm_bindgen]
extern "C" {
    /// The same JS object as [`Terminal`], seen through xterm 6 signatures. Reached only through
    /// `unchecked_ref`, so nothing is imported for it.
    type Xterm6;

    /// `write(data: Uint8Array, callback)`: the callback runs once xterm has parsed the bytes.
    #[wasm_bindgen(method, js_name = write)]
    fn write_bytes(this: &Xterm6, data: &Uint8Array, callback: &JsValue);

    /// `write(data: string, callback)`.
    #[wasm_bindgen(method, js_name = write)]
    fn write_text_then(this: &Xterm6, data: &str, callback: &JsValue);

    /// `input(data, wasUserInput)`: `data` as if typed (through `onData`, like a keystroke).
    #[wasm_bindgen(method)]
    fn input(this: &Xterm6, data: &str, was_user_input: bool);

    /// `modes`: the terminal's current modes (e.g. `applicationCursorKeysMode`).
    #[wasm_bindgen(method, getter)]
    fn modes(this: &Xterm6) -> JsValue;

    /// `options`: assigning a field of it changes the live terminal.
    #[wasm_bindgen(method, getter)]
    fn options(this: &Xterm6) -> TerminalOptions;
}

/// One of the page's colour custom properties (`style/main.css`), so the terminal follows the
/// page's theme; `fallback` while the style sheet is missing.
fn page_colour(name: &str, fallback: &str) -> String {
    web_sys::window()
        .and_then(|w| {
            let root = w.document()?.document_element()?;
            w.get_computed_style(&root).ok().flatten()
        })
        .and_then(|style| style.get_property_value(name).ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| fallback.to_owned())
}

/// The console's colours, matching the page (so a terminal does not look like a hole in it).
fn theme() -> Theme {
    let theme = Theme::new();
    let background = page_colour("--term-bg", "#0b0f14");
    theme.set_background(&background);
    theme.set_foreground(&page_colour("--term-fg", "#e6e9ec"));
    theme.set_cursor(&page_colour("--accent", "#4fa3ff"));
    // The cursor's own cell shows the background colour over the cursor block.
    theme.set_cursor_accent(&background);
    theme
}

/// Rows are this many times the font size: room for descenders and underscores.
pub const LINE_HEIGHT: f64 = 1.2;

/// Options for a terminal; `size` fixes cols/rows (playback), `None` lets the fit addon decide.
pub fn options(size: Option<(u16, u16)>, read_only: bool) -> TerminalOptions {
    let options = TerminalOptions::new();
    // Fonts whose underscore sits inside the cell with this line height: the platforms' own
    // monospaced fonts first, then the ones Debian/Ubuntu install (DejaVu, Liberation).
    options.set_font_family(
        "ui-monospace, SFMono-Regular, Menlo, Consolas, \"DejaVu Sans Mono\", \"Liberation Mono\", monospace",
    );
    options.set_font_size(crate::prefs::stored_font_size());
    // 1.0 puts the underscore on the cell's last pixel row, where the next row's background
    // can cover it; the binding's setter takes only whole numbers.
    let _ = js_sys::Reflect::set(
        &options,
        &JsValue::from_str("lineHeight"),
        &JsValue::from_f64(LINE_HEIGHT),
    );
    options.set_scrollback(5000);
    // A steady cursor. A blinking one is redrawn on every keystroke, and Chromium then holds the
    // page's other tasks (the echo arriving on the socket among them) until that frame is
    // drawn, then draws the echo a frame later: 25 ms from key to echo instead of under 5 ms
    // (measured by the console_terminal bench).
    options.set_cursor_blink(false);
    options.set_disable_stdin(read_only);
    options.set_theme(&theme());
    if let Some((cols, rows)) = size {
        options.set_cols(u32::from(cols));
        options.set_rows(u32::from(rows));
    }
    options
}

/// A copy of the handle to the same JS terminal (the binding types are not `Clone`).
pub fn same_terminal(term: &Terminal) -> Terminal {
    let value: &JsValue = term.as_ref();
    value.clone().unchecked_into()
}

/// One xterm instance in its host element, with its fit addon and the JS callbacks it holds.
pub struct Screen {
    term: Terminal,
    fit: Option<FitAddon>,
    host: HtmlElement,
    /// Closures handed to JS; they must live exactly as long as the terminal.
    keep: RefCell<Vec<Box<dyn Any>>>,
}

impl Screen {
    /// Opens a terminal in `host`; `fit` loads the fit addon (live terminals fill their area).
    pub fn open(host: HtmlElement, options: &TerminalOptions, fit: bool) -> Self {
        let term = Terminal::new(options);
        let fit = fit.then(|| {
            let addon = FitAddon::new();
            let as_value: &JsValue = addon.as_ref();
            term.load_addon(as_value.clone().unchecked_into::<TerminalAddon>());
            addon
        });
        term.open(host.clone());
        Self {
            term,
            fit,
            host,
            keep: RefCell::new(Vec::new()),
        }
    }

    pub fn term(&self) -> &Terminal {
        &self.term
    }

    /// Keeps a JS callback alive until [`Screen::dispose`].
    pub fn keep(&self, closure: impl Any) {
        self.keep.borrow_mut().push(Box::new(closure));
    }

    /// Fits the terminal to its host and returns the size; `None` while the host is hidden
    /// (measuring a `display: none` element would give nonsense).
    pub fn fit(&self) -> Option<(u16, u16)> {
        let fit = self.fit.as_ref()?;
        if self.host.offset_width() <= 0 || self.host.offset_height() <= 0 {
            return None;
        }
        fit.fit();
        Some(self.size())
    }

    pub fn size(&self) -> (u16, u16) {
        let clamp = |n: u32| u16::try_from(n).unwrap_or(u16::MAX);
        (clamp(self.term.get_cols()), clamp(self.term.get_rows()))
    }

    fn js(&self) -> &Xterm6 {
        self.term.unchecked_ref()
    }

    /// Writes raw output bytes; `done` runs once xterm has processed them.
    pub fn write_bytes(&self, bytes: &[u8], done: impl FnOnce() + 'static) {
        let data = Uint8Array::from(bytes);
        self.js().write_bytes(&data, &Closure::once_into_js(done));
    }

    /// Writes text (playback output, local messages).
    pub fn write_text(&self, text: &str) {
        self.term.write(text);
    }

    /// Runs `then` after everything written so far has been processed, keeping resizes and
    /// resets in order with the output around them.
    pub fn after_writes(&self, then: impl FnOnce() + 'static) {
        self.js().write_text_then("", &Closure::once_into_js(then));
    }

    pub fn resize(&self, cols: u16, rows: u16) {
        self.term.resize(u32::from(cols), u32::from(rows));
    }

    /// Stops sending keystrokes (the terminal has ended); the output stays readable.
    pub fn disable_input(&self) {
        let options = self.js().options();
        options.set_disable_stdin(true);
    }

    /// Takes the page's current colours and `font_size`; the caller refits, as the cell size
    /// may have changed.
    pub fn restyle(&self, font_size: u32) {
        let options = self.js().options();
        options.set_theme(&theme());
        // xterm ignores an unchanged value, so this re-measures only on a real change.
        options.set_font_size(font_size);
    }

    /// Sends `data` as typed input (the on-screen keys), through the same path as keystrokes.
    pub fn input(&self, data: &str) {
        self.js().input(data, true);
    }

    /// Whether the program asked for application cursor keys (`ESC O A` rather than `ESC [ A`).
    pub fn app_cursor_keys(&self) -> bool {
        js_sys::Reflect::get(&self.js().modes(), &"applicationCursorKeysMode".into())
            .is_ok_and(|v| v.is_truthy())
    }

    pub fn focus(&self) {
        self.term.focus();
    }

    /// Disposes the terminal (and with it the fit addon) and drops the callbacks it held.
    pub fn dispose(&self) {
        self.term.dispose();
        self.keep.borrow_mut().clear();
    }
}
