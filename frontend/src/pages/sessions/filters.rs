//! The filter bar's state and its round trip through the URL query.
//!
//! The URL uses the API's own parameter names, so a shared link reproduces the same list and the
//! page can pass its query straight on to `GET /api/work-sessions`.

use gatehouse_shared::{Scope, Status};
use leptos_router::params::ParamsMap;

/// How many sessions the list shows before "Load more" when the URL does not say.
pub const DEFAULT_SHOWN: usize = 100;
/// The most the list loads at once (`?limit=`), in pages of the API's maximum.
pub const MAX_SHOWN: usize = 1000;

/// The filters of the session list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filters {
    /// Empty: the API default (active only).
    pub statuses: Vec<Status>,
    pub user: String,
    pub server: String,
    pub scope: Option<Scope>,
    pub q: String,
    /// RFC 3339, as in the URL.
    pub from: String,
    pub to: String,
    pub limit: Option<usize>,
}

impl Filters {
    /// Reads the filters from the URL query; unknown values are dropped, not guessed.
    pub fn from_query(query: &ParamsMap) -> Self {
        let text = |key: &str| query.get(key).unwrap_or_default().trim().to_owned();
        let statuses = match text("status").as_str() {
            "" => Vec::new(),
            "all" => Status::ALL.to_vec(),
            list => list.split(',').filter_map(|s| s.parse().ok()).collect(),
        };
        Self {
            statuses,
            user: text("user"),
            server: text("server"),
            scope: text("scope").parse().ok(),
            q: text("q"),
            from: text("from"),
            to: text("to"),
            limit: text("limit")
                .parse::<usize>()
                .ok()
                .map(|l| l.clamp(1, MAX_SHOWN)),
        }
    }

    /// The statuses ticked in the bar (the API default `active` when the URL names none).
    pub fn effective_statuses(&self) -> Vec<Status> {
        if self.statuses.is_empty() {
            vec![Status::Active]
        } else {
            self.statuses.clone()
        }
    }

    /// The query pairs, in a stable order, without empty values.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let status = if self.statuses.len() == Status::ALL.len() {
            "all".to_owned()
        } else {
            let names: Vec<&str> = self.statuses.iter().map(|s| s.as_str()).collect();
            names.join(",")
        };
        vec![
            ("status", status),
            ("user", self.user.clone()),
            ("server", self.server.clone()),
            (
                "scope",
                self.scope
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            ),
            ("q", self.q.clone()),
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            (
                "limit",
                self.limit.map(|l| l.to_string()).unwrap_or_default(),
            ),
        ]
    }

    /// How many rows to load before offering "Load more".
    pub fn shown(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_SHOWN)
    }
}
