//! Finding recordings: the store's filtered page, turned into the API's `Recording` with its
//! context, the size of its file and, for a search, the text around the match.

use crate::core::gateway::text;
use crate::core::state::AppState;
use crate::core::CoreError;
use crate::store::parse_id;
use crate::store::recordings::{self, RecordingFilter, RecordingRow};
use crate::time::{from_micros, opt_from_micros};
use gatehouse_shared::audit::WebshDetails;
use gatehouse_shared::recording::{Recording, WorkSessionBrief};
use gatehouse_shared::UserRef;
use std::collections::HashMap;

/// One page of recordings, newest first, with how many match in all and the next cursor.
pub async fn list(
    state: &AppState,
    filter: &RecordingFilter,
) -> Result<(Vec<Recording>, i64, Option<(i64, String)>), CoreError> {
    let mut filter = filter.clone();
    let live = match &filter.q {
        Some(q) => search_live(state, &filter, q).await?,
        None => HashMap::new(),
    };
    filter.also_ids = live.keys().cloned().collect();
    let (rows, total, next) = recordings::list(&state.db, state.workspace, &filter).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let size = tokio::fs::metadata(state.recording_path(&row.recording))
            .await
            .ok()
            .map(|m| m.len());
        let live_snippet = live.get(&row.id).cloned();
        let mut item = recording(row, size, filter.q.as_deref())?;
        item.snippet = item.snippet.or(live_snippet);
        items.push(item);
    }
    Ok((items, total, next))
}

/// A live terminal's text is stored only when it closes, so a search reads the recordings of
/// the live terminals it covers (their ends, [`text::FILE_WINDOW`] each). Returns the matching
/// ones with their snippets.
async fn search_live(
    state: &AppState,
    filter: &RecordingFilter,
    q: &str,
) -> Result<HashMap<String, String>, CoreError> {
    let candidates = recordings::live_without_text(&state.db, state.workspace, filter).await?;
    if candidates.is_empty() {
        return Ok(HashMap::new());
    }
    let files: Vec<(String, std::path::PathBuf)> = candidates
        .into_iter()
        .map(|(id, file)| (id, state.recording_path(&file)))
        .collect();
    let q = q.to_owned();
    let found = tokio::task::spawn_blocking(move || {
        files
            .into_iter()
            .filter_map(|(id, path)| {
                let read = text::extract(&path).ok()?;
                let snippet =
                    text::snippet(&read.typed, &q).or_else(|| text::snippet(&read.shown, &q))?;
                Some((id, snippet))
            })
            .collect::<HashMap<_, _>>()
    })
    .await
    .map_err(|_| CoreError::Internal("searching live recordings"))?;
    Ok(found)
}

fn recording(
    row: RecordingRow,
    size: Option<u64>,
    q: Option<&str>,
) -> Result<Recording, CoreError> {
    let id = parse_id(&row.id)?;
    let started_at = from_micros(row.created_at);
    let ended_at = opt_from_micros(row.ended_at);
    // Typed input first: a command is usually what a search looks for.
    let snippet = q.and_then(|q| {
        [row.typed.as_deref(), row.shown.as_deref()]
            .into_iter()
            .flatten()
            .find_map(|t| text::snippet(t, q))
    });
    Ok(Recording {
        id,
        owner: UserRef {
            id: parse_id(&row.user_id)?,
            username: row.username,
        },
        server: row.server_name,
        run_as: row.run_as,
        work_session: match row.work_session_id {
            Some(id) => Some(WorkSessionBrief {
                id: parse_id(&id)?,
                purpose: row.purpose.unwrap_or_default(),
            }),
            None => None,
        },
        started_at,
        ended_at,
        duration_secs: ended_at
            .map(|end| (end - started_at).num_milliseconds().max(0) as f64 / 1000.0),
        exit_code: row.exit_code,
        end_reason: row.end_reason,
        size_bytes: size,
        cols: u16::try_from(row.cols).unwrap_or(80),
        rows: u16::try_from(row.rows).unwrap_or(24),
        recording: WebshDetails::recording_path(id),
        snippet,
    })
}
