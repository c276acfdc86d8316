//! Paths and names as the file browser handles them: lexical only, since the agent resolves
//! every path itself (and refuses what it must); these helpers only build what the user asked for.

use gatehouse_shared::files::{FileEntry, FileKind};

/// `input` as an absolute path: a leading `/`, no empty or `.` segments, no trailing `/`.
/// `..` is kept as typed: the server refuses it with a clear message, and resolving it here
/// would disagree with the server wherever a symlink is involved.
pub fn normalize(input: &str) -> String {
    let segments: Vec<&str> = input
        .trim()
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    format!("/{}", segments.join("/"))
}

/// `name` inside directory `dir`.
pub fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// The directory holding `path` (the root holds itself).
pub fn parent(path: &str) -> &str {
    match path.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) | None => "/",
        Some((dir, _)) => dir,
    }
}

/// Breadcrumbs of a normalised path: `(label, path)` from the root down.
pub fn crumbs(path: &str) -> Vec<(String, String)> {
    let mut out = vec![("/".to_owned(), "/".to_owned())];
    let mut at = String::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        at.push('/');
        at.push_str(segment);
        out.push((segment.to_owned(), at.clone()));
    }
    out
}

/// Why `name` cannot be a new file or folder name here, if it cannot.
pub fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("a name is required")
    } else if name == "." || name == ".." {
        Some("this name is reserved")
    } else if name.contains('/') {
        Some("a name cannot contain /")
    } else if name.chars().any(char::is_control) {
        Some("a name cannot contain control characters")
    } else {
        None
    }
}

/// The column a listing is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Size,
    Time,
}

impl SortKey {
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Size => "size",
            SortKey::Time => "time",
        }
    }
}

/// Sorts entries by `key` (descending when `desc`), directories always first as in any file
/// manager; ties fall back to the name so the order is stable between refreshes.
pub fn sort_entries(entries: &mut [FileEntry], key: SortKey, desc: bool) {
    let by_name = |a: &FileEntry, b: &FileEntry| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then_with(|| a.name.cmp(&b.name))
    };
    entries.sort_by(|a, b| {
        let dirs_first = (b.kind == FileKind::Dir).cmp(&(a.kind == FileKind::Dir));
        let ordered = match key {
            SortKey::Name => by_name(a, b),
            SortKey::Size => a.size.cmp(&b.size).then_with(|| by_name(a, b)),
            SortKey::Time => a.mtime.cmp(&b.mtime).then_with(|| by_name(a, b)),
        };
        dirs_first.then(if desc { ordered.reverse() } else { ordered })
    });
}

/// `1.5 MiB`, `512 B`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `rwxr-xr-x` for the permission bits of `mode`.
pub fn mode_string(mode: u32) -> String {
    (0..9)
        .map(|i| {
            let bit = 1 << (8 - i);
            match (mode & bit != 0, i % 3) {
                (false, _) => '-',
                (true, 0) => 'r',
                (true, 1) => 'w',
                (true, _) => 'x',
            }
        })
        .collect()
}

/// A kind as the `data-kind` attribute and screen readers see it.
pub fn kind_str(kind: FileKind) -> &'static str {
    match kind {
        FileKind::File => "file",
        FileKind::Dir => "dir",
        FileKind::Symlink => "symlink",
        FileKind::Other => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, kind: FileKind, size: u64, mtime: i64) -> FileEntry {
        FileEntry {
            name: name.into(),
            kind,
            size,
            mode: 0o644,
            mtime,
            target: None,
        }
    }

    #[test]
    fn normalizes_typed_paths() {
        assert_eq!(normalize(""), "/");
        assert_eq!(normalize("  /var//log/./ "), "/var/log");
        assert_eq!(normalize("srv/app/"), "/srv/app");
        assert_eq!(normalize("/a/../b"), "/a/../b");
    }

    #[test]
    fn joins_and_splits() {
        assert_eq!(join("/", "etc"), "/etc");
        assert_eq!(join("/etc", "hosts"), "/etc/hosts");
        assert_eq!(parent("/etc/hosts"), "/etc");
        assert_eq!(parent("/etc"), "/");
        assert_eq!(parent("/"), "/");
        let crumbs = crumbs("/srv/app");
        let paths: Vec<&str> = crumbs.iter().map(|(_, p)| p.as_str()).collect();
        assert_eq!(paths, ["/", "/srv", "/srv/app"]);
        assert_eq!(crumbs[2].0, "app");
    }

    #[test]
    fn refuses_bad_names() {
        assert!(name_problem("notes.txt").is_none());
        assert!(name_problem("").is_some());
        assert!(name_problem("..").is_some());
        assert!(name_problem("a/b").is_some());
        assert!(name_problem("a\nb").is_some());
    }

    #[test]
    fn sorts_directories_first() {
        let mut list = vec![
            entry("b.txt", FileKind::File, 10, 3),
            entry("zdir", FileKind::Dir, 4096, 1),
            entry("A.txt", FileKind::File, 30, 2),
            entry("adir", FileKind::Dir, 4096, 5),
        ];
        let names = |l: &[FileEntry]| l.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
        sort_entries(&mut list, SortKey::Name, false);
        assert_eq!(names(&list), ["adir", "zdir", "A.txt", "b.txt"]);
        sort_entries(&mut list, SortKey::Size, true);
        assert_eq!(names(&list), ["zdir", "adir", "A.txt", "b.txt"]);
        sort_entries(&mut list, SortKey::Time, false);
        assert_eq!(names(&list), ["zdir", "adir", "A.txt", "b.txt"]);
        sort_entries(&mut list, SortKey::Time, true);
        assert_eq!(names(&list), ["adir", "zdir", "b.txt", "A.txt"]);
    }

    #[test]
    fn formats_sizes_and_modes() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MiB");
        assert_eq!(mode_string(0o755), "rwxr-xr-x");
        assert_eq!(mode_string(0o640), "rw-r-----");
    }
}
