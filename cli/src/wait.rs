//! Waiting for a human decision without polling on a timer: follow the server's "work sessions
//! changed" pushes (`GET /api/events`) and refetch on each, until the thing is decided or the
//! deadline passes. A 429 is honoured by waiting its `Retry-After`.

use crate::exit::CliError;
use gatehouse_client::transport::EventStream;
use gatehouse_client::{Client, ClientError};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// The pause before subscribing again after the stream ended.
const RECONNECT_PAUSE: Duration = Duration::from_millis(500);

/// How long `--wait` waits when not told.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(15 * 60);

/// Follows `current` until `pending` says it is decided or `limit` passes, and returns the
/// last state seen. `events` is a stream the caller subscribed before fetching `current` (so
/// nothing in between is missed); without one, this subscribes and then fetches afresh. After
/// every push it fetches again; when the stream ends it subscribes again and fetches again.
pub async fn until_decided<T, F, Fut>(
    client: &Client,
    mut events: Option<EventStream>,
    limit: Duration,
    mut current: T,
    pending: impl Fn(&T) -> bool,
    mut fetch: F,
) -> Result<T, CliError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ClientError>>,
{
    let deadline = Instant::now() + limit;
    let mut stale = false;
    loop {
        if stale {
            match fetch().await {
                Ok(next) => {
                    current = next;
                    stale = false;
                }
                Err(ClientError::Api(e)) if e.status == 429 => {
                    let pause = Duration::from_secs(e.retry_after_secs.unwrap_or(1).max(1));
                    if Instant::now() + pause >= deadline {
                        return Ok(current);
                    }
                    tokio::time::sleep(pause).await;
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        if !pending(&current) || Instant::now() >= deadline {
            return Ok(current);
        }
        let Some(stream) = events.as_mut() else {
            events = Some(subscribe(client, deadline).await?);
            stale = true;
            continue;
        };
        tokio::select! {
            next = stream.next() => match next {
                Ok(Some(_)) => stale = true,
                // The stream ended or broke (a restart, a proxy's idle timeout): subscribe
                // again after a short pause, so a server that keeps closing it is not hammered.
                Ok(None) | Err(_) => {
                    events = None;
                    tokio::time::sleep(RECONNECT_PAUSE).await;
                }
            },
            _ = tokio::time::sleep_until(deadline) => return Ok(current),
        }
    }
}

/// Opens the event stream, waiting out a busy server within the deadline.
pub async fn subscribe(client: &Client, deadline: Instant) -> Result<EventStream, CliError> {
    loop {
        match client.events().await {
            Ok(stream) => return Ok(stream),
            Err(ClientError::Api(e)) if e.status == 429 || e.status == 503 => {
                let pause = Duration::from_secs(e.retry_after_secs.unwrap_or(1).max(1));
                if Instant::now() + pause >= deadline {
                    return Err(ClientError::Api(e).into());
                }
                tokio::time::sleep(pause).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}
