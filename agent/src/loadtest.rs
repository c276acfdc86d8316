//! Load-test mode: many agent links from one process, each a full `Agent` with its own
//! credential, so the server sees exactly what that many machines would do.

use crate::link::Agent;
use crate::register::{self, RegisterArgs};
use std::path::PathBuf;
use std::time::Duration;

/// Registrations in flight at once.
const PARALLEL: usize = 32;

pub async fn run(
    server: &str,
    token: &str,
    count: usize,
    prefix: &str,
    ca: Option<PathBuf>,
) -> Result<(), String> {
    let mut configs = Vec::with_capacity(count);
    let mut start = 0;
    while start < count {
        let end = (start + PARALLEL).min(count);
        let batch = (start..end).map(|i| {
            let ca = ca.clone();
            let name = format!("{prefix}{i:05}");
            async move {
                let unused = PathBuf::new();
                register::obtain(RegisterArgs {
                    server,
                    token,
                    name: Some(name),
                    ca,
                    config: &unused,
                })
                .await
            }
        });
        for result in futures_util::future::join_all(batch).await {
            configs.push(result?);
        }
        start = end;
    }
    eprintln!("registered {count} agents; connecting");
    for config in configs {
        let agent = Agent::new(config, Duration::from_secs(60), 0)?;
        tokio::spawn(agent.run());
    }
    std::future::pending::<()>().await;
    Ok(())
}
