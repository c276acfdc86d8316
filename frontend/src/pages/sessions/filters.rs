//! The filter bar's state and its round trip through the URL query.
//!
//! The URL uses the API's own parameter names, so a shared link reproduces the same list and the
//! page's filter maps one to one onto `GET /api/work-sessions`'s.

use crate::api::SessionFilter;
use gatehouse_shared::{Scope, Status};
use leptos_router::params::ParamsMap;

/// How many sessions the list shows before "Load more" when the URL does not say.
pub const DEFAULT_SHOWN: usize = 100;
/// The most the list loads at once (`?limit=`), in pages of the API's maximum.
pub const MAX_SHOWN: usize = 1000;

/// What the list shows when the URL says nothing: one's own sessions that are not finished.
pub const UNFINISHED: [Status; 3] = [Status::Pending, Status::Approved, Status::Active];
/// The `user` filter when the URL names none: sessions one requested or is assigned to.
pub const DEFAULT_USER: &str = "me";

/// The filters of the session list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filters {
    /// Empty: the list's default, [`UNFINISHED`].
    pub statuses: Vec<Status>,
    /// Empty: [`DEFAULT_USER`]; `all` for everyone's.
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

    /// The statuses ticked in the bar ([`UNFINISHED`] when the URL names none).
    pub fn effective_statuses(&self) -> Vec<Status> {
        if self.statuses.is_empty() {
            UNFINISHED.to_vec()
        } else {
            self.statuses.clone()
        }
    }

    /// Whose sessions: [`DEFAULT_USER`] when the URL names nobody.
    pub fn effective_user(&self) -> String {
        if self.user.is_empty() {
            DEFAULT_USER.to_owned()
        } else {
            self.user.clone()
        }
    }

    /// The `status` parameter: `all`, or the effective statuses as a comma list.
    fn status_param(&self) -> String {
        let statuses = self.effective_statuses();
        if statuses.len() == Status::ALL.len() {
            "all".to_owned()
        } else {
            let names: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
            names.join(",")
        }
    }

    /// The API's filter for these, the defaults spelled out as in [`Filters::pairs`]; the limit
    /// and cursor are the caller's, who pages.
    pub fn api_filter(&self) -> SessionFilter {
        let given = |v: &str| Some(v.to_owned()).filter(|v| !v.is_empty());
        SessionFilter {
            status: Some(self.status_param()),
            user: Some(self.effective_user()),
            server: given(&self.server),
            scope: self.scope.map(|s| s.as_str().to_owned()),
            q: given(&self.q),
            from: given(&self.from),
            to: given(&self.to),
            ..SessionFilter::default()
        }
    }

    /// The query pairs, in a stable order, the defaults spelled out (so the API, whose own
    /// default differs, lists the same thing).
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("status", self.status_param()),
            ("user", self.effective_user()),
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
