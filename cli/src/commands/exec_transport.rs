//! How `gate exec` gets a command's output: the seam where the streaming exec (`WS
//! /ws/exec/{id}`, live output per run) will replace the blocking call. Today each batch is one
//! `POST /api/exec?wait=true`, which answers when every run has ended.

use gatehouse_client::{Accepted, Client, ClientError};
use gatehouse_shared::exec::{ExecJob, ExecRequest};

/// Runs one batch of servers and returns every run's whole output (or a pending approval).
pub async fn run_batch(
    client: &Client,
    request: &ExecRequest,
) -> Result<Accepted<ExecJob>, ClientError> {
    client.exec_wait(request).await
}
