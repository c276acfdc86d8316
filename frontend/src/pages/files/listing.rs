//! The directory listing: sortable columns, a checkbox per row for the toolbar's actions, and
//! the drop zone for uploads. Names come from the server and are rendered as text only.

use super::messages::FileError;
use super::paths::{self, SortKey};
use super::upload::Uploads;
use super::{download, Here};
use crate::components::StepUp;
use gatehouse_shared::files::{FileEntry, FileKind};
use leptos::prelude::*;
use leptos_router::components::A;
use std::collections::BTreeSet;

#[component]
pub fn Listing(here: Here, uploads: Uploads) -> impl IntoView {
    let dragging = RwSignal::new(false);
    let on_dragover = move |ev: web_sys::DragEvent| {
        // Accepting the drag is what makes the drop event fire at all.
        ev.prevent_default();
        if let Some(dt) = ev.data_transfer() {
            dt.set_drop_effect("copy");
        }
        dragging.set(true);
    };
    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(files) = ev.data_transfer().and_then(|dt| dt.files()) {
            uploads.add_list(&files);
        }
    };
    view! {
        <div
            class="file-drop"
            class:dragging=move || dragging.get()
            data-testid="file-drop"
            on:dragover=on_dragover
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
            {move || match here.listing.get() {
                None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                // The step-up prompt above says what to do instead.
                Some(Err(e)) if StepUp::takes(&e) => view! {
                    <p class="loading" data-testid="listing-needs-code">"Waiting for the code…"</p>
                }
                .into_any(),
                Some(Err(e)) => view! {
                    <div data-testid="listing-failed">
                        <FileError error=Signal::derive(move || Some(e.clone())) />
                    </div>
                }
                .into_any(),
                Some(Ok(listing)) => view! { <Table here=here entries=listing.entries /> }.into_any(),
            }}
            <p class="hint">"Drop files here to upload them into this folder."</p>
        </div>
    }
}

/// A sortable column header.
#[component]
fn SortHeader(label: &'static str, key: SortKey, sort: RwSignal<(SortKey, bool)>) -> impl IntoView {
    let state = move || {
        let (by, desc) = sort.get();
        match (by == key, desc) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    };
    let click = move |_| {
        sort.update(|(by, desc)| {
            *desc = *by == key && !*desc;
            *by = key;
        })
    };
    view! {
        <th scope="col" aria-sort=state>
            <button class="sort" data-sort=key.as_str() on:click=click>
                {label}
                <span class="sort-mark" aria-hidden="true">
                    {move || match state() {
                        "ascending" => " ▲",
                        "descending" => " ▼",
                        _ => "",
                    }}
                </span>
            </button>
        </th>
    }
}

#[component]
fn Table(here: Here, entries: Vec<FileEntry>) -> impl IntoView {
    let sort = RwSignal::new((SortKey::Name, false));
    let entries: Vec<FileEntry> = entries
        .into_iter()
        .filter(|e| e.name != "." && e.name != "..")
        .collect();
    let names: BTreeSet<String> = entries.iter().map(|e| e.name.clone()).collect();
    let count = names.len();
    let all_names = names.clone();
    let all = move || {
        count > 0
            && here
                .selected
                .with(|s| all_names.iter().all(|n| s.contains(n)))
    };
    let toggle_all = move |ev: web_sys::Event| {
        let on = event_target_checked(&ev);
        here.selected
            .set(if on { names.clone() } else { BTreeSet::new() });
    };
    let dir = here.dir.get_untracked();
    let parent = (dir != "/").then(|| here.href(paths::parent(&dir)));
    let rows = move || {
        let (key, desc) = sort.get();
        let mut sorted = entries.clone();
        paths::sort_entries(&mut sorted, key, desc);
        sorted
    };
    view! {
        <p class="count" data-testid="file-count">
            {match count {
                1 => "1 entry".to_owned(),
                n => format!("{n} entries"),
            }}
        </p>
        <table class="list files">
            <caption class="visually-hidden">{format!("Contents of {dir}")}</caption>
            <thead>
                <tr>
                    <th scope="col" class="select">
                        <input
                            type="checkbox"
                            aria-label="Select all"
                            prop:checked=all
                            disabled=count == 0
                            on:change=toggle_all
                        />
                    </th>
                    <SortHeader label="Name" key=SortKey::Name sort=sort />
                    <SortHeader label="Size" key=SortKey::Size sort=sort />
                    <SortHeader label="Modified" key=SortKey::Time sort=sort />
                    <th scope="col">"Permissions"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {parent.map(|href| view! {
                    <tr class="parent-row">
                        <td></td>
                        <td colspan="5"><A href=href attr:data-testid="parent-dir">".. (parent folder)"</A></td>
                    </tr>
                })}
                {move || {
                    rows()
                        .into_iter()
                        .map(|entry| view! { <FileRow here=here entry=entry /> })
                        .collect_view()
                }}
            </tbody>
        </table>
        {(count == 0).then(|| view! { <p class="empty" data-testid="empty-dir">"This folder is empty."</p> })}
    }
}

/// `2026-11-24 13:05` (UTC, as everywhere in the console).
fn format_mtime(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

#[component]
fn FileRow(here: Here, entry: FileEntry) -> impl IntoView {
    let name = entry.name.clone();
    let path = here.path_of(&name);
    let (n1, n2) = (name.clone(), name.clone());
    let n3 = name.clone();
    let checked = move || here.selected.with(|s| s.contains(&n1));
    let selected = move || here.selected.with(|s| s.contains(&n3));
    let toggle = move |ev: web_sys::Event| {
        let on = event_target_checked(&ev);
        here.selected.update(|s| {
            if on {
                s.insert(n2.clone());
            } else {
                s.remove(&n2);
            }
        });
    };
    let label = name.clone();
    let name_cell = match entry.kind {
        FileKind::Dir => view! {
            <A href=here.href(&path) attr:class="entry dir">{label}</A>
            <span class="visually-hidden">" (folder)"</span>
        }
        .into_any(),
        // Followed as a directory when clicked; the server decides where it may lead.
        FileKind::Symlink => view! {
            <A href=here.href(&path) attr:class="entry link">{label}</A>
            <span class="meta link-target">
                {format!(" → {}", entry.target.clone().unwrap_or_default())}
            </span>
        }
        .into_any(),
        FileKind::File | FileKind::Other => view! { <span class="entry">{label}</span> }.into_any(),
    };
    let readable = matches!(entry.kind, FileKind::File | FileKind::Symlink);
    let size = match entry.kind {
        FileKind::Dir => String::new(),
        _ => paths::human_size(entry.size),
    };
    let actions = readable.then(|| {
        let (n, p, bytes) = (name.clone(), path.clone(), entry.size);
        view! {
            <button
                data-action="download"
                aria-label=format!("Download {n}")
                on:click=move |_| download::start(here, n.clone(), p.clone(), bytes)
            >
                "Download"
            </button>
            <A href=here.editor_href(&path) attr:class="button" attr:data-action="open-editor" attr:aria-label=format!("Edit {name}")>
                "Edit"
            </A>
        }
    });
    view! {
        <tr
            data-testid="file-row"
            data-name=entry.name.clone()
            data-kind=paths::kind_str(entry.kind)
            class:selected=selected
        >
            <td class="select">
                <input
                    type="checkbox"
                    name="select"
                    aria-label=format!("Select {}", entry.name)
                    prop:checked=checked
                    on:change=toggle
                />
            </td>
            <td class="name">{name_cell}</td>
            <td class="size" title=entry.size.to_string()>{size}</td>
            <td class="mtime">{format_mtime(entry.mtime)}</td>
            <td class="mode"><code>{paths::mode_string(entry.mode)}</code></td>
            <td class="row-actions">{actions}</td>
        </tr>
    }
}
