//! The path bar (breadcrumbs and an editable path) and the toolbar with its panels: new folder,
//! rename (with the overwrite prompt on a conflict) and delete (after a confirmation).

use super::upload::Uploads;
use super::{paths, Here};
use crate::api::{self, ApiError};
use crate::components::{PathForm, StepUp};
use leptos::html::Input;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

/// Breadcrumbs, and the current path as a field to type another into.
#[component]
pub fn PathBar(here: Here) -> impl IntoView {
    let navigate = use_navigate();
    let typed = RwSignal::new(String::new());
    Effect::new(move |_| typed.set(here.dir.get()));
    let open = move || {
        let path = paths::normalize(&typed.get_untracked());
        navigate(&here.href(&path), Default::default());
    };
    view! {
        <div class="files-path">
            <nav class="crumbs" aria-label="Current directory">
                {move || {
                    let crumbs = paths::crumbs(&here.dir.get());
                    let last = crumbs.len() - 1;
                    crumbs
                        .into_iter()
                        .enumerate()
                        .map(|(i, (label, path))| {
                            view! {
                                <A
                                    href=here.href(&path)
                                    attr:data-testid="crumb"
                                    attr:aria-current=(i == last).then_some("location")
                                >
                                    {label}
                                </A>
                            }
                        })
                        .collect_view()
                }}
            </nav>
            <PathForm
                testid="path-form"
                input_id="files-path"
                label="Path"
                button="Go"
                typed=typed
                on_open=open
            />
        </div>
    }
}

/// What the panel under the toolbar asks for.
#[derive(Debug, Clone, PartialEq)]
enum Panel {
    None,
    Mkdir,
    Rename {
        from: String,
    },
    /// The rename's destination exists: replace it?
    Replace {
        from: String,
        to: String,
        why: String,
    },
    Delete(Vec<String>),
}

#[component]
pub fn Toolbar(here: Here, uploads: Uploads) -> impl IntoView {
    let panel = RwSignal::new(Panel::None);
    let busy = RwSignal::new(false);
    let picker = NodeRef::<Input>::new();
    let count = move || here.selected.with(|s| s.len());
    // Panels belong to the directory they were opened in.
    Effect::new(move |_| {
        here.dir.track();
        panel.set(Panel::None);
    });

    let pick = move |_| {
        if let Some(input) = picker.get() {
            input.click();
        }
    };
    let chosen = move |_| {
        let Some(input) = picker.get() else {
            return;
        };
        if let Some(files) = input.files() {
            uploads.add_list(&files);
        }
        // Cleared, so choosing the same file again still fires `change`.
        input.set_value("");
    };
    let rename = move |_| {
        let from = here.selected.with(|s| s.iter().next().cloned());
        if let Some(from) = from {
            panel.set(Panel::Rename { from });
        }
    };
    let delete = move |_| {
        let names: Vec<String> = here.selected.with(|s| s.iter().cloned().collect());
        if !names.is_empty() {
            panel.set(Panel::Delete(names));
        }
    };

    view! {
        <div class="files-toolbar" role="toolbar" aria-label="File actions">
            <button class="primary" data-action="upload" on:click=pick>"Upload…"</button>
            <input
                type="file"
                multiple
                class="visually-hidden"
                tabindex="-1"
                aria-label="Files to upload"
                data-testid="upload-input"
                node_ref=picker
                on:change=chosen
            />
            <button data-action="mkdir" on:click=move |_| panel.set(Panel::Mkdir)>"New folder"</button>
            <button data-action="rename" disabled=move || count() != 1 on:click=rename>"Rename"</button>
            <button class="danger" data-action="delete" disabled=move || count() == 0 on:click=delete>
                "Delete"
            </button>
            <button data-action="refresh" on:click=move |_| here.refresh()>"Refresh"</button>
            <span class="meta" aria-live="polite">
                {move || match count() {
                    0 => String::new(),
                    n => format!("{n} selected"),
                }}
            </span>
        </div>
        {move || match panel.get() {
            Panel::None => ().into_any(),
            Panel::Mkdir => view! { <NameForm here=here panel=panel busy=busy from=None /> }.into_any(),
            Panel::Rename { from } => {
                view! { <NameForm here=here panel=panel busy=busy from=Some(from) /> }.into_any()
            }
            Panel::Replace { from, to, why } => {
                view! { <ReplacePrompt here=here panel=panel busy=busy from=from to=to why=why /> }
                    .into_any()
            }
            Panel::Delete(names) => {
                view! { <DeleteConfirm here=here panel=panel busy=busy names=names /> }.into_any()
            }
        }}
    }
}

/// Focuses `input` once it is in the page (a panel just opened).
fn focus_when_shown(input: NodeRef<Input>, select: bool) {
    Effect::new(move |_| {
        if let Some(el) = input.get() {
            let _ = el.focus();
            if select {
                el.select();
            }
        }
    });
}

/// Closes the panel on Escape.
fn escape_closes(panel: RwSignal<Panel>) -> impl Fn(web_sys::KeyboardEvent) + Copy {
    move |ev: web_sys::KeyboardEvent| {
        if ev.key() == "Escape" {
            panel.set(Panel::None);
        }
    }
}

/// Runs one operation against the page's target, with the toolbar marked busy meanwhile. The
/// operation reports its own outcome, except a refusal that wants a fresh code (root), which it
/// returns: the code is asked for in place and the operation runs again.
fn run<F, Fut>(here: Here, busy: RwSignal<bool>, op: F)
where
    F: Fn(api::FileTarget) -> Fut + 'static,
    Fut: std::future::Future<Output = Option<ApiError>> + 'static,
{
    let Some(target) = here.target.get_untracked() else {
        return;
    };
    let op = std::rc::Rc::new(op);
    here.step_up.run(move || {
        let (op, target) = (op.clone(), target.clone());
        async move {
            busy.set(true);
            let outcome = op(target).await;
            busy.set(false);
            outcome
        }
    });
}

/// Renames `from` (or replaces `to` when `overwrite`); a conflict opens the replace prompt.
fn rename(
    here: Here,
    panel: RwSignal<Panel>,
    busy: RwSignal<bool>,
    from: String,
    to: String,
    overwrite: bool,
) {
    let (from_path, to_path) = (here.path_of(&from), here.path_of(&to));
    run(here, busy, move |target| {
        let (from_path, to_path) = (from_path.clone(), to_path.clone());
        let (from, to) = (from.clone(), to.clone());
        async move {
            match api::files_rename(&target, from_path, to_path, overwrite).await {
                Ok(()) => {
                    panel.set(Panel::None);
                    here.selected.update(|s| {
                        s.remove(&from);
                    });
                    here.refresh();
                    here.report(Ok(format!("Renamed {from} to {to}.")));
                }
                Err(e) if e.status == 409 && !overwrite => {
                    here.error.set(None);
                    panel.set(Panel::Replace {
                        from,
                        to,
                        why: e.to_string(),
                    });
                }
                Err(e) if StepUp::takes(&e) => return Some(e),
                Err(e) => here.report(Err(e)),
            }
            None
        }
    });
}

/// The name field of "New folder" (`from: None`) and "Rename" (`from: Some(old name)`).
#[component]
fn NameForm(
    here: Here,
    panel: RwSignal<Panel>,
    busy: RwSignal<bool>,
    from: Option<String>,
) -> impl IntoView {
    let name = RwSignal::new(from.clone().unwrap_or_default());
    let problem = RwSignal::new(None::<&'static str>);
    let input = NodeRef::<Input>::new();
    focus_when_shown(input, from.is_some());
    let (label, action, testid, button) = match &from {
        None => (
            "New folder name".to_owned(),
            "confirm-mkdir",
            "mkdir-form",
            "Create",
        ),
        Some(old) => (
            format!("New name for {old}"),
            "confirm-rename",
            "rename-form",
            "Rename",
        ),
    };
    let submit = move |ev: web_sys::SubmitEvent| {
        ev.prevent_default();
        let new = name.get_untracked().trim().to_owned();
        problem.set(paths::name_problem(&new));
        if problem.get_untracked().is_some() || from.as_ref() == Some(&new) {
            return;
        }
        match from.clone() {
            Some(old) => rename(here, panel, busy, old, new, false),
            None => mkdir(here, panel, busy, new),
        }
    };
    view! {
        <form class="files-panel" data-testid=testid on:submit=submit on:keydown=escape_closes(panel)>
            <label>
                {label}
                <input name="new-name" autocomplete="off" node_ref=input bind:value=name />
            </label>
            {move || problem.get().map(|p| view! { <span class="field-error">{p}</span> })}
            <div class="buttons">
                <button type="submit" class="primary" data-action=action disabled=move || busy.get()>
                    {button}
                </button>
                <button type="button" on:click=move |_| panel.set(Panel::None)>"Cancel"</button>
            </div>
        </form>
    }
}

/// Creates the folder `name` in the current directory.
fn mkdir(here: Here, panel: RwSignal<Panel>, busy: RwSignal<bool>, name: String) {
    let path = here.path_of(&name);
    run(here, busy, move |target| {
        let (path, name) = (path.clone(), name.clone());
        async move {
            let result = api::files_mkdir(&target, path).await;
            match result {
                Err(e) if StepUp::takes(&e) => return Some(e),
                Ok(()) => {
                    panel.set(Panel::None);
                    here.refresh();
                }
                Err(_) => {}
            }
            here.report(result.map(|_| format!("Created the folder {name}.")));
            None
        }
    });
}

#[component]
fn ReplacePrompt(
    here: Here,
    panel: RwSignal<Panel>,
    busy: RwSignal<bool>,
    from: String,
    to: String,
    why: String,
) -> impl IntoView {
    let (f, t) = (from.clone(), to.clone());
    let replace = move |_| rename(here, panel, busy, f.clone(), t.clone(), true);
    view! {
        <div class="files-panel conflict" role="alertdialog" aria-labelledby="replace-title" data-testid="overwrite-prompt" on:keydown=escape_closes(panel)>
            <p id="replace-title"><strong>{format!("{to} already exists. Replace it with {from}?")}</strong></p>
            <p class="meta">{why}</p>
            <div class="buttons">
                <button class="danger" data-action="confirm-overwrite" disabled=move || busy.get() on:click=replace>
                    "Replace"
                </button>
                <button data-action="cancel-overwrite" on:click=move |_| panel.set(Panel::None)>"Cancel"</button>
            </div>
        </div>
    }
}

#[component]
fn DeleteConfirm(
    here: Here,
    panel: RwSignal<Panel>,
    busy: RwSignal<bool>,
    names: Vec<String>,
) -> impl IntoView {
    let title = match names.as_slice() {
        [one] => format!("Delete {one}?"),
        many => format!("Delete these {} items?", many.len()),
    };
    let listed = names.clone();
    let confirm = move |_| {
        // Paths now: the directory shown may change while the deletions run.
        let targets: Vec<(String, String)> =
            names.iter().map(|n| (n.clone(), here.path_of(n))).collect();
        let targets = std::rc::Rc::new(targets);
        run(here, busy, move |target| {
            let targets = targets.clone();
            async move {
                let mut deleted = 0;
                let mut failure: Option<ApiError> = None;
                for (name, path) in targets.iter() {
                    match api::files_delete(&target, path.clone()).await {
                        Ok(()) => {
                            deleted += 1;
                            here.selected.update(|s| {
                                s.remove(name);
                            });
                        }
                        // Nothing goes without the code: ask for it, then try them all again.
                        Err(e) if StepUp::takes(&e) => return Some(e),
                        // The rest may still go; the first refusal is the one shown.
                        Err(e) => {
                            failure.get_or_insert(e);
                        }
                    }
                }
                panel.set(Panel::None);
                here.refresh();
                here.report(match failure {
                    None => Ok(match deleted {
                        1 => "Deleted 1 item.".to_owned(),
                        n => format!("Deleted {n} items."),
                    }),
                    Some(e) => Err(e),
                });
                None
            }
        });
    };
    let cancel = NodeRef::<leptos::html::Button>::new();
    // Cancel has the focus first: Enter right away must not delete.
    Effect::new(move |_| {
        if let Some(b) = cancel.get() {
            let _ = b.focus();
        }
    });
    view! {
        <div class="files-panel danger-zone" role="alertdialog" aria-labelledby="delete-title" data-testid="delete-confirm" on:keydown=escape_closes(panel)>
            <p id="delete-title"><strong>{title}</strong></p>
            <ul class="delete-list">
                {listed.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}
            </ul>
            <p class="meta">"This cannot be undone. Folders must be empty."</p>
            <div class="buttons">
                <button class="danger" data-action="confirm-delete" disabled=move || busy.get() on:click=confirm>
                    "Delete"
                </button>
                <button node_ref=cancel on:click=move |_| panel.set(Panel::None)>"Cancel"</button>
            </div>
        </div>
    }
}
