//! Tunnel tests' parts: `gate tunnel` running in the background with its chosen local port,
//! and small real TCP services on loopback (an HTTP server of fixed bytes, a half-close echo).

use crate::gate::Gate;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Child;

/// A running `gate tunnel … -l 0 …`: its local port and what it printed on stderr.
pub struct TunnelGate {
    pub child: Child,
    pub port: u16,
    stderr: Arc<Mutex<String>>,
}

impl TunnelGate {
    /// Starts `gate ARGS…` (which must include a `-l 0` or an `-L` with local port 0) and
    /// returns once it printed the chosen port on stdout.
    pub async fn start(gate: &Gate, args: &[&str]) -> Self {
        let mut child = gate.command(args).spawn().expect("start gate tunnel");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let sink = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err_lines.next_line().await {
                let mut s = sink.lock().unwrap_or_else(|e| e.into_inner());
                s.push_str(&line);
                s.push('\n');
            }
        });
        let mut out = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), out.next_line())
            .await
            .expect("gate tunnel printed no port in time")
            .expect("read stdout");
        let Some(line) = line else {
            let status = child.wait().await.expect("wait");
            panic!(
                "gate tunnel ended ({status}) before printing a port: {}",
                stderr.lock().unwrap_or_else(|e| e.into_inner())
            );
        };
        let port = line.trim().parse().expect("a port on stdout");
        TunnelGate {
            child,
            port,
            stderr,
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Its exit code, if it ends within `limit`.
    pub async fn exit_within(&mut self, limit: Duration) -> Option<i32> {
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(status) => status.expect("wait").code(),
            Err(_) => None,
        }
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// An HTTP/1.0 server on loopback that answers every request with `body`; its port.
pub async fn http_server(body: Arc<Vec<u8>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                // Read the request head, then answer and close.
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let header = format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                let _ = stream.write_all(header.as_bytes()).await;
                let _ = stream.write_all(&body).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    port
}

/// `GET /` on `127.0.0.1:port`: the response body (the connection read to its end).
pub async fn http_get(port: u16) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").await?;
    let mut all = Vec::new();
    stream.read_to_end(&mut all).await?;
    let start = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .ok_or_else(|| std::io::Error::other(format!("no HTTP answer ({} bytes)", all.len())))?;
    Ok(all.split_off(start))
}

/// A server that reads until the client's end of stream, then answers `got N bytes` and
/// closes: only a tunnel that passes the half-close gets an answer.
pub async fn half_close_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut all = Vec::new();
                if stream.read_to_end(&mut all).await.is_ok() {
                    let reply = format!("got {} bytes", all.len());
                    let _ = stream.write_all(reply.as_bytes()).await;
                }
            });
        }
    });
    port
}

/// Waits until `port` on loopback refuses connections; fails the test after `limit`.
pub async fn wait_refused(port: u16, limit: Duration) {
    crate::eventually("the local port to close", limit, || async {
        TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
            .then_some(())
    })
    .await;
}

/// The SHA-256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(bytes))
}
