//! Display preferences kept in this browser's `localStorage`, not on the server: the colour theme
//! (System / Light / Dark) and the terminal font size. `index.html` applies a stored theme before
//! the first paint; this module owns changing it.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

const THEME_KEY: &str = "gatehouse.theme";
const FONT_KEY: &str = "gatehouse.terminalFontSize";
/// The terminal font sizes offered (px): below 10 glyphs blur, above 28 a phone shows 13 columns.
pub const FONT_MIN: u32 = 10;
pub const FONT_MAX: u32 = 28;
pub const FONT_DEFAULT: u32 = 14;

/// The console's display preferences, provided by the app.
#[derive(Clone, Copy)]
pub struct Prefs {
    /// `"system"`, `"light"` or `"dark"`.
    pub theme: RwSignal<&'static str>,
    pub font_size: RwSignal<u32>,
    /// Bumped when the page's colours may have changed (the switch, or the system's scheme),
    /// so open terminals read them again.
    pub colours: RwSignal<u32>,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn stored(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?
}

fn store(key: &str, value: &str) {
    if let Some(s) = storage() {
        // Private windows may refuse; the choice then lasts for this page only.
        let _ = s.set_item(key, value);
    }
}

/// The terminal font size stored in this browser, within the offered range.
pub fn stored_font_size() -> u32 {
    stored(FONT_KEY)
        .and_then(|s| s.parse().ok())
        .map_or(FONT_DEFAULT, |n: u32| n.clamp(FONT_MIN, FONT_MAX))
}

impl Prefs {
    pub fn provide() -> Self {
        let theme = match stored(THEME_KEY).as_deref() {
            Some("light") => "light",
            Some("dark") => "dark",
            _ => "system",
        };
        let prefs = Prefs {
            theme: RwSignal::new(theme),
            font_size: RwSignal::new(stored_font_size()),
            colours: RwSignal::new(0),
        };
        apply_theme(theme);
        // While the choice is "System", the page follows a scheme change by CSS alone; terminals
        // need telling. The listener lives as long as the page.
        if let Some(query) = web_sys::window()
            .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        {
            let changed = Closure::<dyn FnMut()>::new(move || prefs.colours.update(|n| *n += 1));
            let _ =
                query.add_event_listener_with_callback("change", changed.as_ref().unchecked_ref());
            changed.forget();
        }
        provide_context(prefs);
        prefs
    }

    pub fn set_theme(&self, choice: &str) {
        let choice = match choice {
            "light" => "light",
            "dark" => "dark",
            _ => "system",
        };
        store(THEME_KEY, choice);
        // The attribute first, so whoever the signal wakes reads the new colours.
        apply_theme(choice);
        self.theme.set(choice);
        self.colours.update(|n| *n += 1);
    }

    /// Makes the terminal font one step larger (`+1`) or smaller (`-1`), within the range.
    pub fn step_font(&self, step: i32) {
        let next = self
            .font_size
            .get_untracked()
            .saturating_add_signed(step)
            .clamp(FONT_MIN, FONT_MAX);
        store(FONT_KEY, &next.to_string());
        self.font_size.set(next);
    }
}

pub fn use_prefs() -> Prefs {
    expect_context()
}

/// Sets `data-theme` on `<html>` ("system" removes it, leaving `prefers-color-scheme` to decide).
fn apply_theme(choice: &str) {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    else {
        return;
    };
    let _ = match choice {
        "system" => root.remove_attribute("data-theme"),
        other => root.set_attribute("data-theme", other),
    };
}

/// The theme switch: System / Light / Dark.
#[component]
pub fn ThemeSwitch() -> impl IntoView {
    let prefs = use_prefs();
    view! {
        <label class="theme-switch">
            <span class="visually-hidden">"Theme"</span>
            <select
                data-testid="theme-switch"
                title="Colour theme"
                prop:value=move || prefs.theme.get()
                on:change=move |ev| prefs.set_theme(&event_target_value(&ev))
            >
                <option value="system">"System theme"</option>
                <option value="light">"Light"</option>
                <option value="dark">"Dark"</option>
            </select>
        </label>
    }
}

/// A− / A+ for the terminal font size; open terminals follow it (`runtime::mount`).
#[component]
pub fn FontSizeControl() -> impl IntoView {
    let prefs = use_prefs();
    let size = prefs.font_size;
    view! {
        <span class="font-size" role="group" aria-label="Terminal text size">
            <button type="button" data-testid="font-smaller" aria-label="Smaller terminal text"
                disabled=move || { size.get() <= FONT_MIN } on:click=move |_| prefs.step_font(-1)>
                "A−"
            </button>
            <span class="font-size-value" data-testid="font-size" title="Terminal text size (px)">
                {move || size.get()}
            </span>
            <button type="button" data-testid="font-larger" aria-label="Larger terminal text"
                disabled=move || { size.get() >= FONT_MAX } on:click=move |_| prefs.step_font(1)>
                "A+"
            </button>
        </span>
    }
}
