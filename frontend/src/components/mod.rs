//! Small pieces shared by several screens.

pub mod decision;
pub mod error;
pub mod extension;
pub mod notices;
pub mod path_form;
pub mod pending;
pub mod qr;
pub mod run_as;
pub mod session_bits;
pub mod step_up;
pub mod tunnels;

pub use error::ErrorBox;
pub use path_form::PathForm;
pub use pending::ApprovalsLink;
pub use run_as::RunAsField;
pub use session_bits::{ScopeList, ServerList, StatusBadge, TimeLeft};
pub use step_up::{fields_at_form, StepUp, StepUpPrompt};
