//! The code editor (`/editor?server=&session=&path=&user=`): one file in CodeMirror (syntax
//! highlighting by file type, line numbers, search, undo), saved with Ctrl-S or the Save button.
//!
//! A save sends `if_version` = the file's version seen at load (its modification time to the
//! nanosecond, size and inode), so a file changed on the server meanwhile is not overwritten: the server answers 409 and the user chooses to reload (losing
//! their edits) or overwrite (losing the other change). CodeMirror itself is loaded only now
//! (`crate::editor`), never with the console.
//!
//! As root, the gateway may want a fresh one-time code first: the load or save it refused asks
//! for it in place and runs again once the code is proved.

mod content;

use crate::api::{self, ApiError, FileState, FileTarget};
use crate::components::{ErrorBox, PathForm, StepUp, StepUpPrompt};
use crate::editor::{self, Editor};
use crate::pages::files::{self, paths};
use content::{Loaded, Refusal};
use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

/// Where the page is; `data-state` on the editor root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Loading,
    Ready,
    Saving,
    Saved,
    Conflict,
    Error,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Loading => "loading",
            Phase::Ready => "ready",
            Phase::Saving => "saving",
            Phase::Saved => "saved",
            Phase::Conflict => "conflict",
            Phase::Error => "error",
        }
    }
}

/// The page's state; every field is a cheap handle.
#[derive(Clone, Copy)]
struct Page {
    target: Memo<Option<FileTarget>>,
    path: Memo<Option<String>>,
    phase: RwSignal<Phase>,
    dirty: RwSignal<bool>,
    /// Why the file is not shown (too large, binary, no path): the editor's own refusals.
    refusal: RwSignal<Option<String>>,
    /// The server's refusal of a load or save.
    error: RwSignal<Option<ApiError>>,
    /// The server's words on a save conflict.
    conflict: RwSignal<String>,
    /// The file's state at load (or last save): what a save expects to still find.
    since: StoredValue<FileState>,
    editor: StoredValue<Option<Editor>, LocalStorage>,
    /// Bumped per load, so a slow load of a file no longer shown is dropped.
    generation: StoredValue<u32>,
    /// The one-time code the gateway may want first (root).
    step_up: StepUp,
}

impl Page {
    fn where_(self) -> Option<(FileTarget, String)> {
        Some((self.target.get_untracked()?, self.path.get_untracked()?))
    }

    fn failed(self, refusal: Refusal) {
        match refusal {
            Refusal::Api(e) => self.error.set(Some(e)),
            Refusal::Text(t) => self.refusal.set(Some(t)),
        }
        self.phase.set(Phase::Error);
    }

    /// Loads the file (and the editor bundle) and opens it in `host`.
    fn load(self, host: web_sys::HtmlElement) {
        let Some((target, path)) = self.where_() else {
            self.failed(Refusal::Text(
                "No file is named: open one from Files, or add ?server=&session=&path= to the address."
                    .into(),
            ));
            return;
        };
        let generation = self.generation.get_value() + 1;
        self.generation.set_value(generation);
        self.editor.set_value(None);
        self.dirty.set(false);
        self.error.set(None);
        self.refusal.set(None);
        self.phase.set(Phase::Loading);
        spawn_local(async move {
            // The bundle downloads while the file does.
            spawn_local(async {
                let _ = editor::load().await;
            });
            let loaded = content::fetch(&target, &path).await;
            let bundle = editor::load().await;
            if self.generation.try_get_value() != Some(generation) {
                return;
            }
            match (loaded, bundle) {
                (Err(Refusal::Api(e)), _) if StepUp::takes(&e) => {
                    self.phase.set(Phase::Error);
                    self.step_up.refused(&e, move || {
                        let (target, path, host) = (target.clone(), path.clone(), host.clone());
                        async move {
                            // The gate is asked again first; the load follows once it agrees.
                            match api::files_stat(&target, &path, true).await {
                                Ok(_) => {
                                    self.load(host);
                                    None
                                }
                                Err(e) => Some(e),
                            }
                        }
                    });
                }
                (Err(refusal), _) => self.failed(refusal),
                (Ok(_), Err(why)) => self.failed(Refusal::Text(why)),
                (Ok(loaded), Ok(())) => self.open(&host, &path, loaded),
            }
        });
    }

    fn open(self, host: &web_sys::HtmlElement, path: &str, loaded: Loaded) {
        let on_change = move |dirty: bool| {
            self.dirty.try_set(dirty);
            if dirty && self.phase.try_get_untracked() == Some(Phase::Saved) {
                self.phase.set(Phase::Ready);
            }
        };
        let on_save = move || self.save(false);
        match Editor::open(host, &loaded.text, path, on_change, on_save) {
            Ok(ed) => {
                ed.focus();
                self.editor.set_value(Some(ed));
                self.since.set_value(loaded.state);
                self.phase.set(Phase::Ready);
            }
            Err(why) => self.failed(Refusal::Text(why)),
        }
    }

    /// Saves the text; `overwrite` skips the check that the file is unchanged on the server.
    fn save(self, overwrite: bool) {
        let busy = matches!(self.phase.get_untracked(), Phase::Loading | Phase::Saving);
        let text = self
            .editor
            .try_with_value(|e| e.as_ref().map(Editor::text))
            .flatten();
        let (Some(text), Some((target, path)), false) = (text, self.where_(), busy) else {
            return;
        };
        let since = (!overwrite).then(|| self.since.get_value());
        self.error.set(None);
        self.phase.set(Phase::Saving);
        spawn_local(async move {
            match api::files_save(&target, &path, &text, since.as_ref()).await {
                Ok(result) => {
                    self.since.set_value(FileState {
                        mtime: result.mtime,
                        version: result.version,
                    });
                    // Typing during the save leaves the newer text marked as modified.
                    self.editor.with_value(|e| {
                        if let Some(e) = e.as_ref().filter(|e| e.text() == text) {
                            e.mark_clean();
                        }
                    });
                    self.phase.set(Phase::Saved);
                }
                Err(e) if e.status == 409 && !overwrite => {
                    self.conflict.set(e.to_string());
                    self.phase.set(Phase::Conflict);
                }
                // Saved again once the code is proved (the edits are still in the editor).
                Err(e) if StepUp::takes(&e) => {
                    self.phase.set(Phase::Ready);
                    self.step_up.refused(&e, move || async move {
                        self.save(overwrite);
                        None
                    });
                }
                Err(e) => {
                    self.error.set(Some(e));
                    self.phase.set(Phase::Error);
                }
            }
        });
    }

    /// Replaces the text with the server's current file, dropping the local edits.
    fn reload(self) {
        let Some((target, path)) = self.where_() else {
            return;
        };
        self.error.set(None);
        self.phase.set(Phase::Loading);
        spawn_local(async move {
            match content::fetch(&target, &path).await {
                Ok(loaded) => {
                    self.editor.with_value(|e| {
                        if let Some(e) = e {
                            e.set_text(&loaded.text);
                            e.focus();
                        }
                    });
                    self.since.set_value(loaded.state);
                    self.phase.set(Phase::Ready);
                }
                Err(refusal) => self.failed(refusal),
            }
        });
    }
}

#[component]
pub fn EditorPage() -> impl IntoView {
    let query = use_query_map();
    let page = Page {
        target: Memo::new(move |_| query.with(files::target_from)),
        path: Memo::new(move |_| {
            query.with(|q| files::param(q.get("path")).map(|p| paths::normalize(&p)))
        }),
        phase: RwSignal::new(Phase::Loading),
        dirty: RwSignal::new(false),
        refusal: RwSignal::new(None),
        error: RwSignal::new(None),
        conflict: RwSignal::new(String::new()),
        since: StoredValue::new(FileState::default()),
        editor: StoredValue::new_local(None),
        generation: StoredValue::new(0),
        step_up: StepUp::new(),
    };
    let host = NodeRef::<Div>::new();
    // (Re)loads whenever the address names another file.
    Effect::new(move |_| {
        page.target.track();
        page.path.track();
        if let Some(el) = host.get() {
            page.load(el.into());
        }
    });
    on_cleanup(move || {
        page.editor.try_update_value(|e| e.take());
    });

    // Ctrl-S outside the text (on a button, say) saves too, instead of saving the page.
    let on_key = move |ev: web_sys::KeyboardEvent| {
        let save_key = (ev.ctrl_key() || ev.meta_key()) && ev.key().eq_ignore_ascii_case("s");
        // CodeMirror handles its own Ctrl-S and marks the event as handled.
        if save_key && !ev.default_prevented() {
            ev.prevent_default();
            page.save(false);
        }
    };
    let back = move || {
        let target = page.target.get()?;
        let path = page.path.get()?;
        Some(format!(
            "/files{}",
            files::location_query(&target, paths::parent(&path))
        ))
    };
    // The path is editable: another file opens in its place (after a confirmation when the
    // current text has unsaved changes).
    let typed = RwSignal::new(String::new());
    Effect::new(move |_| typed.set(page.path.get().unwrap_or_default()));
    let navigate = use_navigate();
    let open_typed = move || {
        let (Some(target), path) = (
            page.target.get_untracked(),
            paths::normalize(&typed.get_untracked()),
        ) else {
            return;
        };
        if page.path.get_untracked().as_deref() == Some(path.as_str()) {
            return;
        }
        let discard = !page.dirty.get_untracked()
            || window()
                .confirm_with_message("Discard the unsaved changes to this file?")
                .unwrap_or(false);
        if discard {
            let href = format!("/editor{}", files::location_query(&target, &path));
            navigate(&href, Default::default());
        }
    };
    let phase = page.phase;
    let status = move || match phase.get() {
        Phase::Loading => "Loading…",
        Phase::Saving => "Saving…",
        Phase::Saved => "Saved.",
        _ => "",
    };

    view! {
        <section
            class="page editor-page"
            data-testid="editor"
            data-state=move || phase.get().as_str()
            on:keydown=on_key
        >
            <div class="editor-head">
                {move || back().map(|href| view! {
                    <A href=href attr:class="button" attr:data-testid="back-to-files">"← Files"</A>
                })}
                <h1 class="visually-hidden">{move || page.path.get().unwrap_or_default()}</h1>
                <PathForm
                    testid="editor-path-form"
                    input_id="editor-path"
                    label="File path"
                    button="Open"
                    typed=typed
                    on_open=open_typed
                    placeholder="/path/to/a/file"
                    class="editor-path"
                />
                <Show when=move || page.dirty.get()>
                    <span class="dirty" data-testid="dirty" title="Changed since the last save">
                        "● Modified"
                    </span>
                </Show>
                <span class="editor-status" role="status">{status}</span>
                <button
                    class="primary"
                    data-action="save"
                    aria-keyshortcuts="Control+S"
                    title="Save (Ctrl-S)"
                    disabled=move || !matches!(phase.get(), Phase::Ready | Phase::Saved | Phase::Error) || page.editor.with_value(Option::is_none)
                    on:click=move |_| page.save(false)
                >
                    "Save"
                </button>
            </div>
            <Show when=move || phase.get() == Phase::Conflict>
                <div class="conflict files-panel" role="alertdialog" aria-labelledby="conflict-title" data-testid="conflict">
                    <p id="conflict-title">
                        <strong>"The file changed on the server since you opened it."</strong>
                    </p>
                    <p class="meta">{move || page.conflict.get()}</p>
                    <div class="buttons">
                        <button data-action="reload" on:click=move |_| page.reload()>
                            "Reload theirs (drop my changes)"
                        </button>
                        <button class="danger" data-action="overwrite" on:click=move |_| page.save(true)>
                            "Overwrite with mine"
                        </button>
                    </div>
                </div>
            </Show>
            {move || page.refusal.get().map(|t| view! { <p class="error" role="alert" data-testid="editor-refused">{t}</p> })}
            <StepUpPrompt step_up=page.step_up />
            <ErrorBox error=page.error />
            <div class="editor-host" node_ref=host></div>
        </section>
    }
}
