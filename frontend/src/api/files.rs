//! Files' JSON calls (WebFTP and the editor): list, stat, mkdir, rename, delete and the
//! editor's save, through the typed client the CLI uses too, under the target's work session.
//! The transfers the browser streams itself (downloads, uploads with progress) are in `api`.

use super::{client_in, ApiResult, FileState, FileTarget};
use gatehouse_client::api::files::SaveCheck;
use gatehouse_shared::files::{FileEntry, FileListing, TransferResult};

pub async fn files_list(target: &FileTarget, path: &str) -> ApiResult<FileListing> {
    let client = client_in(target.session)?;
    Ok(client.file_list(target.typed(false), path).await?)
}

/// One entry; `editor` marks the editor's own check (the server may gate it as the editor).
pub async fn files_stat(target: &FileTarget, path: &str, editor: bool) -> ApiResult<FileEntry> {
    let client = client_in(target.session)?;
    Ok(client.file_stat(target.typed(editor), path).await?)
}

pub async fn files_mkdir(target: &FileTarget, path: String) -> ApiResult<()> {
    let client = client_in(target.session)?;
    Ok(client.file_mkdir(target.typed(false), &path).await?)
}

pub async fn files_rename(
    target: &FileTarget,
    from: String,
    to: String,
    overwrite: bool,
) -> ApiResult<()> {
    let client = client_in(target.session)?;
    Ok(client
        .file_rename(target.typed(false), &from, &to, overwrite)
        .await?)
}

pub async fn files_delete(target: &FileTarget, path: String) -> ApiResult<()> {
    let client = client_in(target.session)?;
    Ok(client.file_delete(target.typed(false), &path).await?)
}

/// Saves the editor's text: with `since`, the server refuses (409) when the file is no longer in
/// that state (by its version when known, else its modification time); `None` overwrites
/// whatever is there.
pub async fn files_save(
    target: &FileTarget,
    path: &str,
    text: &str,
    since: Option<&FileState>,
) -> ApiResult<TransferResult> {
    let check = match since {
        Some(FileState {
            version: Some(version),
            ..
        }) => SaveCheck::Version(version.clone()),
        Some(FileState {
            mtime: Some(mtime), ..
        }) => SaveCheck::Mtime(*mtime),
        _ => SaveCheck::None,
    };
    let client = client_in(target.session)?;
    Ok(client
        .file_save(target.typed(true), path, text, &check)
        .await?)
}
