//! The two transfers, streamed in flat memory and checked end to end: a download hashed as it
//! is written, an upload hashed as it is read and compared with the SHA-256 the server stored.

use super::location::Remote;
use crate::exit::CliError;
use crate::progress::Progress;
use gatehouse_client::api::files::{FileTarget, Upload};
use gatehouse_client::Client;
use gatehouse_shared::files::TransferResult;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Bytes read from a local file per upload chunk.
const CHUNK: usize = 256 * 1024;
/// Received chunks waiting for the hashing thread.
const HASH_QUEUE: usize = 64;
/// Read chunks waiting for the socket.
const UPLOAD_QUEUE: usize = 8;

/// What a download received.
#[derive(Debug, Clone)]
pub struct Received {
    pub size: u64,
    /// SHA-256 of the bytes written, hex.
    pub sha256: String,
    pub mtime: Option<i64>,
    /// The version as opened, for a later `if_version`.
    pub version: Option<String>,
}

/// Where a remote path is, as the client names it.
pub fn target(remote: &Remote, editor: bool) -> FileTarget<'_> {
    FileTarget {
        server: &remote.server,
        user: remote.user.as_deref(),
        editor,
    }
}

/// Streams `remote` into `sink`. The gateway checks the agent's SHA-256 against what it sent
/// and cuts the body short when they differ, so a complete body of the promised size is the
/// agent's file; the digest of what was written here is returned for the record.
pub async fn receive(
    client: &Client,
    remote: &Remote,
    editor: bool,
    sink: &mut impl Write,
    progress: &Progress,
) -> Result<Received, CliError> {
    let mut download = client
        .download(target(remote, editor), &remote.path)
        .await?;
    progress.set_total(download.size);
    let mut hasher = HashThread::start();
    let mut got: u64 = 0;
    while let Some(chunk) = download.chunk().await? {
        let n = chunk.as_ref().len();
        sink.write_all(chunk.as_ref())?;
        hasher.update(chunk)?;
        got += n as u64;
        progress.add(n);
    }
    sink.flush()?;
    let sha256 = hasher.finish()?;
    if got != download.size {
        return Err(CliError::failed(
            "transfer_incomplete",
            format!(
                "{}: {got} bytes arrived where {} were announced",
                remote.display(),
                download.size
            ),
        ));
    }
    progress.finish();
    Ok(Received {
        size: got,
        sha256,
        mtime: download.mtime,
        version: download.version,
    })
}

/// SHA-256 of a download on a thread of its own, so hashing overlaps receiving and writing (on
/// one thread it was a third of a download's CPU, measured with `perf`). Chunks are handed over
/// without a copy; a full queue makes the receiver wait for the hash.
struct HashThread<T> {
    chunks: Option<SyncSender<T>>,
    thread: Option<JoinHandle<Sha256>>,
}

impl<T: AsRef<[u8]> + Send + 'static> HashThread<T> {
    fn start() -> Self {
        let (chunks, queue) = sync_channel::<T>(HASH_QUEUE);
        let thread = std::thread::spawn(move || {
            let mut hasher = Sha256::new();
            for chunk in queue {
                hasher.update(chunk.as_ref());
            }
            hasher
        });
        Self {
            chunks: Some(chunks),
            thread: Some(thread),
        }
    }

    fn update(&mut self, chunk: T) -> Result<(), CliError> {
        let sent = self.chunks.as_ref().map(|tx| tx.send(chunk).is_ok());
        if sent == Some(true) {
            Ok(())
        } else {
            Err(Self::lost())
        }
    }

    /// The digest of everything handed over, hex.
    fn finish(mut self) -> Result<String, CliError> {
        drop(self.chunks.take());
        let hasher = self.thread.take().map(JoinHandle::join);
        match hasher {
            Some(Ok(hasher)) => Ok(hex::encode(hasher.finalize())),
            _ => Err(Self::lost()),
        }
    }

    fn lost() -> CliError {
        CliError::failed("internal", "the download's hashing thread stopped")
    }
}

/// Streams `reader` to `remote` and checks that the server stored exactly what was read
/// (size and SHA-256).
pub async fn send<R>(
    client: &Client,
    remote: &Remote,
    editor: bool,
    how: &Upload,
    reader: R,
    progress: Arc<Progress>,
) -> Result<TransferResult, CliError>
where
    R: Read + Send + 'static,
{
    let (chunks, digest) = read_and_hash(reader, progress.clone());
    let body = futures_util::stream::unfold(chunks, |mut chunks| async move {
        let chunk = chunks.recv().await?;
        Some((chunk, chunks))
    });
    let stored = client
        .upload(target(remote, editor), &remote.path, how, body)
        .await?;
    let (sha256, size) = digest
        .await
        .map_err(|_| CliError::failed("internal", "the upload's reading thread stopped"))?;
    if stored.size != size || !stored.sha256.eq_ignore_ascii_case(&sha256) {
        return Err(CliError::failed(
            "checksum_mismatch",
            format!(
                "{}: the server stored {} bytes with SHA-256 {}, but {size} bytes with SHA-256 {sha256} were sent",
                remote.display(),
                stored.size,
                stored.sha256
            ),
        ));
    }
    progress.finish();
    Ok(stored)
}

/// An upload's chunks as they are read (a read error is the last item).
type Chunks = tokio::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>;
/// The SHA-256 (hex) and size of everything read, once the source ended.
type ReadDigest = tokio::sync::oneshot::Receiver<(String, u64)>;

/// The upload's source read on a thread of its own, each chunk hashed and counted there before
/// it goes to the body: the runtime's thread only sends. (Read through the runtime, each chunk
/// took a hand-off to a blocking thread and a copy back, then a zeroed buffer and the hash on the
/// thread that writes the socket.) The digest (hex) and the size come once the source ended; a
/// read error ends the body, and the server discards the partial file.
fn read_and_hash<R: Read + Send + 'static>(
    mut reader: R,
    progress: Arc<Progress>,
) -> (Chunks, ReadDigest) {
    let (tx, chunks) = tokio::sync::mpsc::channel(UPLOAD_QUEUE);
    let (done, digest) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let (mut hasher, mut size) = (Sha256::new(), 0u64);
        loop {
            // Read into spare capacity: `File` fills it without zeroing it first.
            let mut buf = Vec::with_capacity(CHUNK);
            match (&mut reader).take(CHUNK as u64).read_to_end(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    hasher.update(&buf);
                    size += n as u64;
                    progress.add(n);
                    if tx.blocking_send(Ok(buf)).is_err() {
                        return; // the upload gave up: nobody waits for the digest
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
        let _ = done.send((hex::encode(hasher.finalize()), size));
    });
    (chunks, digest)
}
