//! SHA-256 of a transfer's bytes, computed on a blocking thread: hashing was a third of the
//! server's CPU during a download (measured with `perf`), and on the thread that serves every
//! keystroke it would hold terminals up while files move. Chunks are handed over without a copy.

use axum::body::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Chunks waiting for the hashing thread; a full queue makes the transfer wait for the hash.
const QUEUE: usize = 32;

pub struct StreamDigest {
    chunks: Option<mpsc::Sender<Bytes>>,
    hashed: Option<JoinHandle<Sha256>>,
}

impl StreamDigest {
    pub fn new() -> Self {
        let (chunks, mut queue) = mpsc::channel::<Bytes>(QUEUE);
        let hashed = tokio::task::spawn_blocking(move || {
            let mut hasher = Sha256::new();
            while let Some(chunk) = queue.blocking_recv() {
                hasher.update(&chunk);
            }
            hasher
        });
        Self {
            chunks: Some(chunks),
            hashed: Some(hashed),
        }
    }

    /// Adds the next bytes of the transfer.
    pub async fn update(&mut self, chunk: Bytes) {
        if let Some(chunks) = &self.chunks {
            // The thread only stops when this side is dropped; `finish` reports a lost one.
            let _ = chunks.send(chunk).await;
        }
    }

    /// The digest of every byte handed over, hex; `None` if the hashing thread failed (or
    /// after a first call).
    pub async fn finish(&mut self) -> Option<String> {
        drop(self.chunks.take());
        let hasher = self.hashed.take()?.await.ok()?;
        Some(hex::encode(hasher.finalize()))
    }
}
