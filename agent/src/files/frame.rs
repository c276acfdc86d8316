//! The pipe framing between the agent and a `file-worker`.
//!
//! Agent → worker (stdin): chunks of a 4-byte big-endian length and that many bytes. The first
//! chunk is the JSON `WorkerRequest`; a write's data follows as chunks, and an empty chunk means
//! "commit". End of input anywhere else (including inside a chunk) means "abort", so an agent
//! that dies or is cut off can never make a worker commit half an upload.
//!
//! Worker → agent (stdout): a tag byte (`R` reply JSON, `D` file bytes), a 4-byte big-endian
//! length, the bytes. The agent bounds every length before allocating: the worker runs as the
//! run-as user, who could tamper with it, so its output is not trusted further than that.

use gatehouse_shared::agent_link::{FILE_CHUNK_BYTES, MAX_MESSAGE_BYTES};
use gatehouse_shared::files::{FileOp, FileReply};
use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};
use std::path::PathBuf;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest request chunk a worker accepts (paths are at most 4 KiB each).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// A reply must fit in one link message, with room for the envelope around it.
pub const MAX_REPLY_BYTES: usize = MAX_MESSAGE_BYTES - 1024;

const TAG_REPLY: u8 = b'R';
const TAG_DATA: u8 = b'D';

/// What the agent asks a worker to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerRequest {
    /// The allowed roots (normalised, from the agent's configuration, not from the gateway).
    pub roots: Vec<PathBuf>,
    pub op: FileOp,
    /// An API token's file rules (`confine::Confine`); `None`: not confined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confine: Option<Vec<String>>,
}

/// One frame from a worker.
#[derive(Debug, PartialEq, Eq)]
pub enum Out {
    Reply(FileReply),
    Data(Vec<u8>),
}

/// Writes one stdin chunk (an empty `bytes` is the commit marker); the agent itself uses
/// `send_chunk`.
#[cfg(test)]
pub fn write_chunk(w: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    w.write_all(&frame_len(bytes.len())?.to_be_bytes())?;
    w.write_all(bytes)?;
    w.flush()
}

/// Reads one stdin chunk of at most `max` bytes; `None` at a clean end of input.
pub fn read_chunk(r: &mut impl Read, max: usize) -> io::Result<Option<Vec<u8>>> {
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < head.len() {
        match r.read(&mut head[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let len = u32::from_be_bytes(head) as usize;
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "chunk too large",
        ));
    }
    let mut bytes = vec![0u8; len];
    r.read_exact(&mut bytes)?;
    Ok(Some(bytes))
}

/// Writes a reply frame.
pub fn write_reply(w: &mut impl Write, reply: &FileReply) -> io::Result<()> {
    let json = serde_json::to_vec(reply).map_err(io::Error::other)?;
    write_out(w, TAG_REPLY, &json)
}

/// Writes a data frame.
pub fn write_data(w: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    write_out(w, TAG_DATA, bytes)
}

fn write_out(w: &mut impl Write, tag: u8, bytes: &[u8]) -> io::Result<()> {
    let mut head = [0u8; 5];
    head[0] = tag;
    head[1..].copy_from_slice(&frame_len(bytes.len())?.to_be_bytes());
    w.write_all(&head)?;
    w.write_all(bytes)?;
    w.flush()
}

fn frame_len(len: usize) -> io::Result<u32> {
    u32::try_from(len).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))
}

/// Writes one stdin chunk from the async side.
pub async fn send_chunk<W: AsyncWrite + Unpin>(w: &mut W, bytes: &[u8]) -> io::Result<()> {
    w.write_all(&frame_len(bytes.len())?.to_be_bytes()).await?;
    w.write_all(bytes).await?;
    w.flush().await
}

/// Reads one frame from a worker's stdout; `None` when it closed stdout between frames.
/// Not cancel-safe: a caller that drops it midway must drop the stream too.
pub async fn read_out<R: AsyncRead + Unpin>(r: &mut R) -> io::Result<Option<Out>> {
    let mut head = [0u8; 5];
    let mut got = 0;
    while got < head.len() {
        match r.read(&mut head[got..]).await? {
            0 if got == 0 => return Ok(None),
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    let max = match head[0] {
        TAG_REPLY => MAX_REPLY_BYTES,
        TAG_DATA => FILE_CHUNK_BYTES,
        _ => return Err(invalid("unknown frame tag")),
    };
    if len > max {
        return Err(invalid("frame too large"));
    }
    // Read into spare capacity, never zeroed first: this runs for every chunk of a download.
    let mut bytes = Vec::with_capacity(len);
    while bytes.len() < len {
        let left = (len - bytes.len()) as u64;
        if (&mut *r).take(left).read_buf(&mut bytes).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
    if head[0] == TAG_DATA {
        return Ok(Some(Out::Data(bytes)));
    }
    let reply = serde_json::from_slice(&bytes).map_err(|_| invalid("malformed reply"))?;
    Ok(Some(Out::Reply(reply)))
}

fn invalid(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_shared::files::FileErrorKind;

    #[test]
    fn chunks_round_trip_and_a_cut_chunk_is_an_error_not_a_commit() {
        let mut buf = Vec::new();
        write_chunk(&mut buf, b"{\"x\":1}").unwrap();
        write_chunk(&mut buf, b"data").unwrap();
        write_chunk(&mut buf, b"").unwrap();
        let mut r = &buf[..];
        assert_eq!(read_chunk(&mut r, 100).unwrap().unwrap(), b"{\"x\":1}");
        assert_eq!(read_chunk(&mut r, 100).unwrap().unwrap(), b"data");
        assert_eq!(read_chunk(&mut r, 100).unwrap().unwrap(), b"");
        assert_eq!(read_chunk(&mut r, 100).unwrap(), None);
        // Cut inside the header or inside the payload: an error, never an empty chunk.
        for cut in [2, 6] {
            let mut r = &buf[..cut];
            assert!(read_chunk(&mut r, 100).is_err(), "cut at {cut}");
        }
        let mut r = &buf[..];
        assert!(read_chunk(&mut r, 3).is_err(), "over the limit");
    }

    #[tokio::test]
    async fn worker_output_round_trips_and_is_bounded() {
        let mut buf = Vec::new();
        write_reply(&mut buf, &FileReply::Ok).unwrap();
        write_data(&mut buf, b"bytes").unwrap();
        let err = FileReply::Error {
            kind: FileErrorKind::NotFound,
            message: "gone".into(),
        };
        write_reply(&mut buf, &err).unwrap();
        let mut r = &buf[..];
        assert_eq!(
            read_out(&mut r).await.unwrap(),
            Some(Out::Reply(FileReply::Ok))
        );
        assert_eq!(
            read_out(&mut r).await.unwrap(),
            Some(Out::Data(b"bytes".to_vec()))
        );
        assert_eq!(read_out(&mut r).await.unwrap(), Some(Out::Reply(err)));
        assert_eq!(read_out(&mut r).await.unwrap(), None);

        let mut r = &buf[..3];
        assert!(read_out(&mut r).await.is_err(), "cut header");
        let huge = [b'D', 0xff, 0xff, 0xff, 0xff];
        assert!(read_out(&mut &huge[..]).await.is_err(), "oversized data");
        let unknown = [b'X', 0, 0, 0, 0];
        assert!(read_out(&mut &unknown[..]).await.is_err(), "unknown tag");
        let bad_json = [b'R', 0, 0, 0, 1, b'{'];
        assert!(read_out(&mut &bad_json[..]).await.is_err(), "bad json");
    }

    #[tokio::test]
    async fn async_chunks_are_what_the_worker_reads() {
        let mut buf = Vec::new();
        send_chunk(&mut buf, b"abc").await.unwrap();
        send_chunk(&mut buf, b"").await.unwrap();
        let mut r = &buf[..];
        assert_eq!(read_chunk(&mut r, 10).unwrap().unwrap(), b"abc");
        assert_eq!(read_chunk(&mut r, 10).unwrap().unwrap(), b"");
    }
}
