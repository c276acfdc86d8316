//! Server name patterns such as `web-*` used by group grants.

/// True when `name` matches `pattern`, where `*` matches any run of characters (also none) and `?`
/// exactly one. Matching is case-sensitive, as server names are.
pub fn matches(pattern: &str, name: &str) -> bool {
    // Names and patterns are nearly always ASCII: match their bytes without allocating (token
    // ACL decisions run this against every rule). Otherwise `?` must take a whole character.
    if pattern.is_ascii() && name.is_ascii() {
        return wildcard(pattern.as_bytes(), name.as_bytes());
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    wildcard(&p, &n)
}

/// Iterative wildcard matching with one backtrack point: linear in practice, no recursion.
fn wildcard<T: Copy + PartialEq + Wild>(p: &[T], n: &[T]) -> bool {
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi].one() || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi].any() {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| c.any())
}

/// The two wildcards, for bytes and for characters.
trait Wild {
    fn any(self) -> bool;
    fn one(self) -> bool;
}

impl Wild for u8 {
    fn any(self) -> bool {
        self == b'*'
    }
    fn one(self) -> bool {
        self == b'?'
    }
}

impl Wild for char {
    fn any(self) -> bool {
        self == '*'
    }
    fn one(self) -> bool {
        self == '?'
    }
}

/// A pattern is valid when it is non-empty, at most 128 characters, and uses only characters that
/// can appear in server names plus the two wildcards.
pub fn is_valid_pattern(pattern: &str) -> bool {
    !pattern.is_empty()
        && pattern.len() <= 128
        && pattern
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '*' | '?'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_documented() {
        assert!(matches("web-*", "web-01"));
        assert!(matches("web-*", "web-"));
        assert!(!matches("web-*", "db-01"));
        assert!(matches("*-01", "db-01"));
        assert!(matches("db-0?", "db-07"));
        assert!(!matches("db-0?", "db-070"));
        assert!(matches("*", "anything"));
        assert!(matches("a*b*c", "axxbyyc"));
        assert!(!matches("a*b*c", "axxbyy"));
        assert!(matches("exact", "exact"));
        assert!(!matches("exact", "exactly"));
    }

    #[test]
    fn pattern_validation_rejects_odd_characters() {
        assert!(is_valid_pattern("web-*"));
        assert!(!is_valid_pattern(""));
        assert!(!is_valid_pattern("web/*"));
        assert!(!is_valid_pattern("web *"));
    }
}
