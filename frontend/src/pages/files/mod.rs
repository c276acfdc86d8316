//! WebFTP (`/files?server=&session=&path=&user=`): browse a server's directories, upload by
//! drag-and-drop or file picker, download, create folders, rename and delete, all under one work
//! session (`X-Work-Session`) and as the chosen run-as user.
//!
//! The current directory lives in the URL, so back/forward and reloads keep the place. Every
//! operation is checked again by the gateway and run by the agent as the run-as user; this page
//! only asks and reports.
//!
//! As root, the gateway may want a fresh one-time code first: the listing (or the operation)
//! it refused asks for it in place and is tried again once the code is proved.

mod download;
mod listing;
pub mod messages;
pub mod paths;
mod toolbar;
mod upload;

use crate::api::{self, ApiError, ApiResult, FileTarget};
use crate::components::{StepUp, StepUpPrompt};
use gatehouse_shared::files::FileListing;
use gatehouse_shared::WorkSessionId;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use listing::Listing;
use messages::FileError;
use std::collections::BTreeSet;
use toolbar::{PathBar, Toolbar};
use upload::{UploadList, Uploads};

/// The query parameter's trimmed value, `None` when absent or blank.
pub fn param(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The target a `?server=&session=&user=` query names, if it names a server.
pub fn target_from(q: &leptos_router::params::ParamsMap) -> Option<FileTarget> {
    Some(FileTarget {
        server: param(q.get("server"))?,
        session: q
            .get("session")
            .and_then(|s| s.trim().parse::<WorkSessionId>().ok()),
        user: param(q.get("user")),
    })
}

/// `?server=&session=&path=&user=` for `target` at `path` (shared with the editor's links).
pub fn location_query(target: &FileTarget, path: &str) -> String {
    api::query(&[
        ("server", target.server.clone()),
        (
            "session",
            target.session.map(|s| s.to_string()).unwrap_or_default(),
        ),
        ("path", path.to_owned()),
        ("user", target.user.clone().unwrap_or_default()),
    ])
}

/// The page's state shared by its parts; every field is a cheap handle.
#[derive(Clone, Copy)]
pub struct Here {
    pub target: Memo<Option<FileTarget>>,
    /// The directory shown (normalised).
    pub dir: Memo<String>,
    pub listing: LocalResource<ApiResult<FileListing>>,
    /// Names selected in the current directory.
    pub selected: RwSignal<BTreeSet<String>>,
    /// Bumped to list the directory again after a change.
    pub reload: RwSignal<u32>,
    /// The last failed operation (shown above the listing).
    pub error: RwSignal<Option<ApiError>>,
    /// The last success worth saying (`Deleted 2 items`), for screen readers too.
    pub notice: RwSignal<Option<String>>,
    /// The one-time code the gateway may want first (root), for the listing and operations.
    pub step_up: StepUp,
}

impl Here {
    /// The absolute path of `name` in the current directory.
    pub fn path_of(self, name: &str) -> String {
        paths::join(&self.dir.get_untracked(), name)
    }

    /// The `/files` address of `path` under the same target.
    pub fn href(self, path: &str) -> String {
        match self.target.get_untracked() {
            Some(t) => format!("/files{}", location_query(&t, path)),
            None => "/files".to_owned(),
        }
    }

    /// The `/editor` address of `path` under the same target.
    pub fn editor_href(self, path: &str) -> String {
        match self.target.get_untracked() {
            Some(t) => format!("/editor{}", location_query(&t, path)),
            None => "/editor".to_owned(),
        }
    }

    pub fn refresh(self) {
        self.reload.update(|n| *n += 1);
    }

    /// Reports the outcome of an operation in the message area.
    pub fn report(self, outcome: Result<String, ApiError>) {
        match outcome {
            Ok(notice) => {
                self.error.set(None);
                self.notice.set(Some(notice));
            }
            Err(e) => {
                self.notice.set(None);
                self.error.set(Some(e));
            }
        }
    }
}

#[component]
pub fn FilesPage() -> impl IntoView {
    let query = use_query_map();
    let target = Memo::new(move |_| query.with(target_from));
    let dir =
        Memo::new(move |_| query.with(|q| paths::normalize(&q.get("path").unwrap_or_default())));
    let reload = RwSignal::new(0u32);
    let listing = LocalResource::new(move || {
        let target = target.get();
        let dir = dir.get();
        reload.track();
        async move {
            match target {
                Some(target) => api::files_list(&target, &dir).await,
                // Never shown: the page asks for a server instead.
                None => Ok(FileListing {
                    path: dir,
                    entries: Vec::new(),
                }),
            }
        }
    });
    let here = Here {
        target,
        dir,
        listing,
        selected: RwSignal::new(BTreeSet::new()),
        reload,
        error: RwSignal::new(None),
        notice: RwSignal::new(None),
        step_up: StepUp::new(),
    };
    // A listing refused for want of a fresh code asks for it, then lists again.
    Effect::new(move |_| {
        let Some(Err(e)) = listing.get() else {
            return;
        };
        here.step_up.refused(&e, move || async move {
            let target = target.get_untracked()?;
            match api::files_list(&target, &dir.get_untracked()).await {
                Ok(_) => {
                    here.refresh();
                    None
                }
                Err(e) => Some(e),
            }
        });
    });
    // A new directory starts with nothing selected and no stale message.
    Effect::new(move |_| {
        dir.track();
        here.selected.set(BTreeSet::new());
        here.error.set(None);
    });
    let uploads = Uploads::new(here);
    on_cleanup(move || uploads.abort_all());

    move || {
        match target.get() {
        None => view! {
            <section class="page files-page">
                <h1>"Files"</h1>
                <p class="empty" data-testid="files-no-server">
                    "Open Files from an active "
                    <A href="/sessions">"work session"</A>
                    " with the webftp scope: it names the server and the session."
                </p>
            </section>
        }
        .into_any(),
        Some(t) => view! {
            <section class="page files-page" data-testid="files" data-server=t.server.clone()>
                <div class="page-head">
                    <h1>{format!("Files on {}", t.server)}</h1>
                    <span class="meta">
                        {match &t.user {
                            Some(u) => format!("as {u}"),
                            None => "as the agent's default user".to_owned(),
                        }}
                    </span>
                </div>
                <PathBar here=here />
                <Toolbar here=here uploads=uploads />
                <div class="files-messages" aria-live="polite">
                    {move || here.notice.get().map(|n| view! { <p class="notice" data-testid="files-notice">{n}</p> })}
                </div>
                <StepUpPrompt step_up=here.step_up />
                <FileError error=here.error />
                <Listing here=here uploads=uploads />
                <UploadList uploads=uploads />
            </section>
        }
        .into_any(),
    }
    }
}
