//! Downloads. A plain `<a href download>` cannot send the `X-Work-Session` header the gate needs,
//! so the file is fetched with it into a Blob (held by the browser, not in wasm memory) and saved
//! through an object URL. Fine for ordinary files; very large ones would want a header-free,
//! short-lived signed URL from the gateway instead.

use super::paths::human_size;
use super::Here;
use crate::api::{self, ApiError};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

/// How long the object URL stays valid: long enough for the browser to have read the Blob.
const REVOKE_AFTER_MS: u32 = 60_000;

/// Downloads `path`, saving it as `name`; the outcome shows in the page's message area.
pub fn start(here: Here, name: String, path: String) {
    let Some(target) = here.target.get_untracked() else {
        return;
    };
    here.report(Ok(format!("Downloading {name}…")));
    spawn_local(async move {
        let outcome = match api::files_blob(&target, &path).await {
            Ok(blob) => save(&blob, &name)
                .map(|()| format!("Downloaded {name} ({}).", human_size(blob.size() as u64)))
                .map_err(|_| ApiError::local("the browser refused to save the downloaded file")),
            Err(e) => Err(e),
        };
        here.report(outcome);
    });
}

/// Hands `blob` to the browser's download manager as `name`.
fn save(blob: &web_sys::Blob, name: &str) -> Result<(), wasm_bindgen::JsValue> {
    let url = web_sys::Url::create_object_url_with_blob(blob)?;
    let link: web_sys::HtmlAnchorElement = document().create_element("a")?.unchecked_into();
    link.set_href(&url);
    link.set_download(name);
    link.set_hidden(true);
    let body = document().body().ok_or("no body")?;
    body.append_child(&link)?;
    link.click();
    link.remove();
    // Revoking at once could cancel the download before the browser has read the Blob.
    gloo_timers::callback::Timeout::new(REVOKE_AFTER_MS, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
    Ok(())
}
