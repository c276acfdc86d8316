//! Wire types and pure rules shared by the Gatehouse server, agent, CLI and web console.
//!
//! Nothing here knows about HTTP servers, databases or async runtimes: every function is pure and
//! takes "now" as an argument, so the same decision can be made (and tested) anywhere.

pub mod agent_link;
pub mod api;
pub mod audit;
pub mod error;
pub mod exec;
pub mod files;
pub mod gate;
pub mod ids;
pub mod lifecycle;
pub mod pattern;
pub mod scope;
pub mod server;
pub mod share;
pub mod token;
pub mod user;
pub mod websh;
pub mod work_session;

pub use error::{ErrorCode, ErrorEnvelope};
pub use ids::*;
pub use scope::Scope;
pub use user::{Role, User, UserRef};
pub use work_session::{Status, WorkSession};
