//! Terminal recordings: the list, one recording's details and its asciicast text, through the
//! typed client the CLI uses too.

use super::{client, parse_id, ApiResult};
use gatehouse_client::api::recordings::RecordingFilter;
use gatehouse_shared::api::Page;
use gatehouse_shared::recording::Recording;

pub async fn recordings(filter: &RecordingFilter) -> ApiResult<Page<Recording>> {
    Ok(client()?.recordings(filter).await?)
}

/// One recording's details, by the id the page's address holds.
pub async fn recording_info(id: &str) -> ApiResult<Recording> {
    Ok(client()?.recording_info(parse_id(id, "recording")?).await?)
}

/// Terminal `id`'s recording as asciicast text.
pub async fn recording(id: &str) -> ApiResult<String> {
    Ok(client()?.websh_recording(parse_id(id, "terminal")?).await?)
}
