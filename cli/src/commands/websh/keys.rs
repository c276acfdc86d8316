//! What the person types, read where the terminal's socket is served: the runtime polls standard
//! input and the key goes from `read` to the socket in the same task, with no thread or channel in
//! between (the keystroke echo's budget is a few dozen microseconds). Input the runtime cannot
//! poll (a regular file) is read on a blocking thread instead.
//!
//! Standard input is never made non-blocking: on a terminal that flag belongs to the open file
//! shared with standard output and with the shell that started `gate`, whose writes would then
//! fail with `EAGAIN`. A read happens only for bytes the kernel says are waiting, so it cannot
//! block (what OpenSSH does for terminals too).

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use tokio::io::unix::AsyncFd;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

/// How much is read at once: a paste arrives in a few reads, a key in one.
const CHUNK: usize = 4096;

/// Standard input as a source of typed bytes.
pub enum Keyboard {
    /// Polled in place (a terminal or a pipe) through a second descriptor for it.
    Polled(AsyncFd<OwnedFd>),
    /// Read on a blocking thread and handed over.
    Thread(mpsc::Receiver<Vec<u8>>),
}

impl Keyboard {
    /// Starts reading; must be called inside the runtime.
    pub fn open() -> Keyboard {
        match Self::polled() {
            Ok(keyboard) => keyboard,
            Err(_) => Keyboard::Thread(read_on_thread()),
        }
    }

    fn polled() -> io::Result<Keyboard> {
        let second = io::stdin().as_fd().try_clone_to_owned()?;
        // Epoll refuses regular files; the descriptor is ours, so nothing closes it behind the
        // registration's back (what made tokio deprecate this constructor for borrowed ones).
        #[allow(deprecated)]
        let fd = AsyncFd::new(second)?;
        Ok(Keyboard::Polled(fd))
    }

    /// The next bytes typed; `None` at the end of input (or when it cannot be read any more).
    pub async fn recv(&mut self) -> Option<Vec<u8>> {
        let fd = match self {
            Keyboard::Thread(rx) => return rx.recv().await,
            Keyboard::Polled(fd) => fd,
        };
        loop {
            let mut ready = fd.readable().await.ok()?;
            let waiting = match rustix::io::ioctl_fionread(fd.get_ref()) {
                Ok(n) => usize::try_from(n).unwrap_or(CHUNK),
                Err(_) => return None,
            };
            if waiting == 0 && !read_returns_at_once(fd.get_ref()) {
                // Readiness left from bytes already read: wait for the next arrival.
                ready.clear_ready();
                continue;
            }
            let mut buf = vec![0u8; waiting.clamp(1, CHUNK)];
            match rustix::io::read(fd.get_ref(), &mut buf) {
                Ok(0) => return None,
                Ok(n) => {
                    buf.truncate(n);
                    if n >= waiting {
                        // Everything waiting was read: the next key is a new readiness event.
                        ready.clear_ready();
                    }
                    return Some(buf);
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => return None,
            }
        }
    }
}

/// Whether a read would return at once with nothing waiting: the end of input, or a hang-up.
fn read_returns_at_once(fd: &OwnedFd) -> bool {
    let mut fds = [PollFd::new(fd, PollFlags::IN)];
    let now = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    poll(&mut fds, Some(&now)).is_ok_and(|n| n > 0 && !fds[0].revents().is_empty())
}

/// Standard input, read on a blocking thread, in chunks as they come.
fn read_on_thread() -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut stdin = tokio::io::stdin();
        let mut buf = vec![0u8; CHUNK];
        while let Ok(n) = stdin.read(&mut buf).await {
            if n == 0 || tx.send(buf[..n].to_vec()).await.is_err() {
                break;
            }
        }
    });
    rx
}
