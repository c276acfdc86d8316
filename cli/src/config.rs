//! Profiles: `$XDG_CONFIG_HOME/gatehouse/cli.json` (default `~/.config/gatehouse/cli.json`),
//! mode 0600, replaced atomically (a temporary file in the same folder, synced, renamed), so a
//! crash or a second `gate` never leaves half a file or a credential readable by others.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "default";

/// What the credential is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// An API token (`gh_`, `ghst_`): bypasses work sessions, bounded by its ACLs.
    ApiToken,
    /// A CLI sign-in (`ghs_`): interactive, needs work sessions like the browser.
    Cli,
}

/// One server and how to sign in to it. Its `Debug` never shows the credential.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub url: String,
    pub credential: String,
    pub kind: CredentialKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The username it belongs to, for messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The work session selected with `gate work-session use`.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub work_session: Option<gatehouse_shared::WorkSessionId>,
    /// A PEM CA file to trust for this server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<PathBuf>,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("url", &self.url)
            .field("credential", &"<redacted>")
            .field("kind", &self.kind)
            .field("expires_at", &self.expires_at)
            .field("username", &self.username)
            .field("work_session", &self.work_session)
            .field("ca", &self.ca)
            .finish()
    }
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFile {
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// Where the file lives, from the environment.
pub fn path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })?;
    Some(base.join("gatehouse").join("cli.json"))
}

impl ConfigFile {
    /// Reads the file; a missing one is empty.
    pub fn load(path: &Path) -> io::Result<Self> {
        match fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} is not a gate profile file: {e}", path.display()),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(ConfigFile::default()),
            Err(e) => Err(e),
        }
    }

    /// Writes the file atomically with mode 0600 (its folder 0700 when created).
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let dir = path
            .parent()
            .ok_or_else(|| io::Error::other("the profile file has no folder"))?;
        if !dir.exists() {
            fs::create_dir_all(dir)?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        }
        let bytes = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("cli.json");
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let written = (|| {
            // Created 0600 from the start: the secret is never readable by others, not even
            // for a moment before a chmod.
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            file.write_all(&bytes)?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            fs::rename(&tmp, path)?;
            // The rename is durable once the folder is.
            fs::File::open(dir)?.sync_all()
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(secret: &str) -> Profile {
        Profile {
            url: "https://gate.example.com".into(),
            credential: secret.into(),
            kind: CredentialKind::Cli,
            expires_at: None,
            username: Some("mia".into()),
            work_session: None,
            ca: None,
        }
    }

    #[test]
    fn the_file_is_written_whole_with_mode_0600_and_no_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gatehouse").join("cli.json");
        let mut config = ConfigFile::default();
        config
            .profiles
            .insert(DEFAULT_PROFILE.into(), profile("ghs_one"));
        config.save(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
        assert_eq!(ConfigFile::load(&path).unwrap(), config);

        // Replacing keeps the mode, even over a file someone loosened, and leaves no temp file.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        config.profiles.insert("work".into(), profile("ghs_two"));
        config.save(&path).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(ConfigFile::load(&path).unwrap().profiles.len(), 2);
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["cli.json"]);
    }

    #[test]
    fn a_missing_file_is_empty_and_a_broken_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cli.json");
        assert_eq!(ConfigFile::load(&path).unwrap(), ConfigFile::default());
        fs::write(&path, b"{not json").unwrap();
        assert!(ConfigFile::load(&path).is_err());
    }

    #[test]
    fn debug_output_never_shows_the_credential() {
        let text = format!("{:?}", profile("ghs_very-secret"));
        assert!(!text.contains("very-secret"), "{text}");
    }

    #[test]
    fn the_selected_session_is_stored_as_use() {
        let mut p = profile("ghs_x");
        p.work_session = Some(gatehouse_shared::WorkSessionId(uuid::Uuid::nil()));
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["use"], "00000000-0000-0000-0000-000000000000");
        assert_eq!(v["kind"], "cli");
    }
}
