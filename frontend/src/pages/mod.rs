//! One module per screen of the console.

pub mod account;
pub mod admin;
pub mod approvals;
pub mod audit;
pub mod device;
pub mod editor;
pub mod exec;
pub mod files;
pub mod join;
pub mod live_terminals;
pub mod login;
pub mod new_session;
pub mod playback;
pub mod recordings;
pub mod server_detail;
pub mod servers;
pub mod session_detail;
pub mod sessions;
pub mod setup;
pub mod signins;
pub mod tokens;
pub mod tunnel_allow;
pub mod websh;
