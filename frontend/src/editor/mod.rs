//! The code editor: CodeMirror 6 in the bundle `/editor.mjs` (frontend/editor/main.js, built by
//! esbuild in scripts/build-console.sh), loaded only when an editor opens so the console's first
//! download stays small.
//!
//! Loading adds `<script type="module" src="/editor.mjs">` (the CSP allows scripts from 'self'
//! and no inline ones); the module sets `window.GatehouseEditor`, which the bindings below reach
//! through `js_namespace`, looked up at call time, so nothing is imported at start-up.

mod loader;

pub use loader::load;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// What `createEditor` returns (frontend/editor/main.js).
    type Handle;

    #[wasm_bindgen(catch, js_namespace = GatehouseEditor, js_name = createEditor)]
    fn create_editor(
        parent: &web_sys::HtmlElement,
        text: &str,
        filename: &str,
        on_change: &JsValue,
        on_save: &JsValue,
    ) -> Result<Handle, JsValue>;

    #[wasm_bindgen(method, js_name = getText)]
    fn get_text(this: &Handle) -> String;

    #[wasm_bindgen(method, js_name = setText)]
    fn set_text(this: &Handle, text: &str);

    #[wasm_bindgen(method, js_name = markClean)]
    fn mark_clean(this: &Handle);

    #[wasm_bindgen(method)]
    fn focus(this: &Handle);

    #[wasm_bindgen(method)]
    fn destroy(this: &Handle);
}

/// One CodeMirror instance and the callbacks it holds; destroyed when dropped.
pub struct Editor {
    handle: Handle,
    _on_change: Closure<dyn FnMut(bool)>,
    _on_save: Closure<dyn FnMut()>,
}

impl Editor {
    /// Opens an editor in `parent` (the bundle must be loaded). `on_change(dirty)` hears whether
    /// the text differs from the last clean one; `on_save` runs on Ctrl-S / Cmd-S.
    pub fn open(
        parent: &web_sys::HtmlElement,
        text: &str,
        filename: &str,
        on_change: impl FnMut(bool) + 'static,
        on_save: impl FnMut() + 'static,
    ) -> Result<Self, String> {
        let on_change = Closure::<dyn FnMut(bool)>::new(on_change);
        let on_save = Closure::<dyn FnMut()>::new(on_save);
        let handle = create_editor(parent, text, filename, on_change.as_ref(), on_save.as_ref())
            .map_err(|e| {
                e.as_string()
                    .or_else(|| js_sys::Error::from(e).message().as_string())
                    .unwrap_or_else(|| "the editor could not start".into())
            })?;
        Ok(Self {
            handle,
            _on_change: on_change,
            _on_save: on_save,
        })
    }

    pub fn text(&self) -> String {
        self.handle.get_text()
    }

    /// Replaces the text (a reload): clean again, with a fresh undo history.
    pub fn set_text(&self, text: &str) {
        self.handle.set_text(text);
    }

    /// The current text is what the server has now.
    pub fn mark_clean(&self) {
        self.handle.mark_clean();
    }

    pub fn focus(&self) {
        self.handle.focus();
    }
}

impl Drop for Editor {
    fn drop(&mut self) {
        self.handle.destroy();
    }
}
