//! The access types a work session can grant.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One kind of access to a server. A gated operation names the scope it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Websh,
    Command,
    Webftp,
    Tunnel,
    Sudo,
    Editor,
}

impl Scope {
    /// Every scope, in display order.
    pub const ALL: [Scope; 6] = [
        Scope::Websh,
        Scope::Command,
        Scope::Webftp,
        Scope::Tunnel,
        Scope::Sudo,
        Scope::Editor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Websh => "websh",
            Scope::Command => "command",
            Scope::Webftp => "webftp",
            Scope::Tunnel => "tunnel",
            Scope::Sudo => "sudo",
            Scope::Editor => "editor",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of the six scope names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}; expected one of websh, command, webftp, tunnel, sudo, editor")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| UnknownScope(s.to_owned()))
    }
}

/// Renders a scope list the way messages show it: `[command, webftp]`.
pub fn format_scopes(scopes: &[Scope]) -> String {
    let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    format!("[{}]", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_names_round_trip_through_text_and_json() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
            let json = serde_json::to_string(&scope).unwrap();
            assert_eq!(json, format!("\"{}\"", scope.as_str()));
        }
        assert!("root".parse::<Scope>().is_err());
    }
}
