//! Small pieces shared by several screens.

pub mod decision;
pub mod error;
pub mod qr;
pub mod session_bits;

pub use error::ErrorBox;
pub use session_bits::{ScopeList, ServerList, StatusBadge, TimeLeft};
