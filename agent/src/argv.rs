//! Commands given as an argv (no shell): how the program word becomes a file to execute, and
//! the clean environment API tokens' commands start from.
//!
//! The agent resolves a bare program name itself, through a fixed `PATH`, rather than letting
//! anything the gateway or the agent's own environment says decide which file runs.

use crate::runas::RunAs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The only `PATH` argv commands are resolved through, and the one their environment carries.
pub const FIXED_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Checks an argv and finds the file its program word names: an absolute path as it is, a bare
/// name through [`FIXED_PATH`] (the first regular file with an execute bit); a relative path
/// with a `/` is refused, since it would depend on the working directory.
pub fn resolve_program(argv: &[String]) -> Result<PathBuf, String> {
    let Some(word) = argv.first() else {
        return Err("the command has no program to run (an empty argv)".to_owned());
    };
    if word.is_empty() {
        return Err("the command's program name is empty".to_owned());
    }
    // The kernel takes C strings: a NUL would silently cut an argument short.
    if argv.iter().any(|a| a.contains('\0')) {
        return Err("the command's arguments contain a NUL byte".to_owned());
    }
    if word.starts_with('/') {
        return Ok(PathBuf::from(word));
    }
    if word.contains('/') {
        return Err(format!(
            "the program {word:?} is a relative path; give an absolute path or a bare name"
        ));
    }
    FIXED_PATH
        .split(':')
        .map(|dir| Path::new(dir).join(word))
        .find(|candidate| is_executable_file(candidate))
        .ok_or_else(|| format!("the program {word:?} was not found in {FIXED_PATH}"))
}

/// A regular file (symlinks followed, as exec follows them) with at least one execute bit;
/// whether the run-as user may execute it is the kernel's decision at exec.
fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The whole environment of an API token's command: the fixed `PATH`, who it runs as, and a
/// UTF-8 locale. Nothing the gateway sent and nothing of the agent's own environment, so a
/// token cannot steer the program through variables, nor read the agent's.
pub fn clean_environment(run_as: &RunAs) -> Vec<(String, String)> {
    vec![
        ("PATH".to_owned(), FIXED_PATH.to_owned()),
        ("HOME".to_owned(), run_as.home.display().to_string()),
        ("USER".to_owned(), run_as.name.clone()),
        ("LOGNAME".to_owned(), run_as.name.clone()),
        ("LANG".to_owned(), "C.UTF-8".to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn bare_names_resolve_through_the_fixed_path_only() {
        let sh = resolve_program(&argv(&["sh", "-c", "true"])).unwrap();
        let dir = sh.parent().unwrap().to_str().unwrap();
        assert!(FIXED_PATH.split(':').any(|d| d == dir), "{}", sh.display());
        assert!(is_executable_file(&sh));
        let missing = resolve_program(&argv(&["gatehouse-no-such-program"])).unwrap_err();
        assert!(missing.contains("not found"), "{missing}");
    }

    #[test]
    fn only_regular_files_with_an_execute_bit_count() {
        let tmp = tempfile::tempdir().unwrap();
        let plain = tmp.path().join("plain");
        std::fs::write(&plain, b"#!/bin/sh\n").unwrap();
        assert!(!is_executable_file(&plain));
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(is_executable_file(&plain));
        assert!(
            !is_executable_file(tmp.path()),
            "a directory is not a program"
        );
        assert!(!is_executable_file(&tmp.path().join("missing")));
    }

    #[test]
    fn absolute_paths_are_kept_and_relative_ones_refused() {
        assert_eq!(
            resolve_program(&argv(&["/bin/echo", "x"])).unwrap(),
            PathBuf::from("/bin/echo")
        );
        for bad in ["./echo", "bin/echo", "../bin/echo"] {
            let e = resolve_program(&argv(&[bad])).unwrap_err();
            assert!(e.contains("relative"), "{bad}: {e}");
        }
        assert!(resolve_program(&[]).is_err());
        assert!(resolve_program(&argv(&[""])).is_err());
        assert!(resolve_program(&argv(&["echo", "a\0b"])).is_err());
    }

    #[test]
    fn the_clean_environment_names_only_the_account() {
        let run_as = RunAs {
            name: "alice".into(),
            uid: 1000,
            gid: 1000,
            groups: vec![1000],
            home: PathBuf::from("/home/alice"),
            shell: PathBuf::from("/bin/bash"),
            switch: true,
            provisioned: false,
            joined: Vec::new(),
        };
        let env = clean_environment(&run_as);
        let keys: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["PATH", "HOME", "USER", "LOGNAME", "LANG"]);
        assert!(env.contains(&("HOME".into(), "/home/alice".into())));
        assert!(env.contains(&("LANG".into(), "C.UTF-8".into())));
    }
}
