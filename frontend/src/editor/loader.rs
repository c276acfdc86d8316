//! Loads `/editor.mjs` once per page, on first use: a module `<script>` whose load event settles
//! one shared promise, so two editors opening together wait for the same download.

use js_sys::{Promise, Reflect};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Where Trunk's copy-file puts the bundle (absolute: the editor's route may be deep).
const BUNDLE: &str = "/editor.mjs";
/// What the bundle assigns on `window`.
const GLOBAL: &str = "GatehouseEditor";

thread_local! {
    /// The load in progress (or done); cleared after a failure so a later try starts afresh.
    static LOADING: RefCell<Option<Promise>> = const { RefCell::new(None) };
}

fn loaded() -> bool {
    Reflect::get(&js_sys::global(), &JsValue::from_str(GLOBAL)).is_ok_and(|v| v.is_object())
}

/// Adds the script element; the promise settles on its load or error event.
fn inject() -> Promise {
    Promise::new(&mut |resolve, reject| {
        let added = (|| -> Result<(), JsValue> {
            let document = web_sys::window()
                .and_then(|w| w.document())
                .ok_or("no document")?;
            let script: web_sys::HtmlScriptElement =
                document.create_element("script")?.unchecked_into();
            script.set_type("module");
            script.set_src(BUNDLE);
            script.set_attribute("data-gatehouse", "editor")?;
            // The promise's own functions are the handlers: nothing to keep alive.
            script.set_onload(Some(&resolve));
            script.set_onerror(Some(&reject));
            document.head().ok_or("no head")?.append_child(&script)?;
            Ok(())
        })();
        if let Err(e) = added {
            let _ = reject.call1(&JsValue::NULL, &e);
        }
    })
}

/// Makes sure the editor bundle is loaded; `Err` says why not (network, missing build).
pub async fn load() -> Result<(), String> {
    if loaded() {
        return Ok(());
    }
    let promise = LOADING.with(|slot| slot.borrow_mut().get_or_insert_with(inject).clone());
    let result = JsFuture::from(promise).await;
    if result.is_ok() && loaded() {
        return Ok(());
    }
    LOADING.with(|slot| slot.borrow_mut().take());
    // A failed script element is dead; drop it so the next try adds a fresh one.
    if let Some(old) = web_sys::window().and_then(|w| w.document()).and_then(|d| {
        d.query_selector("script[data-gatehouse=editor]")
            .ok()
            .flatten()
    }) {
        old.remove();
    }
    Err(format!(
        "the code editor ({BUNDLE}) could not be loaded; reload the page to try again"
    ))
}
