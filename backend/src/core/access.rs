//! Which servers a person may request and see: staff and above every server, members those
//! granted to them directly or through their groups.

use crate::core::state::AppState;
use crate::core::CoreError;
use crate::store::users;
use gatehouse_shared::{pattern, Role, UserId};

/// The server-name patterns `user` may request; `None` means every server (staff and above).
pub async fn allowed_patterns(
    state: &AppState,
    user: UserId,
    role: Role,
) -> Result<Option<Vec<String>>, CoreError> {
    if role.is_staff_or_above() {
        return Ok(None);
    }
    Ok(Some(
        users::server_patterns(&state.db, state.workspace, user).await?,
    ))
}

/// True when `name` is covered by `patterns` (`None` covers everything).
pub fn is_allowed(patterns: &Option<Vec<String>>, name: &str) -> bool {
    patterns
        .as_ref()
        .is_none_or(|list| list.iter().any(|p| pattern::matches(p, name)))
}
