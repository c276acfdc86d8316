//! The on-screen key row under a terminal (CSS shows it on narrow and touch screens), for
//! keyboards without Esc, Ctrl, Tab or arrows. Keys go through xterm's own input path, as if
//! typed; Ctrl is sticky: it applies to the next character typed (see `runtime::forward_input`).

use super::runtime::Runtime;
use leptos::prelude::*;
use std::rc::Rc;

/// (test id, label, accessible name).
const KEYS: [(&str, &str, &str); 5] = [
    ("tab", "Tab", "Tab"),
    ("left", "←", "Left arrow"),
    ("up", "↑", "Up arrow"),
    ("down", "↓", "Down arrow"),
    ("right", "→", "Right arrow"),
];

#[component]
pub fn KeyRow(
    runtime: StoredValue<Option<Rc<Runtime>>, LocalStorage>,
    ctrl: RwSignal<bool>,
) -> impl IntoView {
    let send = move |key: &str| {
        let Some(rt) = runtime.with_value(Clone::clone) else {
            return;
        };
        let data = match key {
            "esc" => "\u{1b}".to_owned(),
            "tab" => "\t".to_owned(),
            "up" => rt.arrow('A'),
            "down" => rt.arrow('B'),
            "right" => rt.arrow('C'),
            _ => rt.arrow('D'),
        };
        rt.send_keys(&data);
    };
    // A pressed button would take the focus from the terminal (closing a phone's keyboard).
    let keep_focus = |ev: leptos::ev::MouseEvent| ev.prevent_default();
    let toggle_ctrl = move |_| {
        ctrl.update(|c| *c = !*c);
        if let Some(rt) = runtime.with_value(Clone::clone) {
            rt.focus();
        }
    };
    let key = move |(id, label, name): (&'static str, &'static str, &'static str)| {
        view! {
            <button type="button" data-testid=format!("key-{id}") aria-label=name
                on:mousedown=keep_focus on:click=move |_| send(id)>
                {label}
            </button>
        }
    };
    view! {
        <div class="key-row" role="toolbar" aria-label="Terminal keys">
            {key(("esc", "Esc", "Escape"))}
            <button type="button" data-testid="key-ctrl" aria-label="Control (applies to the next key)"
                aria-pressed=move || ctrl.get().to_string()
                on:mousedown=keep_focus on:click=toggle_ctrl>
                "Ctrl"
            </button>
            {KEYS.map(key)}
        </div>
    }
}
