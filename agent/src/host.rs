//! Facts about the machine the agent runs on.

/// The machine's host name, or `unknown`.
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Whether the agent runs as root and so may start shells as other users.
pub fn privileged() -> bool {
    nix::unistd::geteuid().is_root()
}
