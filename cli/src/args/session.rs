//! `work-session` and `approval` verbs.

use clap::{Args, Subcommand};
use gatehouse_shared::{Scope, WorkSessionId};
use uuid::Uuid;

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Request a work session (a superuser's own is approved at once).
    Create(CreateArgs),
    /// List work sessions.
    #[command(visible_alias = "list")]
    Ls {
        /// `active` (the server's default), `all`, or a comma list of statuses.
        #[arg(long)]
        status: Option<String>,
        /// `me`, `all`, or a username.
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        server: Option<String>,
        #[arg(long)]
        scope: Option<Scope>,
        /// Text in the purpose.
        #[arg(long)]
        query: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Show one work session (default: the selected one).
    #[command(visible_alias = "show")]
    Describe { id: Option<WorkSessionId> },
    /// The work session calls use now.
    Current,
    /// Select the work session later calls use (stored in the profile).
    Use {
        #[arg(required_unless_present = "unset")]
        id: Option<WorkSessionId>,
        /// Forget the selection.
        #[arg(long, conflicts_with = "id")]
        unset: bool,
    },
    /// Start an approved session (the assignee).
    Activate { id: Option<WorkSessionId> },
    /// Finish a session early.
    Complete { id: Option<WorkSessionId> },
    /// Push the expiry back (beyond the allowance it waits for a superuser: exit 4).
    Extend {
        id: Option<WorkSessionId>,
        /// How much longer, such as `30m` or `2h`.
        #[arg(
            long = "by",
            conflicts_with = "until",
            required_unless_present = "until"
        )]
        by: Option<String>,
        /// A new expiry (RFC 3339).
        #[arg(long)]
        until: Option<String>,
    },
    /// Withdraw a pending request (the requester).
    Cancel { id: Option<WorkSessionId> },
    /// Approve a request (superusers; `--scope`/`--server` narrow it).
    Approve {
        id: WorkSessionId,
        #[arg(long)]
        reason: Option<String>,
        /// Keep only these scopes.
        #[arg(long, value_delimiter = ',')]
        scope: Vec<Scope>,
        /// Keep only these servers.
        #[arg(long, value_delimiter = ',')]
        server: Vec<String>,
    },
    /// Reject a request (superusers).
    Reject {
        id: WorkSessionId,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Revoke an approved or active session (superusers).
    Revoke {
        id: WorkSessionId,
        #[arg(long)]
        reason: Option<String>,
    },
    /// What happened in a session, in order.
    Timeline { id: Option<WorkSessionId> },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Why: what you intend to do.
    #[arg(long)]
    pub purpose: String,
    /// Access types (repeatable or a comma list): websh, command, webftp, tunnel, sudo, editor.
    #[arg(long, value_delimiter = ',', required = true)]
    pub scope: Vec<Scope>,
    /// Server names (repeatable or a comma list).
    #[arg(long, value_delimiter = ',', required = true)]
    pub server: Vec<String>,
    /// How long, such as `1h` or `90m`.
    #[arg(long, conflicts_with = "expires_at")]
    pub expires_in: Option<String>,
    /// When it ends (RFC 3339).
    #[arg(long)]
    pub expires_at: Option<String>,
    /// When it starts (RFC 3339; default: on approval).
    #[arg(long)]
    pub starts_at: Option<String>,
    /// A root command pattern to declare (repeatable; implies the sudo scope).
    #[arg(long = "sudo")]
    pub sudo: Vec<String>,
    /// A port tunnels may reach (repeatable).
    #[arg(long = "tunnel-port")]
    pub tunnel_port: Vec<u16>,
    /// Request it for someone else (username).
    #[arg(long)]
    pub assignee: Option<String>,
    /// Select it for later calls once usable.
    #[arg(long = "use")]
    pub use_it: bool,
    /// Follow the request until it is decided (exit 4 if still pending, 6 if refused).
    #[arg(long)]
    pub wait: bool,
    /// How long `--wait` waits, such as `10m` (default 15m).
    #[arg(long, requires = "wait")]
    pub wait_approval: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ApprovalCommand {
    /// The queue (superusers see every request, others their own).
    #[command(visible_alias = "list")]
    Ls {
        /// `pending` (default), `all`, or a comma list.
        #[arg(long)]
        status: Option<String>,
        /// `work_session`, `extension` or `command`.
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// One approval; `--wait` follows it until decided.
    #[command(visible_alias = "show")]
    Describe {
        id: Uuid,
        #[arg(long)]
        wait: bool,
        /// How long `--wait` waits (default 15m).
        #[arg(long, requires = "wait")]
        timeout: Option<String>,
    },
    /// Approve (superusers, never their own request).
    Approve {
        id: Uuid,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Reject (superusers).
    Reject {
        id: Uuid,
        #[arg(long)]
        reason: Option<String>,
    },
}
