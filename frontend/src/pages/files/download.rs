//! Downloads. Ordinary files are fetched (with the `X-Work-Session` header) into a Blob, held by
//! the browser rather than in wasm memory, and saved through an object URL: a refusal then shows
//! on the page with its reason. Files over `STREAM_ABOVE` go straight to the browser's download
//! manager through a plain link that names the work session in its query (the SameSite=Strict
//! cookie keeps other sites from using such a link), so the browser writes them to disk as they
//! arrive, with its own progress, instead of holding gigabytes in memory first.

use super::paths::human_size;
use super::Here;
use crate::api::{self, ApiError};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

/// How long the object URL stays valid: long enough for the browser to have read the Blob.
const REVOKE_AFTER_MS: u32 = 60_000;

/// Larger files stream to disk through the browser's download manager.
pub const STREAM_ABOVE: u64 = 64 * 1024 * 1024;

/// Downloads `path` (of `size` bytes, as listed), saving it as `name`; the outcome shows in the
/// page's message area.
pub fn start(here: Here, name: String, path: String, size: u64) {
    let Some(target) = here.target.get_untracked() else {
        return;
    };
    if size > STREAM_ABOVE {
        let mut query = vec![("path", path)];
        if let Some(session) = target.session {
            query.push(("work_session", session.to_string()));
        }
        let outcome = click_link(&target.url("content", &query), &name)
            .map(|()| {
                format!(
                    "Downloading {name} ({}): see the browser's downloads.",
                    human_size(size)
                )
            })
            .map_err(|_| ApiError::local("the browser refused to start the download"));
        here.report(outcome);
        return;
    }
    here.report(Ok(format!("Downloading {name}…")));
    spawn_local(async move {
        let outcome = match api::files_blob(&target, &path).await {
            Ok(blob) => save(&blob, &name)
                .map(|()| format!("Downloaded {name} ({}).", human_size(blob.size() as u64)))
                .map_err(|_| ApiError::local("the browser refused to save the downloaded file")),
            Err(e) => {
                // As root it may need a fresh authenticator code: asked for in place, then the
                // download starts again.
                let (name, path) = (name.clone(), path.clone());
                let again = move || {
                    let (name, path) = (name.clone(), path.clone());
                    async move {
                        start(here, name, path, size);
                        None
                    }
                };
                if here.step_up.refused(&e, again) {
                    return;
                }
                Err(e)
            }
        };
        here.report(outcome);
    });
}

/// Hands `blob` to the browser's download manager as `name`.
fn save(blob: &web_sys::Blob, name: &str) -> Result<(), wasm_bindgen::JsValue> {
    let url = web_sys::Url::create_object_url_with_blob(blob)?;
    click_link(&url, name)?;
    // Revoking at once could cancel the download before the browser has read the Blob.
    gloo_timers::callback::Timeout::new(REVOKE_AFTER_MS, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
    Ok(())
}

/// Follows `url` as a download saved as `name`, through a hidden link.
fn click_link(url: &str, name: &str) -> Result<(), wasm_bindgen::JsValue> {
    let link: web_sys::HtmlAnchorElement = document().create_element("a")?.unchecked_into();
    link.set_href(url);
    link.set_download(name);
    link.set_hidden(true);
    let body = document().body().ok_or("no body")?;
    body.append_child(&link)?;
    link.click();
    link.remove();
    Ok(())
}
