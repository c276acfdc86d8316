//! An API token's file rules, enforced again inside the `file-worker` against the paths it
//! really touches, after every symlink is resolved.
//!
//! The gateway matched the rules against the path as requested, which cannot see symlinks: a
//! link inside an allowed folder may point anywhere. So the worker checks the canonical path
//! before it opens anything, and then the path the kernel reports for the descriptor it opened
//! (`/proc/self/fd/N`), which a path swapped between the check and the open cannot fool. The
//! matching language is the gateway's own (`gatehouse_shared::acl::path`).

use super::Failure;
use gatehouse_shared::acl::path::matches;
use gatehouse_shared::files::FileErrorKind::{PermissionDenied, Unsupported};
use std::ffi::OsStr;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// The file patterns an operation is confined to; `None` is no confinement (a work session).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confine(Option<Vec<String>>);

impl Confine {
    pub fn new(rules: Option<Vec<String>>) -> Self {
        Confine(rules)
    }

    /// Whether the (normalised or canonical) `path` is allowed. An empty list allows nothing;
    /// a path that is not UTF-8 cannot match a rule and is refused.
    pub fn admits(&self, path: &Path) -> bool {
        match &self.0 {
            None => true,
            Some(rules) => path
                .to_str()
                .is_some_and(|p| rules.iter().any(|rule| matches(rule, p))),
        }
    }

    /// Refuses `real` (where `shown`, the path as asked for, really leads) unless it is allowed.
    pub fn check(&self, real: &Path, shown: &Path) -> Result<(), Failure> {
        if self.admits(real) {
            return Ok(());
        }
        let message = if real == shown {
            format!("{} is outside the token's file rules", shown.display())
        } else {
            format!(
                "{} resolves to {}, which is outside the token's file rules",
                shown.display(),
                real.display()
            )
        };
        Err(Failure::new(PermissionDenied, message))
    }

    /// Checks where an opened descriptor really is.
    pub fn check_fd(&self, fd: &impl AsRawFd, shown: &Path) -> Result<(), Failure> {
        if self.0.is_none() {
            return Ok(());
        }
        self.check(&fd_path(fd)?, shown)
    }

    /// Checks the entry `name` of an opened directory: what an operation that works on the
    /// entry itself (never following it) touches.
    pub fn check_entry(
        &self,
        dir: &impl AsRawFd,
        name: &OsStr,
        shown: &Path,
    ) -> Result<(), Failure> {
        if self.0.is_none() {
            return Ok(());
        }
        self.check(&fd_path(dir)?.join(name), shown)
    }
}

/// Where the kernel says an open descriptor is. Without /proc that is unknown, and a confined
/// operation fails closed rather than trust a path that may have been swapped.
fn fd_path(fd: &impl AsRawFd) -> Result<PathBuf, Failure> {
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).map_err(|_| {
        Failure::new(
            Unsupported,
            "cannot confirm the path stays within the token's file rules without /proc",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(r: &[&str]) -> Confine {
        Confine::new(Some(r.iter().map(|s| (*s).to_owned()).collect()))
    }

    #[test]
    fn rules_match_as_the_gateway_matches_them() {
        let c = rules(&["/srv/app/**", "/var/log/*.log"]);
        assert!(c.admits(Path::new("/srv/app")));
        assert!(c.admits(Path::new("/srv/app/a/b")));
        assert!(c.admits(Path::new("/var/log/x.log")));
        assert!(!c.admits(Path::new("/var/log/sub/x.log")));
        assert!(!c.admits(Path::new("/srv/application")));
        assert!(!c.admits(Path::new("/etc/shadow")));
        assert!(Confine::default().admits(Path::new("/etc/shadow")));
        assert!(
            !rules(&[]).admits(Path::new("/srv/app")),
            "empty allows nothing"
        );
    }

    #[test]
    fn refusals_name_where_the_path_led() {
        let c = rules(&["/srv/app/**"]);
        let f = c
            .check(Path::new("/etc/shadow"), Path::new("/srv/app/link"))
            .unwrap_err();
        assert_eq!(f.kind, PermissionDenied);
        assert!(
            f.message.contains("resolves to /etc/shadow"),
            "{}",
            f.message
        );
        assert!(c
            .check(Path::new("/srv/app/x"), Path::new("/srv/app/x"))
            .is_ok());
    }

    #[test]
    fn descriptors_are_checked_where_the_kernel_says_they_are() {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        let allowed = base.join("allowed");
        std::fs::create_dir(&allowed).unwrap();
        std::os::unix::fs::symlink(&base, allowed.join("up")).unwrap();
        let c = Confine::new(Some(vec![format!("{}/**", allowed.display())]));
        let inside = std::fs::File::open(&allowed).unwrap();
        c.check_fd(&inside, &allowed).unwrap();
        c.check_entry(&inside, OsStr::new("new"), &allowed.join("new"))
            .unwrap();
        // Opened through the link: the descriptor is the parent, outside the rules.
        let through = std::fs::File::open(allowed.join("up")).unwrap();
        let shown = allowed.join("up");
        assert_eq!(
            c.check_fd(&through, &shown).unwrap_err().kind,
            PermissionDenied
        );
        assert_eq!(
            c.check_entry(&through, OsStr::new("x"), &shown)
                .unwrap_err()
                .kind,
            PermissionDenied
        );
    }
}

#[cfg(test)]
#[path = "confine_tests.rs"]
mod operations;
