//! File transfers for the tests and benchmarks: a reproducible byte pattern of any length,
//! streamed as an upload body without ever being held whole, and downloads hashed as they arrive.

use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};

/// Bytes per chunk of a pattern body.
pub const CHUNK: usize = 1024 * 1024;

/// A pseudo-random 1 MiB block; chunk `i` is the block with `i` in its first 8 bytes, so no two
/// chunks are alike (a lost, repeated or reordered chunk changes the hash).
#[derive(Clone)]
pub struct Pattern {
    block: Arc<Vec<u8>>,
}

impl Default for Pattern {
    fn default() -> Self {
        // xorshift64: cheap even unoptimised, and the same on every run.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut block = Vec::with_capacity(CHUNK);
        while block.len() < CHUNK {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            block.extend_from_slice(&x.to_le_bytes());
        }
        Pattern {
            block: Arc::new(block),
        }
    }
}

impl Pattern {
    /// Chunk `i`, cut to `len` bytes.
    pub fn chunk(&self, i: u64, len: usize) -> Vec<u8> {
        let mut chunk = self.block[..len].to_vec();
        let tag = i.to_le_bytes();
        let n = tag.len().min(len);
        chunk[..n].copy_from_slice(&tag[..n]);
        chunk
    }

    /// The chunks of a `len`-byte file, in order.
    pub fn chunks(&self, len: u64) -> impl Iterator<Item = Vec<u8>> + Send + 'static {
        let pattern = self.clone();
        let count = len.div_ceil(CHUNK as u64);
        (0..count).map(move |i| {
            let left = len - i * CHUNK as u64;
            pattern.chunk(i, left.min(CHUNK as u64) as usize)
        })
    }

    /// The whole `len`-byte file in memory (for small files only).
    pub fn bytes(&self, len: u64) -> Vec<u8> {
        self.chunks(len).flatten().collect()
    }

    /// The chunks of a `len`-byte file as an upload stream (for the typed client's `upload`),
    /// hashed into the returned handle as they are sent.
    pub fn stream(
        &self,
        len: u64,
    ) -> (
        impl futures_util::Stream<Item = std::io::Result<Vec<u8>>> + Send + 'static,
        Hash,
    ) {
        let hash = Hash::default();
        let into = hash.clone();
        let stream = futures_util::stream::iter(self.chunks(len).map(move |chunk| {
            into.update(&chunk);
            Ok::<_, std::io::Error>(chunk)
        }));
        (stream, hash)
    }

    /// An upload body of `len` bytes, hashed into the returned handle as it is sent.
    pub fn body(&self, len: u64) -> (reqwest::Body, Hash) {
        let (stream, hash) = self.stream(len);
        (reqwest::Body::wrap_stream(stream), hash)
    }
}

/// A SHA-256 that several tasks feed.
#[derive(Clone, Default)]
pub struct Hash(Arc<Mutex<Sha256>>);

impl Hash {
    pub fn update(&self, bytes: &[u8]) {
        self.0.lock().expect("hash lock").update(bytes);
    }

    /// The hex digest of everything fed so far.
    pub fn hex(&self) -> String {
        hex_digest(self.0.lock().expect("hash lock").clone())
    }
}

fn hex_digest(hasher: Sha256) -> String {
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// SHA-256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex_digest(Sha256::new_with_prefix(bytes))
}

/// What a download delivered.
#[derive(Debug)]
pub struct Downloaded {
    pub size: u64,
    pub sha256: String,
    /// Set when the body broke off before its end.
    pub error: Option<String>,
}

/// Reads a download's body to its end, hashing it; `on_chunk` sees the running byte count.
pub async fn read_body(
    mut response: reqwest::Response,
    mut on_chunk: impl FnMut(u64),
) -> Downloaded {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    loop {
        match response.chunk().await {
            Ok(Some(bytes)) => {
                hasher.update(&bytes);
                size += bytes.len() as u64;
                on_chunk(size);
            }
            Ok(None) => {
                return Downloaded {
                    size,
                    sha256: hex_digest(hasher),
                    error: None,
                }
            }
            Err(e) => {
                return Downloaded {
                    size,
                    sha256: hex_digest(hasher),
                    error: Some(e.to_string()),
                }
            }
        }
    }
}

/// Samples a process's resident memory in the background until stopped; reports the peak.
pub struct RssSampler {
    stop: Arc<std::sync::atomic::AtomicBool>,
    task: std::thread::JoinHandle<u64>,
}

impl RssSampler {
    pub fn start(pid: u32) -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let task = std::thread::spawn(move || {
            let mut peak = crate::rss_kib(pid);
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(crate::rss_kib(pid));
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            peak.max(crate::rss_kib(pid))
        });
        RssSampler { stop, task }
    }

    /// The peak resident memory seen, in KiB.
    pub fn stop(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.task.join().expect("sampler thread")
    }
}

/// `s` encoded for a query string.
pub fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
