//! `gatehouse-client`: a typed client of the Gatehouse HTTP API over the `gatehouse-shared` wire
//! types, one method per endpoint, with the error envelope as a typed [`ClientError`].
//!
//! Only [`transport`] knows how bytes travel (reqwest natively, the browser's fetch on wasm); the
//! endpoint methods in [`api`] build requests and read answers the same way on both.

pub mod api;
pub mod error;
pub mod exit;
pub mod transport;

pub use api::{Accepted, Client, ClientConfig};
pub use error::{ApiError, ClientError};
