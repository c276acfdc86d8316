//! The `gate` command line's exit codes: a fixed contract that scripts, CI and AI agents branch
//! on, so they live with the error type that decides most of them.

/// Success.
pub const OK: i32 = 0;
/// An error: network, server, or a refusal that is not the gate's.
pub const ERROR: i32 = 1;
/// Bad usage: every parse error, a malformed flag value.
pub const USAGE: i32 = 2;
/// The gate denied the operation (work-session codes, token ACLs, step-up that cannot be answered).
pub const GATE_DENIED: i32 = 3;
/// A human approval is pending (or `--wait` timed out while it was).
pub const PENDING: i32 = 4;
/// The server is busy (429 or 503): try again later.
pub const BUSY: i32 = 5;
/// An approval was decided against the caller (rejected, cancelled, expired, revoked).
pub const DECIDED_AGAINST: i32 = 6;
