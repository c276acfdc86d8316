//! Form pieces the admin and account screens share: per-field errors and a copy button.

use crate::api::ApiError;
use crate::components::error::in_words;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};

/// The server's message for one field of the last failed submit, shown under that field, in
/// words (see [`in_words`]).
#[component]
pub fn FieldError(
    #[prop(into)] error: Signal<Option<ApiError>>,
    field: &'static str,
) -> impl IntoView {
    move || {
        error.get().and_then(|e| e.field(field)).map(|message| {
            view! {
                <span class="field-error" data-field=field role="alert">{in_words(&message)}</span>
            }
        })
    }
}

/// Forgets the error at `field` once someone edits that field; the other fields' stay, and
/// with none left the whole error goes.
pub fn clear_field(error: RwSignal<Option<ApiError>>, field: &str) {
    if !error.with_untracked(|e| e.as_ref().is_some_and(|e| e.field(field).is_some())) {
        return;
    }
    error.update(|slot| {
        if let Some(e) = slot {
            e.envelope.fields.retain(|f| f.field != field);
            if e.envelope.fields.is_empty() {
                *slot = None;
            }
        }
    });
}

/// Copies `text` to the clipboard. The clipboard API exists only in secure contexts, so its
/// absence (or a refusal) is reported instead of assumed away; the text stays selectable.
async fn copy_to_clipboard(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator = window.navigator();
    let available = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard"))
        .is_ok_and(|c| !c.is_undefined() && !c.is_null());
    if !available {
        return false;
    }
    let promise = navigator.clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

/// A button that copies `text`, then says whether that worked.
#[component]
pub fn CopyButton(
    text: String,
    /// What is copied, for the accessible name ("Copy token").
    #[prop(into)]
    what: String,
) -> impl IntoView {
    let status = RwSignal::new(None::<&'static str>);
    let label = format!("Copy {what}");
    let click = move |_| {
        let text = text.clone();
        spawn_local(async move {
            let copied = copy_to_clipboard(&text).await;
            status.set(Some(if copied {
                "Copied."
            } else {
                "Cannot copy here; select the text and copy it."
            }));
        });
    };
    view! {
        <button type="button" class="copy" aria-label=label on:click=click>"Copy"</button>
        <span class="copy-status" role="status">{move || status.get()}</span>
    }
}

/// Moves keyboard focus to the first element matching `selector` once the pending render is
/// done; used after "Load more" so the keyboard continues at the first new row.
pub fn focus_when_rendered(selector: String) {
    request_animation_frame(move || {
        let element = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector(&selector).ok().flatten());
        if let Some(element) = element.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = element.focus();
        }
    });
}
