//! Who a shell or command runs as, and the environment it gets.
//!
//! As root the agent drops to the target user in the child before exec (supplementary groups,
//! then gid, then uid); as an ordinary user it runs only as itself and says so when asked for
//! anyone else.
#![allow(unsafe_code)]

use crate::signals;
use gatehouse_shared::agent_link::is_dangerous_env;
use gatehouse_shared::user::{is_system_account, is_valid_unix_user};
use nix::unistd::{Gid, Uid, User};
use std::ffi::CString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// True when the agent created this account to serve the request.
    pub provisioned: bool,
    /// The groups a created account was added to (empty otherwise).
    pub joined: Vec<String>,
}

/// Whether this agent creates a person's own account on first use (`--provision-users`).
static PROVISIONING: AtomicBool = AtomicBool::new(false);

/// Turns account provisioning on for the life of the process.
pub fn enable_provisioning() {
    PROVISIONING.store(true, Ordering::Relaxed);
}

/// What the gateway asks to run as.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The account; `None` is the agent's own user.
    pub user: Option<&'a str>,
    /// The gate allowed root (the `sudo` scope).
    pub allow_root: bool,
    /// `user` is the person's own account, which may be created when missing.
    pub provision: bool,
    /// Groups a created account joins (the server entry's list; ordinary groups only).
    pub groups: &'a [String],
}

/// Resolves a request to a run-as identity: uid 0 only when the gateway says the gate allowed
/// root; a missing own account created when this agent provisions accounts.
pub fn resolve(request: Request<'_>) -> Result<RunAs, String> {
    let run_as = match resolve_user(request.user) {
        Err(Missing(name)) if request.provision => provision(&name, request.groups)?,
        Err(Missing(name)) => return Err(format!("no user {name} on this server")),
        Err(Failed(message)) => return Err(message),
        Ok(run_as) => run_as,
    };
    let allow_root = request.allow_root;
    if run_as.uid == 0 && !allow_root {
        return Err(format!(
            "running as {} (uid 0) needs a work session with the sudo scope",
            run_as.name
        ));
    }
    Ok(run_as)
}

/// Why a name did not resolve.
pub(crate) enum Unresolved {
    /// There is no such account.
    Missing(String),
    Failed(String),
}
use Unresolved::{Failed, Missing};

impl From<String> for Unresolved {
    fn from(message: String) -> Self {
        Failed(message)
    }
}

impl From<&str> for Unresolved {
    fn from(message: &str) -> Self {
        Failed(message.to_owned())
    }
}

/// Creates `name` as a person's account (locked password, home directory, login shell, its own
/// group) and resolves it. Only when provisioning is on, only as root, never a system account.
fn provision(name: &str, groups: &[String]) -> Result<RunAs, String> {
    if !PROVISIONING.load(Ordering::Relaxed) {
        return Err(format!(
            "your account {name} does not exist on this server: ask an administrator to create \
             it, or to run the agent with --provision-users"
        ));
    }
    if !Uid::effective().is_root() {
        return Err(format!(
            "cannot create the account {name}: this agent does not run as root"
        ));
    }
    if !is_valid_unix_user(name) || is_system_account(name) {
        return Err(format!(
            "will not create the account {name}: not a person's account name"
        ));
    }
    let shell = if std::path::Path::new("/bin/bash").exists() {
        "/bin/bash"
    } else {
        "/bin/sh"
    };
    let status = std::process::Command::new("useradd")
        .args(["--create-home", "--user-group", "--shell", shell])
        .args(["--comment", "created by Gatehouse"])
        .arg(name)
        .status()
        .map_err(|e| format!("cannot run useradd to create {name}: {e}"))?;
    // 9: created meanwhile by another request for the same person; use it.
    if !status.success() && status.code() != Some(9) {
        return Err(format!(
            "useradd could not create the account {name} ({status})"
        ));
    }
    let joined = if status.success() {
        join_groups(name, groups)
    } else {
        Vec::new()
    };
    let mut run_as = match resolve_user(Some(name)) {
        Ok(run_as) => run_as,
        Err(Missing(_)) => return Err(format!("the account {name} vanished after its creation")),
        Err(Failed(message)) => return Err(message),
    };
    run_as.provisioned = status.success();
    run_as.joined = joined;
    if run_as.provisioned {
        tracing::info!(account = name, "created a person's account on first use");
    }
    Ok(run_as)
}

/// The lowest group id of an ordinary group (Debian's and most distributions' `GID_MIN`); the
/// groups below it belong to the system.
const FIRST_ORDINARY_GID: u32 = 1000;

/// Adds a just-created account to those of `groups` that exist and are ordinary groups: never
/// an administrative group (whatever the gateway asks) nor a system one. Returns the groups
/// joined; a refusal or failure is logged and the account stays without it.
fn join_groups(name: &str, groups: &[String]) -> Vec<String> {
    let joinable: Vec<&str> = groups
        .iter()
        .map(String::as_str)
        .filter(|group| {
            let ordinary = gatehouse_shared::server::is_allowed_provision_group(group)
                && nix::unistd::Group::from_name(group)
                    .ok()
                    .flatten()
                    .is_some_and(|g| g.gid.as_raw() >= FIRST_ORDINARY_GID);
            if !ordinary {
                tracing::warn!(account = name, %group, "not adding a created account to this group: it is missing, a system group or an administrative one");
            }
            ordinary
        })
        .collect();
    if joinable.is_empty() {
        return Vec::new();
    }
    let added = std::process::Command::new("usermod")
        .args(["--append", "--groups", &joinable.join(",")])
        .arg(name)
        .status();
    match added {
        Ok(status) if status.success() => joinable.into_iter().map(str::to_owned).collect(),
        other => {
            tracing::warn!(
                account = name,
                ?other,
                "could not add a created account to its groups"
            );
            Vec::new()
        }
    }
}

pub(crate) fn resolve_user(requested: Option<&str>) -> Result<RunAs, Unresolved> {
    let me = User::from_uid(Uid::effective())
        .map_err(|e| format!("cannot look up the agent's own user: {e}"))?
        .ok_or("the agent's own user has no passwd entry")?;
    let wanted = match requested.map(str::trim) {
        None | Some("") => return Ok(identity(&me, false, vec![me.gid.as_raw()])),
        Some(name) if name == me.name => return Ok(identity(&me, false, vec![me.gid.as_raw()])),
        Some(name) => name,
    };
    if !Uid::effective().is_root() {
        return Err(Failed(format!(
            "this agent runs as {} without root, so it can only run as {}; asked for {wanted}",
            me.name, me.name
        )));
    }
    let user = User::from_name(wanted)
        .map_err(|e| format!("cannot look up user {wanted}: {e}"))?
        .ok_or_else(|| Missing(wanted.to_owned()))?;
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
        provisioned: false,
        joined: Vec::new(),
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
            ("PATH".to_owned(), crate::argv::FIXED_PATH.to_owned()),
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

/// What the forked child does before `exec`: default signal actions, then the drop to the
/// run-as user when one is needed.
fn child_setup(run_as: &RunAs) -> impl FnMut() -> std::io::Result<()> + Send + Sync + 'static {
    let mut drop = run_as.privilege_drop();
    move || {
        signals::default_signals()?;
        if let Some(drop) = drop.as_mut() {
            drop()?;
        }
        Ok(())
    }
}

/// Installs the child's set-up (signals, privilege drop) on a tokio command, only when there
/// is something to set up: any `pre_exec` makes the standard library fork the whole agent
/// instead of using `posix_spawn`, and forking a large process (the load-test agent with a
/// thousand links) took milliseconds per command, tripling a 1,000-server fan-out.
pub fn apply_to_command(cmd: &mut tokio::process::Command, run_as: &RunAs) {
    if !run_as.switch && !signals::passes_on_ignored_signals() {
        return;
    }
    // SAFETY: the closure makes only async-signal-safe syscalls (sigaction, setgroups, setgid,
    // setuid) and touches no locks or allocations shared with the parent.
    unsafe {
        cmd.pre_exec(child_setup(run_as));
    }
}

/// Installs the child's set-up on a PTY command.
pub fn apply_to_pty_command(cmd: pty_process::Command, run_as: &RunAs) -> pty_process::Command {
    // SAFETY: as in `apply_to_command`.
    unsafe { cmd.pre_exec(child_setup(run_as)) }
}
