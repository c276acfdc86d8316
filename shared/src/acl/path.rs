//! File rules: a path normalised once (absolute, `.` and empty components dropped, `..` taken
//! back lexically, never above `/`), then matched component by component: `*` and `?` within
//! one component, a final `**` any depth below. The agent checks the same rule again against
//! the path it actually opens, with symlinks resolved.

use crate::pattern::matches as glob;
use std::borrow::Cow;

/// `path` normalised, or `None` when it is not absolute or holds NUL or a control character.
pub fn normalise(path: &str) -> Option<String> {
    normalised(path).map(Cow::into_owned)
}

/// [`normalise`] borrowing `path` when it is already normal (the usual case for a path a client
/// sends), so a decision allocates nothing for it.
pub fn normalised(path: &str) -> Option<Cow<'_, str>> {
    if !path.starts_with('/') || path.chars().any(char::is_control) {
        return None;
    }
    if is_normal(path) {
        return Some(Cow::Borrowed(path));
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    Some(Cow::Owned(format!("/{}", parts.join("/"))))
}

/// Whether an absolute `path` is exactly what normalising it gives: `/` itself, or components
/// that are neither empty (`//`, a trailing `/`) nor `.` or `..`.
fn is_normal(path: &str) -> bool {
    path == "/"
        || path
            .split('/')
            .skip(1)
            .all(|p| !p.is_empty() && p != "." && p != "..")
}

/// Whether the file pattern `rule` (an absolute path, possibly with wildcards and a final
/// `**`) covers `path`.
pub fn matches(rule: &str, path: &str) -> bool {
    match (normalise(rule), normalise(path)) {
        (Some(rule), Some(path)) => matches_normalised(&rule, &path),
        _ => false,
    }
}

/// [`matches`] for a rule and a path both already normalised (rules are checked when granted,
/// a path is normalised once per decision), without allocating.
pub fn matches_normalised(rule: &str, path: &str) -> bool {
    let mut want = rule.split('/').filter(|p| !p.is_empty()).peekable();
    let mut have = path.split('/').filter(|p| !p.is_empty());
    while let Some(w) = want.next() {
        if w == "**" && want.peek().is_none() {
            return true;
        }
        match have.next() {
            Some(h) if glob(w, h) => {}
            _ => return false,
        }
    }
    have.next().is_none()
}

/// Whether `rule` is a usable file pattern: absolute, no `.`/`..` components, `**` only last.
pub fn is_valid_rule(rule: &str) -> bool {
    rule.starts_with('/')
        && !rule.chars().any(char::is_control)
        && rule
            .split('/')
            .skip(1)
            .all(|p| !p.is_empty() && p != "." && p != "..")
        && !rule.split('/').rev().skip(1).any(|p| p == "**")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_once_and_never_climb_above_root() {
        assert_eq!(
            normalise("/srv//app/./logs/").as_deref(),
            Some("/srv/app/logs")
        );
        assert_eq!(normalise("/srv/app/../../../etc").as_deref(), Some("/etc"));
        assert_eq!(normalise("srv/app"), None);
        assert_eq!(normalise("/srv/\0"), None);
    }

    #[test]
    fn a_normal_path_is_borrowed_and_any_other_rebuilt() {
        for normal in ["/", "/srv", "/srv/app/x.log", "/srv/.hidden/..x"] {
            assert!(
                matches!(normalised(normal), Some(Cow::Borrowed(p)) if p == normal),
                "{normal}"
            );
        }
        for odd in [
            "//",
            "/srv/",
            "/srv//x",
            "/srv/./x",
            "/srv/../x",
            "/.",
            "/..",
        ] {
            assert!(matches!(normalised(odd), Some(Cow::Owned(_))), "{odd}");
        }
    }

    #[test]
    fn components_match_one_by_one_and_double_star_goes_deep() {
        assert!(matches("/srv/app/*.log", "/srv/app/a.log"));
        assert!(!matches("/srv/app/*.log", "/srv/app/sub/a.log"));
        assert!(matches("/srv/app/**", "/srv/app/sub/deep/a.log"));
        assert!(matches("/srv/app/**", "/srv/app"));
        assert!(!matches("/srv/app/**", "/srv/application/x"));
        // Climbing out is seen after normalising.
        assert!(!matches("/srv/app/**", "/srv/app/../../etc/shadow"));
        assert!(matches("/srv/app/**", "/srv/app//x/./y/"));
    }

    #[test]
    fn rules_are_checked_when_granted() {
        assert!(is_valid_rule("/srv/app/**"));
        assert!(is_valid_rule("/srv/*/logs/*.log"));
        for bad in [
            "srv/app",
            "/srv/../etc",
            "/srv/./x",
            "/srv//x",
            "/srv/**/x",
            "/srv/x/",
        ] {
            assert!(!is_valid_rule(bad), "{bad}");
        }
    }
}
