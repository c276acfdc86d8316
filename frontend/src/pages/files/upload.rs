//! Uploads: every file its own row with a progress bar, a cancel button and its result (size and
//! SHA-256 as the gateway computed them). Sent with `XMLHttpRequest`, the browser API that
//! reports upload progress, as a raw body streamed from the `File` (never read into wasm).
//!
//! At most [`MAX_PARALLEL`] run at once, so a batch of files neither fills the browser's
//! connections to the server (the listing must still load) nor floods the agent. A 409 (the
//! name exists) asks "Replace?" on the row and retries with `overwrite=true`; a refusal for
//! want of a fresh authenticator code (root) asks for the code in place and sends it again.

use super::messages::describe;
use super::paths::{self, human_size};
use super::Here;
use crate::api::{self, FileTarget};
use gatehouse_shared::files::TransferResult;
use leptos::prelude::*;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{File, FileList, ProgressEvent, XmlHttpRequest};

/// Uploads running at the same time; the rest wait their turn.
const MAX_PARALLEL: usize = 2;

/// Where one upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Queued,
    Uploading,
    /// The name exists: waiting for the user to replace or skip.
    Conflict,
    /// Refused for want of a fresh authenticator code: sent again once it is proved.
    NeedsCode,
    Done,
    Failed,
    Cancelled,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Uploading => "uploading",
            State::Conflict => "conflict",
            State::NeedsCode => "needs-code",
            State::Done => "done",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
        }
    }

    fn finished(self) -> bool {
        matches!(self, State::Done | State::Failed | State::Cancelled)
    }
}

/// One file's upload as the page shows it.
#[derive(Clone)]
pub struct Row {
    id: u32,
    name: String,
    /// The absolute destination, fixed when the file was added.
    dest: String,
    target: FileTarget,
    size: f64,
    state: ArcRwSignal<State>,
    loaded: ArcRwSignal<f64>,
    message: ArcRwSignal<Option<String>>,
    result: ArcRwSignal<Option<TransferResult>>,
}

/// A request on the wire and the progress callback it calls.
struct InFlight {
    xhr: XmlHttpRequest,
    _progress: Closure<dyn FnMut(ProgressEvent)>,
}

/// The page's uploads; a cheap handle.
#[derive(Clone, Copy)]
pub struct Uploads {
    here: Here,
    rows: RwSignal<Vec<Row>>,
    next_id: StoredValue<u32>,
    /// Browser objects are not `Send`: files waiting (or kept for a retry) and requests in
    /// flight live here, by row id.
    files: StoredValue<HashMap<u32, File>, LocalStorage>,
    flights: StoredValue<HashMap<u32, InFlight>, LocalStorage>,
}

impl Uploads {
    pub fn new(here: Here) -> Self {
        Self {
            here,
            rows: RwSignal::new(Vec::new()),
            next_id: StoredValue::new(0),
            files: StoredValue::new_local(HashMap::new()),
            flights: StoredValue::new_local(HashMap::new()),
        }
    }

    /// Queues every file of `list` for the current directory.
    pub fn add_list(self, list: &FileList) {
        for i in 0..list.length() {
            if let Some(file) = list.get(i) {
                self.add(file);
            }
        }
        self.pump();
    }

    fn add(self, file: File) {
        let Some(target) = self.here.target.get_untracked() else {
            return;
        };
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        let name = file.name();
        let row = Row {
            id,
            dest: self.here.path_of(&name),
            target,
            size: file.size(),
            state: ArcRwSignal::new(State::Queued),
            loaded: ArcRwSignal::new(0.0),
            message: ArcRwSignal::new(None),
            result: ArcRwSignal::new(None),
            name,
        };
        match paths::name_problem(&row.name) {
            Some(problem) => {
                row.message.set(Some(format!("Not uploaded: {problem}.")));
                row.state.set(State::Failed);
            }
            None => self.files.update_value(|f| {
                f.insert(id, file);
            }),
        }
        self.rows.update(|rows| rows.push(row));
    }

    fn row(self, id: u32) -> Option<Row> {
        self.rows
            .try_with_untracked(|rows| rows.iter().find(|r| r.id == id).cloned())
            .flatten()
    }

    /// Starts queued uploads while fewer than [`MAX_PARALLEL`] run.
    fn pump(self) {
        let Some(next) = self.rows.try_with_untracked(|rows| {
            let running = rows
                .iter()
                .filter(|r| r.state.get_untracked() == State::Uploading)
                .count();
            rows.iter()
                .filter(|r| r.state.get_untracked() == State::Queued)
                .take(MAX_PARALLEL.saturating_sub(running))
                .map(|r| r.id)
                .collect::<Vec<_>>()
        }) else {
            return;
        };
        for id in next {
            self.start(id, false);
        }
    }

    fn start(self, id: u32, overwrite: bool) {
        let Some(row) = self.row(id) else {
            return;
        };
        let file = self.files.try_with_value(|f| f.get(&id).cloned()).flatten();
        let Some(file) = file else {
            return;
        };
        row.state.set(State::Uploading);
        row.loaded.set(0.0);
        row.message.set(None);
        match self.send(&row, &file, overwrite) {
            Ok(flight) => self.flights.update_value(|f| {
                f.insert(id, flight);
            }),
            Err(_) => {
                row.message
                    .set(Some("The browser could not start the upload.".into()));
                row.state.set(State::Failed);
                self.pump();
            }
        }
    }

    /// `PUT content` with the file as the raw body.
    fn send(self, row: &Row, file: &File, overwrite: bool) -> Result<InFlight, JsValue> {
        let url = api::files_content_url(
            &row.target,
            &row.dest,
            &[("overwrite", overwrite.to_string())],
        );
        let xhr = XmlHttpRequest::new()?;
        xhr.open_with_async("PUT", &url, true)?;
        if let Some(session) = row.target.session {
            xhr.set_request_header("X-Work-Session", &session.to_string())?;
        }
        if let Some(token) = api::csrf_token() {
            xhr.set_request_header("X-CSRF-Token", &token)?;
        }
        xhr.set_request_header("Content-Type", "application/octet-stream")?;
        let loaded = row.loaded.clone();
        let progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |ev: ProgressEvent| {
            loaded.set(ev.loaded());
        });
        xhr.upload()?
            .set_onprogress(Some(progress.as_ref().unchecked_ref()));
        let (id, request) = (row.id, xhr.clone());
        // Runs once, after success, failure or abort alike, and then frees itself.
        let done = Closure::once_into_js(move || self.finished(id, &request, overwrite));
        xhr.set_onloadend(Some(done.unchecked_ref()));
        xhr.send_with_opt_blob(Some(file))?;
        Ok(InFlight {
            xhr,
            _progress: progress,
        })
    }

    fn finished(self, id: u32, xhr: &XmlHttpRequest, overwrite: bool) {
        // Frees the progress callback (it is not the one running now).
        let _ = self.flights.try_update_value(|f| f.remove(&id));
        let Some(row) = self.row(id) else {
            return;
        };
        let keep_file = if row.state.get_untracked() == State::Cancelled {
            false
        } else {
            let status = xhr.status().unwrap_or(0);
            let body = xhr.response_text().ok().flatten().unwrap_or_default();
            self.outcome(&row, status, &body, overwrite)
        };
        if !keep_file {
            let _ = self.files.try_update_value(|f| f.remove(&id));
        }
        self.pump();
    }

    /// Records the answer on the row; true when the file is kept for a retry.
    fn outcome(self, row: &Row, status: u16, body: &str, overwrite: bool) -> bool {
        if (200..300).contains(&status) {
            match serde_json::from_str::<TransferResult>(body) {
                Ok(result) => {
                    row.loaded.set(row.size);
                    row.result.set(Some(result));
                    row.state.set(State::Done);
                    self.here.refresh();
                }
                Err(_) => {
                    row.message
                        .set(Some("The server's answer could not be read.".into()));
                    row.state.set(State::Failed);
                }
            }
            return false;
        }
        let error = api::error_from(status, body);
        // As root, the upload may need a fresh authenticator code: ask for it in place, keep
        // the file, and send it again once the code is proved.
        let id = row.id;
        let again = move || async move {
            self.start(id, overwrite);
            None
        };
        if self.here.step_up.refused(&error, again) {
            row.state.set(State::NeedsCode);
            return true;
        }
        if status == 409 && !overwrite {
            row.message.set(Some(error.to_string()));
            row.state.set(State::Conflict);
            return true;
        }
        row.message.set(Some(describe(&error)));
        row.state.set(State::Failed);
        false
    }

    /// Cancels a queued, waiting or running upload.
    pub fn cancel(self, id: u32) {
        let Some(row) = self.row(id) else {
            return;
        };
        if row.state.get_untracked().finished() {
            return;
        }
        row.state.set(State::Cancelled);
        // Cloned out first: `abort` fires `loadend` at once, which updates the same map.
        let running = self
            .flights
            .try_with_value(|f| f.get(&id).map(|flight| flight.xhr.clone()))
            .flatten();
        match running {
            Some(xhr) => {
                let _ = xhr.abort();
            }
            None => {
                let _ = self.files.try_update_value(|f| f.remove(&id));
                self.pump();
            }
        }
    }

    /// Stops everything still running (the page is closing).
    pub fn abort_all(self) {
        let ids: Vec<u32> = self
            .rows
            .try_with_untracked(|rows| rows.iter().map(|r| r.id).collect())
            .unwrap_or_default();
        for id in ids {
            self.cancel(id);
        }
    }

    fn clear_finished(self) {
        self.rows
            .update(|rows| rows.retain(|r| !r.state.get_untracked().finished()));
    }
}

#[component]
pub fn UploadList(uploads: Uploads) -> impl IntoView {
    let rows = uploads.rows;
    move || {
        (!rows.with(Vec::is_empty)).then(|| {
            view! {
                <section class="uploads" aria-labelledby="uploads-title">
                    <div class="uploads-head">
                        <h2 id="uploads-title">"Uploads"</h2>
                        <button data-action="clear-uploads" on:click=move |_| uploads.clear_finished()>
                            "Clear finished"
                        </button>
                    </div>
                    <ul class="upload-rows">
                        <For each=move || rows.get() key=|r| r.id let:row>
                            <UploadRow row=row uploads=uploads />
                        </For>
                    </ul>
                </section>
            }
        })
    }
}

#[component]
fn UploadRow(row: Row, uploads: Uploads) -> impl IntoView {
    let id = row.id;
    let state = row.state.clone();
    let st = state.clone();
    let loaded = row.loaded.clone();
    let size = row.size;
    let (message, result) = (row.message.clone(), row.result.clone());
    let status = move || match st.get() {
        State::Queued => "Waiting…".to_owned(),
        State::Uploading if loaded.get() >= size && size > 0.0 => "Finishing…".to_owned(),
        State::Uploading => format!(
            "{} of {}",
            human_size(loaded.get() as u64),
            human_size(size as u64)
        ),
        State::Cancelled => "Cancelled.".to_owned(),
        State::Done => String::new(),
        State::Conflict => format!(
            "{} Replace it?",
            message.get().unwrap_or_else(|| "The file exists.".into())
        ),
        State::NeedsCode => "Waiting for a code from your authenticator app…".to_owned(),
        State::Failed => message.get().unwrap_or_else(|| "Failed.".into()),
    };
    let done = move || {
        result.get().map(|r| {
            view! {
                <span class="upload-result">
                    {format!("{} · SHA-256 ", human_size(r.size))}
                    <code data-testid="sha256">{r.sha256}</code>
                </span>
            }
        })
    };
    let value_loaded = row.loaded.clone();
    let buttons = move || {
        match state.get() {
        State::Queued | State::Uploading => view! {
            <button data-action="cancel-upload" aria-label="Cancel this upload" on:click=move |_| uploads.cancel(id)>
                "Cancel"
            </button>
        }
        .into_any(),
        State::Conflict => view! {
            <button class="danger" data-action="confirm-overwrite" on:click=move |_| uploads.start(id, true)>
                "Replace"
            </button>
            <button data-action="skip-upload" on:click=move |_| uploads.cancel(id)>"Skip"</button>
        }
        .into_any(),
        State::NeedsCode => view! {
            <button data-action="skip-upload" on:click=move |_| uploads.cancel(id)>"Skip"</button>
        }
        .into_any(),
        _ => ().into_any(),
    }
    };
    let state_attr = row.state.clone();
    view! {
        <li class="upload-row" data-testid="upload-row" data-name=row.name.clone() data-state=move || state_attr.get().as_str()>
            <span class="upload-name">{row.name.clone()}</span>
            <progress
                max=size.max(1.0).to_string()
                value=move || value_loaded.get().to_string()
                aria-label=format!("Upload of {}", row.name)
            ></progress>
            <span class="upload-status">{status}{done}</span>
            <span class="upload-buttons">{buttons}</span>
        </li>
    }
}
