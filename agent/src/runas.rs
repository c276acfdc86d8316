//! Who a shell or command runs as, and the environment it gets.
//!
//! As root the agent drops to the target user in the child before exec (supplementary groups,
//! then gid, then uid); as an ordinary user it runs only as itself and says so when asked for
//! anyone else.
#![allow(unsafe_code)]

use gatehouse_shared::agent_link::is_dangerous_env;
use nix::unistd::{Gid, Uid, User};
use std::ffi::CString;
use std::path::PathBuf;

/// A resolved run-as identity.
#[derive(Debug, Clone)]
pub struct RunAs {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub home: PathBuf,
    pub shell: PathBuf,
    /// True when the child must switch to this user (the agent is someone else).
    pub switch: bool,
}

/// Resolves `requested` (or the agent's own user) to a run-as identity; uid 0 only when the
/// gateway says the gate allowed root.
pub fn resolve(requested: Option<&str>, allow_root: bool) -> Result<RunAs, String> {
    let run_as = resolve_user(requested)?;
    if run_as.uid == 0 && !allow_root {
        return Err(format!(
            "running as {} (uid 0) needs a work session with the sudo scope",
            run_as.name
        ));
    }
    Ok(run_as)
}

fn resolve_user(requested: Option<&str>) -> Result<RunAs, String> {
    let me = User::from_uid(Uid::effective())
        .map_err(|e| format!("cannot look up the agent's own user: {e}"))?
        .ok_or("the agent's own user has no passwd entry")?;
    let wanted = match requested.map(str::trim) {
        None | Some("") => return Ok(identity(&me, false, vec![me.gid.as_raw()])),
        Some(name) if name == me.name => return Ok(identity(&me, false, vec![me.gid.as_raw()])),
        Some(name) => name,
    };
    if !Uid::effective().is_root() {
        return Err(format!(
            "this agent runs as {} without root, so it can only run as {}; asked for {wanted}",
            me.name, me.name
        ));
    }
    let user = User::from_name(wanted)
        .map_err(|e| format!("cannot look up user {wanted}: {e}"))?
        .ok_or_else(|| format!("no user {wanted} on this server"))?;
    let cname = CString::new(user.name.clone()).map_err(|_| "user name contains NUL".to_owned())?;
    let groups = nix::unistd::getgrouplist(&cname, user.gid)
        .map_err(|e| format!("cannot list the groups of {wanted}: {e}"))?
        .into_iter()
        .map(Gid::as_raw)
        .collect();
    let switch = user.uid != Uid::effective();
    Ok(identity(&user, switch, groups))
}

fn identity(user: &User, switch: bool, groups: Vec<u32>) -> RunAs {
    RunAs {
        name: user.name.clone(),
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
        groups,
        home: user.dir.clone(),
        shell: if user.shell.as_os_str().is_empty() {
            PathBuf::from("/bin/sh")
        } else {
            user.shell.clone()
        },
        switch,
    }
}

impl RunAs {
    /// The environment a child starts with: a clean login-like set plus the caller's variables,
    /// minus anything that could change what gets executed (`LD_*`, `BASH_ENV`, ...).
    pub fn environment(&self, extra: &[(String, String)]) -> Vec<(String, String)> {
        let lang = std::env::var("LANG").unwrap_or_else(|_| "C.UTF-8".to_owned());
        let mut env = vec![
            ("HOME".to_owned(), self.home.display().to_string()),
            ("USER".to_owned(), self.name.clone()),
            ("LOGNAME".to_owned(), self.name.clone()),
            ("SHELL".to_owned(), self.shell.display().to_string()),
            ("TERM".to_owned(), "xterm-256color".to_owned()),
            ("LANG".to_owned(), lang),
            (
                "PATH".to_owned(),
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned(),
            ),
        ];
        for (key, value) in extra {
            if is_dangerous_env(key) || value.contains('\0') {
                continue;
            }
            env.retain(|(k, _)| k != key);
            env.push((key.clone(), value.clone()));
        }
        env
    }

    /// The working directory: the home directory when it exists, else `/`.
    pub fn cwd(&self) -> PathBuf {
        if self.home.is_dir() {
            self.home.clone()
        } else {
            PathBuf::from("/")
        }
    }

    /// A closure for `pre_exec` that drops to this user; `None` when no switch is needed.
    pub fn privilege_drop(
        &self,
    ) -> Option<impl FnMut() -> std::io::Result<()> + Send + Sync + 'static> {
        if !self.switch {
            return None;
        }
        let groups: Vec<Gid> = self.groups.iter().copied().map(Gid::from_raw).collect();
        let (uid, gid) = (Uid::from_raw(self.uid), Gid::from_raw(self.gid));
        Some(move || {
            // Only raw syscalls here: this runs in the forked child before exec.
            nix::unistd::setgroups(&groups).map_err(std::io::Error::from)?;
            nix::unistd::setgid(gid).map_err(std::io::Error::from)?;
            nix::unistd::setuid(uid).map_err(std::io::Error::from)?;
            Ok(())
        })
    }
}

/// Installs the privilege drop on a tokio command.
pub fn apply_to_command(cmd: &mut tokio::process::Command, run_as: &RunAs) {
    if let Some(drop) = run_as.privilege_drop() {
        // SAFETY: the closure makes only async-signal-safe syscalls (setgroups, setgid, setuid)
        // and touches no locks or allocations shared with the parent.
        unsafe {
            cmd.pre_exec(drop);
        }
    }
}

/// Installs the privilege drop on a PTY command.
pub fn apply_to_pty_command(cmd: pty_process::Command, run_as: &RunAs) -> pty_process::Command {
    match run_as.privilege_drop() {
        // SAFETY: as in `apply_to_command`.
        Some(drop) => unsafe { cmd.pre_exec(drop) },
        None => cmd,
    }
}
