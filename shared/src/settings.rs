//! Workspace settings (`GET/PATCH /api/settings`): the knobs a superuser turns, with their
//! ranges checked here so the server and the console refuse the same values.

use serde::{Deserialize, Serialize};

/// The longest work-session window a workspace may allow (a year); beyond that a "session" is a
/// standing grant, which is what tokens are for.
pub const MAX_SESSION_SECS_LIMIT: i64 = 365 * 24 * 3600;

/// Every workspace setting, as stored and as `GET /api/settings` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settings {
    /// The longest window a work session may have, counted from its start.
    pub max_session_secs: i64,
    /// How long a verified MFA code counts for step-up (60..86400).
    pub mfa_timeout_secs: i64,
    /// Every person must enrol TOTP before using the console.
    pub require_mfa_enrolment: bool,
    /// Operations as root by an interactive sign-in need a recent MFA verification.
    pub require_mfa_for_root: bool,
    /// Root commands matching the session's declared `sudo_commands` skip that step-up.
    pub sudo_mfa_waiver: bool,
    /// How long a CLI sign-in lasts.
    pub cli_signin_ttl_secs: i64,
    /// How far past its approved window a non-superuser may extend their own session without
    /// asking (0: every extension is a request an approver decides).
    pub self_extend_secs: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_session_secs: 24 * 3600,
            mfa_timeout_secs: 900,
            require_mfa_enrolment: false,
            require_mfa_for_root: true,
            sudo_mfa_waiver: false,
            cli_signin_ttl_secs: 12 * 3600,
            self_extend_secs: 0,
        }
    }
}

/// `PATCH /api/settings`: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 60, maximum = 31536000, nullable = false)
    )]
    pub max_session_secs: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 60, maximum = 86400, nullable = false)
    )]
    pub mfa_timeout_secs: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub require_mfa_enrolment: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub require_mfa_for_root: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub sudo_mfa_waiver: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 300, maximum = 2592000, nullable = false)
    )]
    pub cli_signin_ttl_secs: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 0, maximum = 31536000, nullable = false)
    )]
    pub self_extend_secs: Option<i64>,
}

/// One setting a patch changed: recorded in the audit event (`settings.updated`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingChange {
    pub setting: String,
    pub from: serde_json::Value,
    pub to: serde_json::Value,
}

/// A value outside its range: which field, and why in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingRefusal {
    pub field: &'static str,
    pub message: String,
}

fn within(field: &'static str, value: i64, min: i64, max: i64) -> Result<(), SettingRefusal> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(SettingRefusal {
            field,
            message: format!("must be between {min} and {max} seconds"),
        })
    }
}

impl Settings {
    /// The settings after `patch`, and what changed; refused when a value is out of range.
    pub fn patched(
        &self,
        patch: &SettingsPatch,
    ) -> Result<(Settings, Vec<SettingChange>), SettingRefusal> {
        let mut next = self.clone();
        let mut changes = Vec::new();
        macro_rules! set {
            ($field:ident) => {
                if let Some(value) = patch.$field {
                    if value != next.$field {
                        changes.push(SettingChange {
                            setting: stringify!($field).to_owned(),
                            from: serde_json::json!(next.$field),
                            to: serde_json::json!(value),
                        });
                        next.$field = value;
                    }
                }
            };
        }
        set!(max_session_secs);
        set!(mfa_timeout_secs);
        set!(require_mfa_enrolment);
        set!(require_mfa_for_root);
        set!(sudo_mfa_waiver);
        set!(cli_signin_ttl_secs);
        set!(self_extend_secs);
        within(
            "max_session_secs",
            next.max_session_secs,
            60,
            MAX_SESSION_SECS_LIMIT,
        )?;
        within("mfa_timeout_secs", next.mfa_timeout_secs, 60, 86_400)?;
        within(
            "cli_signin_ttl_secs",
            next.cli_signin_ttl_secs,
            300,
            30 * 86_400,
        )?;
        within(
            "self_extend_secs",
            next.self_extend_secs,
            0,
            next.max_session_secs,
        )?;
        Ok((next, changes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_changes_only_what_it_names_and_lists_it() {
        let base = Settings::default();
        let patch = SettingsPatch {
            self_extend_secs: Some(1800),
            sudo_mfa_waiver: Some(false),
            ..Default::default()
        };
        let (next, changes) = base.patched(&patch).unwrap();
        assert_eq!(next.self_extend_secs, 1800);
        assert_eq!(next.max_session_secs, base.max_session_secs);
        // Setting a value to what it already is changes nothing and is not listed.
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].setting, "self_extend_secs");
        assert_eq!(changes[0].from, serde_json::json!(0));
    }

    #[test]
    fn out_of_range_values_are_refused_with_their_field() {
        let base = Settings::default();
        for (patch, field) in [
            (
                SettingsPatch {
                    mfa_timeout_secs: Some(59),
                    ..Default::default()
                },
                "mfa_timeout_secs",
            ),
            (
                SettingsPatch {
                    mfa_timeout_secs: Some(86_401),
                    ..Default::default()
                },
                "mfa_timeout_secs",
            ),
            (
                SettingsPatch {
                    max_session_secs: Some(0),
                    ..Default::default()
                },
                "max_session_secs",
            ),
            (
                SettingsPatch {
                    self_extend_secs: Some(-1),
                    ..Default::default()
                },
                "self_extend_secs",
            ),
            (
                SettingsPatch {
                    cli_signin_ttl_secs: Some(10),
                    ..Default::default()
                },
                "cli_signin_ttl_secs",
            ),
        ] {
            assert_eq!(base.patched(&patch).unwrap_err().field, field);
        }
        // The self-extension allowance can never exceed the longest window.
        let patch = SettingsPatch {
            max_session_secs: Some(3600),
            self_extend_secs: Some(7200),
            ..Default::default()
        };
        assert_eq!(base.patched(&patch).unwrap_err().field, "self_extend_secs");
    }
}
