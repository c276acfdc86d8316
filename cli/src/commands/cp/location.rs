//! Where a `cp` argument points: a local path, standard input/output (`-`), or a file on a
//! server (`[USER@]SERVER:PATH`, as scp writes it).

use crate::exit::CliError;
use std::path::PathBuf;

/// One side of a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Local(PathBuf),
    /// `-`: standard input as a source, standard output as the destination.
    Stdio,
    Remote(Remote),
}

/// A path on a server, as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub user: Option<String>,
    pub server: String,
    /// Sent as it was written: the server is the one that refuses a bad path.
    pub path: String,
}

impl Location {
    /// Reads one argument. A colon before any slash makes it remote (`./a:b` is a local file
    /// named `a:b`, as with scp).
    pub fn parse(arg: &str) -> Result<Location, CliError> {
        if arg == "-" {
            return Ok(Location::Stdio);
        }
        let remote = match arg.split_once(':') {
            Some((host, _)) if !host.contains('/') => Remote::parse(arg)?,
            _ => return Ok(Location::Local(PathBuf::from(arg))),
        };
        Ok(Location::Remote(remote))
    }
}

impl Remote {
    /// `[USER@]SERVER:PATH`.
    pub fn parse(arg: &str) -> Result<Remote, CliError> {
        let (host, path) = arg
            .split_once(':')
            .ok_or_else(|| CliError::usage(format!("{arg:?} is not SERVER:PATH")))?;
        let (user, server) = match host.split_once('@') {
            Some((user, server)) => (Some(user.to_owned()), server),
            None => (None, host),
        };
        let bad_name = |s: &str| {
            s.is_empty()
                || s.chars()
                    .any(|c| c.is_control() || c.is_whitespace() || "/?#%@".contains(c))
        };
        if bad_name(server) || user.as_deref().is_some_and(bad_name) {
            return Err(CliError::usage(format!(
                "{arg:?}: expected [USER@]SERVER:PATH with a plain server name"
            )));
        }
        if path.is_empty() {
            return Err(CliError::usage(format!(
                "{arg:?}: give the path on the server after the colon"
            )));
        }
        Ok(Remote {
            user,
            server: server.to_owned(),
            path: path.to_owned(),
        })
    }

    /// The same server and account, another path.
    pub fn with_path(&self, path: String) -> Remote {
        Remote {
            path,
            ..self.clone()
        }
    }

    /// `PATH/NAME`.
    pub fn join(&self, name: &str) -> Remote {
        self.with_path(join(&self.path, name))
    }

    /// The last component of the path.
    pub fn name(&self) -> Option<&str> {
        base_name(&self.path)
    }

    /// How it is written in messages.
    pub fn display(&self) -> String {
        match &self.user {
            Some(user) => format!("{user}@{}:{}", self.server, self.path),
            None => format!("{}:{}", self.server, self.path),
        }
    }
}

/// `dir/name` with exactly one slash between.
pub fn join(dir: &str, name: &str) -> String {
    format!("{}/{name}", dir.trim_end_matches('/'))
}

/// The last non-empty component of a slash-separated path.
pub fn base_name(path: &str) -> Option<&str> {
    path.rsplit('/').find(|c| !c.is_empty() && *c != ".")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(user: Option<&str>, server: &str, path: &str) -> Location {
        Location::Remote(Remote {
            user: user.map(str::to_owned),
            server: server.into(),
            path: path.into(),
        })
    }

    #[test]
    fn arguments_are_local_stdio_or_remote_as_scp_reads_them() {
        assert_eq!(Location::parse("-").unwrap(), Location::Stdio);
        assert_eq!(
            Location::parse("./a:b").unwrap(),
            Location::Local("./a:b".into())
        );
        assert_eq!(
            Location::parse("notes.txt").unwrap(),
            Location::Local("notes.txt".into())
        );
        assert_eq!(
            Location::parse("web-01:/srv/a").unwrap(),
            remote(None, "web-01", "/srv/a")
        );
        assert_eq!(
            Location::parse("deploy@web-01:/srv/a").unwrap(),
            remote(Some("deploy"), "web-01", "/srv/a")
        );
        // Paths go to the server as written: it is the one to refuse them.
        assert_eq!(
            Location::parse("web-01:/srv/../etc/shadow").unwrap(),
            remote(None, "web-01", "/srv/../etc/shadow")
        );
    }

    #[test]
    fn malformed_remotes_are_usage_errors() {
        for bad in [
            "web-01:", ":/srv", "@web:/x", "we b:/x", "a@b@c:/x", "we%2f:/x",
        ] {
            let e = Location::parse(bad).unwrap_err();
            assert_eq!(e.exit_code, 2, "{bad}");
        }
    }

    #[test]
    fn joins_and_names() {
        assert_eq!(join("/srv/", "a"), "/srv/a");
        assert_eq!(join("/", "a"), "/a");
        assert_eq!(base_name("/srv/a/"), Some("a"));
        assert_eq!(base_name("/"), None);
        assert_eq!(base_name("dir/./"), Some("dir"));
    }
}
