//! The pure path rules of file operations: what a requested path may look like, how it is
//! normalised (once, lexically), and what "beneath an allowed root" means. Nothing here touches
//! the file system; `fsops` adds the checks that need it (symlinks, canonical roots).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// Longer paths are refused outright (Linux's `PATH_MAX`).
pub const MAX_PATH_BYTES: usize = 4096;

/// How much of a file name the temporary file of a write keeps, so that
/// `.<name>.gatehouse-<16 hex>.tmp` stays within the 255-byte name limit.
const TEMP_NAME_KEEP: usize = 200;

/// Kernel pseudo-file systems: their files may be listed but are never read or written
/// (reads can block, never end, or have side effects).
const PSEUDO_ROOTS: [&str; 3] = ["/proc", "/sys", "/dev"];

/// Checks a requested path and normalises it: absolute, no NUL or control characters, `.` and
/// empty components dropped, `..` popping one component (never above `/`). Percent-encoding is
/// not decoded: the gateway decoded the query once, and decoding again would let `%2e%2e`
/// through as `..` after the checks.
pub fn normalise(raw: &str) -> Result<PathBuf, String> {
    if raw.is_empty() {
        return Err("the path is empty".into());
    }
    if raw.len() > MAX_PATH_BYTES {
        return Err(format!("the path is longer than {MAX_PATH_BYTES} bytes"));
    }
    if raw.chars().any(char::is_control) {
        return Err("the path contains NUL or control characters".into());
    }
    if !raw.starts_with('/') {
        return Err("the path must be absolute".into());
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            name => parts.push(name),
        }
    }
    if parts.is_empty() {
        return Ok(PathBuf::from("/"));
    }
    let mut out = String::with_capacity(raw.len());
    for part in parts {
        out.push('/');
        out.push_str(part);
    }
    Ok(PathBuf::from(out))
}

/// Whether `path` is `root` or lies beneath it. Both must be normalised; the comparison is by
/// whole components, so `/srv/data2` is not beneath `/srv/data`.
pub fn is_beneath(path: &Path, root: &Path) -> bool {
    path.starts_with(root)
}

/// Whether `path` is beneath any of `roots`.
pub fn beneath_any(path: &Path, roots: &[PathBuf]) -> bool {
    roots.iter().any(|root| is_beneath(path, root))
}

/// Splits a normalised path into its directory and final name; `None` for `/`.
pub fn split(path: &Path) -> Option<(&Path, &OsStr)> {
    Some((path.parent()?, path.file_name()?))
}

/// Whether a (canonical) path lies on a kernel pseudo-file system by location.
pub fn is_pseudo(path: &Path) -> bool {
    PSEUDO_ROOTS.iter().any(|p| path.starts_with(p))
}

/// Checks the allowed roots given to `run` (flags or config): absolute, printable, normalised
/// and without duplicates. None given means `/`.
pub fn parse_roots(raw: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut roots: Vec<PathBuf> = Vec::new();
    for root in raw {
        let text = root
            .to_str()
            .ok_or_else(|| format!("file root {} is not UTF-8", root.display()))?;
        let root = normalise(text).map_err(|e| format!("file root {text:?}: {e}"))?;
        if !roots.contains(&root) {
            roots.push(root);
        }
    }
    if roots.is_empty() {
        roots.push(PathBuf::from("/"));
    }
    Ok(roots)
}

/// The name of a write's temporary file beside the destination `name`: hidden, recognisably
/// ours, unique per attempt, and short enough for any file system.
pub fn temp_name(name: &OsStr, random: u64) -> OsString {
    let keep = &name.as_bytes()[..name.len().min(TEMP_NAME_KEEP)];
    let mut out = Vec::with_capacity(keep.len() + 32);
    out.push(b'.');
    out.extend_from_slice(keep);
    out.extend_from_slice(format!(".gatehouse-{random:016x}.tmp").as_bytes());
    OsString::from_vec(out)
}

/// Whether a directory entry name is one of our temporary files (tests use this to prove
/// nothing was left behind).
#[cfg(test)]
pub fn is_temp_name(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with('.') && name.contains(".gatehouse-") && name.ends_with(".tmp")
}

/// True when `path` has only normal components after the root (what `normalise` returns).
#[cfg(test)]
fn is_normal(path: &Path) -> bool {
    path.is_absolute()
        && path
            .components()
            .skip(1)
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_is_lexical_and_never_climbs_above_root() {
        let cases = [
            ("/", "/"),
            ("//", "/"),
            ("/a/b/", "/a/b"),
            ("/a/./b", "/a/b"),
            ("/a//b", "/a/b"),
            ("/a/b/../c", "/a/c"),
            ("/..", "/"),
            ("/../../etc/passwd", "/etc/passwd"),
            ("/a/../../b", "/b"),
            ("/srv/data/..", "/srv"),
            ("/a/%2e%2e/b", "/a/%2e%2e/b"),
            ("/a/...", "/a/..."),
            ("/é/名前", "/é/名前"),
        ];
        for (raw, want) in cases {
            let got = normalise(raw).unwrap();
            assert_eq!(got, Path::new(want), "{raw}");
            assert!(is_normal(&got), "{raw}");
        }
    }

    #[test]
    fn relative_empty_and_control_characters_are_refused() {
        for raw in [
            "",
            "a/b",
            "./a",
            "../a",
            "~/a",
            "/a\0b",
            "/a\nb",
            "/a\rb",
            "/a\tb",
            "/a\x1bb",
            "/a\x7fb",
            "/a\u{85}b",
        ] {
            assert!(normalise(raw).is_err(), "{raw:?}");
        }
        let long = format!("/{}", "a".repeat(MAX_PATH_BYTES));
        assert!(normalise(&long).is_err());
    }

    #[test]
    fn beneath_compares_whole_components() {
        let roots = vec![PathBuf::from("/srv/data"), PathBuf::from("/home/alice")];
        assert!(beneath_any(Path::new("/srv/data"), &roots));
        assert!(beneath_any(Path::new("/srv/data/x/y"), &roots));
        assert!(beneath_any(Path::new("/home/alice/.ssh"), &roots));
        assert!(!beneath_any(Path::new("/srv/data2"), &roots));
        assert!(!beneath_any(Path::new("/srv"), &roots));
        assert!(!beneath_any(Path::new("/"), &roots));
        assert!(beneath_any(Path::new("/anything"), &[PathBuf::from("/")]));
    }

    #[test]
    fn split_and_pseudo_file_systems() {
        assert_eq!(split(Path::new("/")), None);
        assert_eq!(
            split(Path::new("/a/b")),
            Some((Path::new("/a"), OsStr::new("b")))
        );
        assert_eq!(
            split(Path::new("/a")),
            Some((Path::new("/"), OsStr::new("a")))
        );
        for p in ["/proc", "/proc/self/mem", "/sys/kernel", "/dev/zero"] {
            assert!(is_pseudo(Path::new(p)), "{p}");
        }
        for p in ["/procfs", "/srv/proc", "/device", "/"] {
            assert!(!is_pseudo(Path::new(p)), "{p}");
        }
    }

    #[test]
    fn roots_are_checked_normalised_and_default_to_slash() {
        assert_eq!(parse_roots(&[]).unwrap(), vec![PathBuf::from("/")]);
        assert_eq!(
            parse_roots(&[PathBuf::from("/srv/./data/"), PathBuf::from("/srv/data")]).unwrap(),
            vec![PathBuf::from("/srv/data")]
        );
        assert!(parse_roots(&[PathBuf::from("srv")]).is_err());
    }

    #[test]
    fn temp_names_are_hidden_bounded_and_recognisable() {
        let t = temp_name(OsStr::new("notes.txt"), 0xabc);
        assert_eq!(t, OsStr::new(".notes.txt.gatehouse-0000000000000abc.tmp"));
        assert!(is_temp_name(&t));
        let long = "x".repeat(255);
        let t = temp_name(OsStr::new(&long), u64::MAX);
        assert!(t.len() <= 255, "{}", t.len());
        assert!(!is_temp_name(OsStr::new("notes.txt")));
    }
}
