//! Signal dispositions the agent's shells and commands start with: always the defaults, whatever
//! the agent itself was started ignoring.
//!
//! An ignored signal stays ignored across `exec`, so an agent started where SIGINT and SIGQUIT
//! are ignored (a background job of a script, which is how `scripts/run.sh` and CI start it) or
//! SIGHUP is (`nohup`) would hand that to every shell and command it runs: Ctrl-C in a terminal
//! would then do nothing. A caught signal, by contrast, is reset to its default by `exec`. So at
//! start-up the agent swaps each such ignore for a handler that does nothing
//! ([`catch_ignored_signals`]): it still carries on through them, and its children start clean
//! with no set-up hook, which keeps spawning on `posix_spawn`. The reset in the child
//! ([`default_signals`]) stays as the fallback for whatever could not be swapped.
#![allow(unsafe_code)]

use nix::sys::signal::{sigaction, signal, SaFlags, SigAction, SigHandler, SigSet, Signal};

/// Does nothing: the agent goes on as if the signal were ignored, and `exec` gives the child
/// the default action.
extern "C" fn carry_on(_: nix::libc::c_int) {}

/// Replaces every inheritable ignore (see [`inheritable`]) with the do-nothing handler. Called
/// once at start-up, before the runtime and its threads exist.
pub fn catch_ignored_signals() {
    let Some(mask) = own_ignored() else { return };
    let handler = SigAction::new(
        SigHandler::Handler(carry_on),
        // Interrupted system calls resume by themselves, as they would for an ignored signal.
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in Signal::iterator() {
        let bit = 1u64 << (sig as i32 - 1);
        if mask & bit == 0 || !inheritable(bit) {
            continue;
        }
        // SAFETY: installs a handler that touches nothing, so it is async-signal-safe; no other
        // thread is running yet to race on the disposition.
        if let Err(e) = unsafe { sigaction(sig, &handler) } {
            tracing::warn!(signal = %sig, error = %e, "cannot stop ignoring a signal; commands reset it themselves");
        }
    }
}

/// Gives every catchable signal its default action, in a forked child before `exec`. Handlers
/// need no reset, `exec` drops them, and the standard library already clears the signal mask.
pub fn default_signals() -> std::io::Result<()> {
    for sig in Signal::iterator() {
        if matches!(sig, Signal::SIGKILL | Signal::SIGSTOP) {
            continue;
        }
        // SAFETY: installs the default action, no handler; `sigaction` is async-signal-safe.
        unsafe { signal(sig, SigHandler::SigDfl) }.map_err(std::io::Error::from)?;
    }
    Ok(())
}

/// The signals a process ignores, from its `SigIgn` mask in `/proc/PID/status`.
fn ignored(status: &str) -> Option<u64> {
    mask(status, "SigIgn:")
}

/// A signal mask line (`SigIgn:`, `SigCgt:`) of a `/proc/PID/status`.
fn mask(status: &str, line: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(line))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
}

/// What this process ignores now; `None` without /proc.
fn own_ignored() -> Option<u64> {
    ignored(&std::fs::read_to_string("/proc/self/status").ok()?)
}

/// Whether this process ignores a standard signal (1–31) its children would inherit. SIGPIPE
/// does not count: the runtime ignores it for itself, and the standard library resets it in
/// every child; nor do the real-time signals the C library keeps for itself (32, 33).
pub fn passes_on_ignored_signals() -> bool {
    // Without /proc, assume the worst and reset in the child.
    own_ignored().is_none_or(inheritable)
}

/// Whether a `SigIgn` mask holds a standard signal other than SIGPIPE.
fn inheritable(mask: u64) -> bool {
    let standard = (1u64 << 31) - 1;
    let sigpipe = 1u64 << (nix::libc::SIGPIPE - 1);
    mask & standard & !sigpipe != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runas::{apply_to_command, resolve_user};

    #[test]
    fn only_standard_signals_other_than_sigpipe_need_a_reset() {
        // What a Rust program under glibc ignores by itself: SIGPIPE and signals 32 and 33.
        assert!(!inheritable(0x1_8000_1000));
        assert!(!inheritable(0));
        // SIGINT (a script's background job) and SIGHUP (`nohup`).
        assert!(inheritable(0x1_8000_1002));
        assert!(inheritable(1));
    }

    /// SIGINT, as the child of `cmd` starts with it: whether it is ignored.
    async fn child_ignores_sigint(mut cmd: tokio::process::Command) -> bool {
        let out = cmd.output().await.expect("run cat");
        let status = String::from_utf8_lossy(&out.stdout);
        ignored(&status).expect("a SigIgn line") & sigint() != 0
    }

    fn sigint() -> u64 {
        1u64 << (Signal::SIGINT as i32 - 1)
    }

    fn own(line: &str) -> u64 {
        mask(&std::fs::read_to_string("/proc/self/status").unwrap(), line).expect(line)
    }

    /// One test, as the dispositions belong to the whole test process.
    #[tokio::test]
    async fn commands_start_with_default_signals_whatever_the_agent_ignores() {
        // SAFETY: ignoring SIGINT in this test process installs no handler.
        unsafe { signal(Signal::SIGINT, SigHandler::SigIgn) }.unwrap();
        let run_as = resolve_user(None).unwrap_or_else(|_| panic!("the agent's own user"));
        let command = || {
            let mut cmd = tokio::process::Command::new("cat");
            cmd.arg("/proc/self/status");
            apply_to_command(&mut cmd, &run_as);
            cmd
        };

        // Ignored: the child's hook resets it.
        assert!(passes_on_ignored_signals());
        assert!(!child_ignores_sigint(command()).await);
        assert_ne!(own("SigIgn:") & sigint(), 0, "only the child changed");

        // Caught by the do-nothing handler: no hook is needed, and exec resets it all the same.
        catch_ignored_signals();
        assert_eq!(own("SigIgn:") & sigint(), 0);
        assert_ne!(own("SigCgt:") & sigint(), 0);
        assert!(!passes_on_ignored_signals());
        assert!(!child_ignores_sigint(command()).await);
        // And the process carries on through one.
        nix::sys::signal::raise(Signal::SIGINT).unwrap();
        assert!(!child_ignores_sigint(command()).await);
    }
}
