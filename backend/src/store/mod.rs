//! The store: SQLite through sqlx (WAL mode, migrations), every query scoped by workspace.
//!
//! Each submodule owns the SQL of one concept; handlers never write SQL themselves.
//!
//! Writes that change state go through [`WriteTx`]: one `BEGIN IMMEDIATE` transaction whose
//! commit takes the audit event of the change, so a change and its event land together or not
//! at all. The few writes that take a plain [`Db`] are bookkeeping that no one audits: failure
//! counters of the throttle, a share link's in-flight attempt, a guest's one-use ticket being
//! spent, a one-time code's step spent against replay, a token's last use, a sign-in's selected
//! work session, a connected server's "last seen", the purge of expired rows, and at start the
//! workspace row and the presence reset.
//!
//! Driver types stay in this module (a test fails on any outside it): callers above see [`Db`],
//! [`WriteTx`] and [`StoreError`], so a second engine is a change in here alone.

pub mod agents;
pub mod approvals;
pub mod audit;
pub mod command_approvals;
pub mod devices;
pub mod exec;
pub mod groups;
pub mod logins;
pub mod recordings;
pub mod servers;
pub mod settings;
pub mod shares;
pub mod throttle;
pub mod token_acl;
pub mod tokens;
pub mod tunnels;
pub mod users;
pub mod websh;
pub mod work_sessions;
mod write;

pub use settings::get as workspace_settings;
pub use write::{StoreError, WriteTx};

use gatehouse_shared::WorkspaceId;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

/// A handle on the database: cheap to clone, shared by every request. What engine is behind it
/// is this module's business alone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: SqlitePool,
}

/// Opens (creating if missing) the database at `url` and applies pending migrations.
pub async fn open(url: &str) -> Result<Db, StoreError> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .min_connections(1)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(Db { pool })
}

/// The name of the workspace a single-tenant installation uses.
pub const DEFAULT_WORKSPACE: &str = "default";

/// Returns the id of the default workspace, creating it on first start.
pub async fn default_workspace(db: &Db) -> Result<WorkspaceId, StoreError> {
    let id = WorkspaceId::new();
    sqlx::query(
        "INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
    )
    .bind(id.to_string())
    .bind(DEFAULT_WORKSPACE)
    .bind(crate::time::to_micros(crate::time::now()))
    .execute(&db.pool)
    .await?;
    let (existing,): (String,) = sqlx::query_as("SELECT id FROM workspaces WHERE name = ?")
        .bind(DEFAULT_WORKSPACE)
        .fetch_one(&db.pool)
        .await?;
    parse_id(&existing)
}

/// Parses an id column; a malformed one means a corrupted row.
pub fn parse_id<T: FromStr>(text: &str) -> Result<T, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("malformed id in database: {text:?}")))
}

/// Escapes `%`, `_` and `\` so user text matches literally inside `LIKE ... ESCAPE '\'`.
pub fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}
