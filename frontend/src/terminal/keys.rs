//! Copy and paste with Ctrl+Shift+C / Ctrl+Shift+V, as in desktop terminals: plain Ctrl+C and
//! Ctrl+V must reach the shell (interrupt, literal next), so the clipboard needs the Shift.
//! Mouse selection, the context menu and Cmd+C/Cmd+V are handled by xterm and the browser.

use super::xterm::{same_terminal, Screen};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::KeyboardEvent;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shortcut {
    Copy,
    Paste,
}

fn shortcut(event: &KeyboardEvent) -> Option<Shortcut> {
    if !(event.ctrl_key() && event.shift_key()) || event.alt_key() || event.meta_key() {
        return None;
    }
    match event.code().as_str() {
        "KeyC" => Some(Shortcut::Copy),
        "KeyV" => Some(Shortcut::Paste),
        _ => None,
    }
}

/// Installs the clipboard shortcuts on `screen`.
pub fn attach_clipboard(screen: &Screen) {
    let term = same_terminal(screen.term());
    let handler = Closure::<dyn FnMut(KeyboardEvent) -> bool>::new(move |event: KeyboardEvent| {
        let Some(action) = shortcut(&event) else {
            return true;
        };
        // Keep the browser's own reaction (DevTools, a second native paste) out of it.
        event.prevent_default();
        if event.type_() != "keydown" {
            return false;
        }
        let Some(window) = web_sys::window() else {
            return false;
        };
        let navigator = window.navigator();
        // Absent outside secure contexts; the gateway serves plain HTTP only on loopback, but a
        // missing API must not throw through this handler.
        let has_clipboard = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard"))
            .is_ok_and(|c| !c.is_undefined());
        if !has_clipboard {
            return false;
        }
        let clipboard = navigator.clipboard();
        match action {
            Shortcut::Copy => {
                if term.has_selection() {
                    let copy = clipboard.write_text(&term.get_selection());
                    spawn_local(async move {
                        let _ = JsFuture::from(copy).await;
                    });
                }
            }
            Shortcut::Paste => {
                let read = clipboard.read_text();
                let term = same_terminal(&term);
                spawn_local(async move {
                    // `paste` honours bracketed-paste mode and feeds the text to `onData`,
                    // exactly like a native paste.
                    if let Ok(text) = JsFuture::from(read).await {
                        if let Some(text) = text.as_string() {
                            term.paste(&text);
                        }
                    }
                });
            }
        }
        false
    });
    screen
        .term()
        .attach_custom_key_event_handler(handler.as_ref().unchecked_ref());
    screen.keep(handler);
}
