//! The gateway: agent links, terminals (websh), command runs and file channels. Nothing reaches
//! an agent except through these types, and they are only created behind the gate.

pub mod capture;
pub mod exec_job;
pub mod exec_stream;
pub mod files;
pub mod hub;
pub mod link;
pub mod recording;
pub mod service;
pub mod terminal;
pub mod text;
pub mod tunnel;
pub mod viewers;
pub mod watcher;
