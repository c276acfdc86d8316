//! File channels through the real agent binary: a fake gateway on a loopback WebSocket speaks
//! the agent link to `gatehouse-agent run`, which runs each operation in its `file-worker`.
//! Covers the wire behaviour the gateway relies on: replies, read credit, write credit and
//! commit, aborts (Close, protocol faults, a dropped link) leaving nothing behind, and run-as.

mod common;

use common::{Frame, Gateway, PATIENCE};
use gatehouse_shared::agent_link::{
    split_offset, AgentMessage, ChannelId, DataKind, GatewayMessage, OutputStream,
    FILE_CHUNK_BYTES, FILE_WINDOW,
};
use gatehouse_shared::files::{FileErrorKind, FileKind, FileOp, FileReply};
use sha2::{Digest, Sha256};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

impl Gateway {
    /// The next file reply of `channel`, skipping credit messages.
    async fn reply(&mut self, channel: ChannelId) -> FileReply {
        loop {
            match self.next().await {
                Frame::Control(AgentMessage::FileReply { channel: c, reply }) if c == channel => {
                    return reply
                }
                Frame::Control(AgentMessage::FileCredit { .. }) => {}
                Frame::Control(other) => panic!("unexpected {other:?}"),
                Frame::Data(..) => panic!("unexpected data"),
            }
        }
    }

    async fn op(&mut self, op: FileOp) -> FileReply {
        self.op_as(op, None, true).await
    }

    async fn op_as(&mut self, op: FileOp, user: Option<&str>, allow_root: bool) -> FileReply {
        self.open(op, user, allow_root, None).await
    }

    /// An API token's operation: confined to `rules`.
    async fn op_confined(&mut self, op: FileOp, rules: &[String]) -> FileReply {
        self.open(op, None, true, Some(rules.to_vec())).await
    }

    async fn open(
        &mut self,
        op: FileOp,
        user: Option<&str>,
        allow_root: bool,
        confine: Option<Vec<String>>,
    ) -> FileReply {
        let channel = ChannelId(uuid::Uuid::new_v4());
        self.send(GatewayMessage::FileOpen {
            channel,
            op,
            user: user.map(str::to_owned),
            allow_root,
            provision: false,
            provision_groups: Vec::new(),
            confine,
        })
        .await;
        self.reply(channel).await
    }

    /// Opens a write and waits for the agent's "ready".
    async fn open_write(&mut self, path: &Path, overwrite: bool) -> ChannelId {
        let channel = ChannelId(uuid::Uuid::new_v4());
        let op = FileOp::Write {
            path: path.display().to_string(),
            overwrite,
            if_mtime: None,
            if_version: None,
            mode: None,
            mtime: None,
        };
        self.send(GatewayMessage::FileOpen {
            channel,
            op,
            user: None,
            allow_root: true,
            provision: false,
            provision_groups: Vec::new(),
            confine: None,
        })
        .await;
        assert_eq!(self.reply(channel).await, FileReply::Ok);
        channel
    }
}

fn root_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    (tmp, root)
}

fn s(path: &Path) -> String {
    path.display().to_string()
}

fn error_kind(reply: &FileReply) -> Option<FileErrorKind> {
    match reply {
        FileReply::Error { kind, .. } => Some(*kind),
        _ => None,
    }
}

/// Polls until `dir` holds exactly `names` (no temporary files either), or fails.
async fn settles_to(dir: &Path, names: &[&str]) {
    let deadline = Instant::now() + PATIENCE;
    // The agent removes a temporary file on its own schedule: look again every 20 ms until the
    // deadline (there is no event to wait on from outside the process).
    let mut poll = tokio::time::interval(Duration::from_millis(20));
    loop {
        poll.tick().await;
        let mut got: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        got.sort();
        if got == names {
            return;
        }
        assert!(Instant::now() < deadline, "{} holds {got:?}", dir.display());
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test]
async fn simple_operations_answer_on_the_link() {
    let (_tmp, root) = root_dir();
    std::fs::write(root.join("a"), b"abc").unwrap();
    std::os::unix::fs::symlink("a", root.join("l")).unwrap();
    let mut gw = Gateway::start(&root).await;

    let FileReply::Listing { entries, .. } = gw.op(FileOp::List { path: s(&root) }).await else {
        panic!("no listing")
    };
    let kinds: Vec<_> = entries.iter().map(|e| (e.name.as_str(), e.kind)).collect();
    assert_eq!(kinds, [("a", FileKind::File), ("l", FileKind::Symlink)]);
    let FileReply::Entry { entry } = gw
        .op(FileOp::Stat {
            path: s(&root.join("a")),
        })
        .await
    else {
        panic!("no entry")
    };
    assert_eq!(entry.size, 3);
    let mkdir = FileOp::Mkdir {
        path: s(&root.join("d")),
    };
    assert_eq!(gw.op(mkdir).await, FileReply::Ok);
    let rename = FileOp::Rename {
        from: s(&root.join("a")),
        to: s(&root.join("d/b")),
        overwrite: false,
    };
    assert_eq!(gw.op(rename).await, FileReply::Ok);
    let delete = FileOp::Delete {
        path: s(&root.join("d")),
    };
    assert_eq!(
        error_kind(&gw.op(delete).await),
        Some(FileErrorKind::Unsupported)
    );
    let outside = FileOp::List {
        path: "/etc".into(),
    };
    assert_eq!(
        error_kind(&gw.op(outside).await),
        Some(FileErrorKind::InvalidPath)
    );
    nix::unistd::mkfifo(
        &root.join("fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    let fifo = FileOp::Read {
        path: s(&root.join("fifo")),
    };
    assert_eq!(
        error_kind(&gw.op(fifo).await),
        Some(FileErrorKind::Unsupported)
    );
}

#[tokio::test]
async fn a_download_stays_within_the_window_and_ends_with_its_hash() {
    let (_tmp, root) = root_dir();
    let body = pattern(10 * 1024 * 1024 + 123);
    std::fs::write(root.join("big"), &body).unwrap();
    let mut gw = Gateway::start(&root).await;
    let channel = ChannelId(uuid::Uuid::new_v4());
    let op = FileOp::Read {
        path: s(&root.join("big")),
    };
    gw.send(GatewayMessage::FileOpen {
        channel,
        op,
        user: None,
        allow_root: true,
        provision: false,
        provision_groups: Vec::new(),
        confine: None,
    })
    .await;
    let FileReply::ReadStarted { size, .. } = gw.reply(channel).await else {
        panic!("not started")
    };
    assert_eq!(size, body.len() as u64);
    let mut got = Vec::new();
    let mut acked = 0u64;
    let done = loop {
        match gw.next().await {
            Frame::Data(ch, DataKind::FileData, payload) => {
                assert_eq!(ch, channel);
                let (offset, bytes) = split_offset(&payload).unwrap();
                assert_eq!(offset, got.len() as u64, "contiguous");
                got.extend_from_slice(bytes);
                let received = got.len() as u64;
                assert!(received <= acked + FILE_WINDOW, "over the window");
                // Ack only once the window is full: the agent must fill it exactly, then wait.
                if received == acked + FILE_WINDOW {
                    acked = received;
                    gw.send(GatewayMessage::Ack {
                        channel,
                        stream: OutputStream::File,
                        offset: acked,
                    })
                    .await;
                }
            }
            Frame::Control(AgentMessage::FileReply { reply, .. }) => break reply,
            _ => panic!("unexpected frame"),
        }
    };
    assert_eq!(got, body);
    let FileReply::Done { size, sha256, .. } = done else {
        panic!("not done: {done:?}")
    };
    assert_eq!(size, body.len() as u64);
    assert_eq!(sha256, hex::encode(Sha256::digest(&body)));
}

/// Sends `body` on a write channel within the announced credit; returns the credits seen.
async fn upload(gw: &mut Gateway, channel: ChannelId, body: &[u8]) -> Vec<u64> {
    let mut credit = 0u64;
    let mut credits = Vec::new();
    let mut sent = 0usize;
    while sent < body.len() {
        let n = FILE_CHUNK_BYTES.min(body.len() - sent);
        if (sent + n) as u64 <= credit + FILE_WINDOW {
            gw.send_data(channel, sent as u64, &body[sent..sent + n])
                .await;
            sent += n;
            continue;
        }
        match gw.next().await {
            Frame::Control(AgentMessage::FileCredit { channel: c, offset }) if c == channel => {
                assert!(offset > credit && offset <= sent as u64);
                credit = offset;
                credits.push(offset);
            }
            Frame::Control(other) => panic!("unexpected {other:?}"),
            Frame::Data(..) => panic!("unexpected data"),
        }
    }
    credits
}

#[tokio::test]
async fn an_upload_commits_on_end_and_reports_its_hash() {
    let (_tmp, root) = root_dir();
    let mut gw = Gateway::start(&root).await;
    let dest = root.join("up.bin");
    let body = pattern(9 * 1024 * 1024 + 5);
    let channel = gw.open_write(&dest, false).await;
    let credits = upload(&mut gw, channel, &body).await;
    assert!(!credits.is_empty(), "more than a window needs credit");
    gw.send(GatewayMessage::FileEnd { channel }).await;
    let FileReply::Done { size, sha256, .. } = gw.reply(channel).await else {
        panic!("not done")
    };
    assert_eq!(size, body.len() as u64);
    assert_eq!(sha256, hex::encode(Sha256::digest(&body)));
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    settles_to(&root, &["up.bin"]).await;

    // The same destination again without overwrite: refused before any byte is sent.
    let again = FileOp::Write {
        path: s(&dest),
        overwrite: false,
        if_mtime: None,
        if_version: None,
        mode: None,
        mtime: None,
    };
    assert_eq!(
        error_kind(&gw.op(again).await),
        Some(FileErrorKind::Conflict)
    );
}

#[tokio::test]
async fn aborted_uploads_leave_nothing_behind() {
    let (_tmp, root) = root_dir();
    let mut gw = Gateway::start(&root).await;

    // Closed by the gateway midway.
    let channel = gw.open_write(&root.join("closed"), false).await;
    upload(&mut gw, channel, &pattern(1024 * 1024)).await;
    gw.send(GatewayMessage::Close { channel }).await;
    settles_to(&root, &[]).await;

    // A gap in the offsets: aborted with an error.
    let channel = gw.open_write(&root.join("gap"), false).await;
    gw.send_data(channel, 0, b"first").await;
    gw.send_data(channel, 100, b"gap").await;
    let reply = gw.reply(channel).await;
    assert_eq!(error_kind(&reply), Some(FileErrorKind::Io), "{reply:?}");
    settles_to(&root, &[]).await;

    // The link drops midway.
    let channel = gw.open_write(&root.join("dropped"), false).await;
    upload(&mut gw, channel, &pattern(512 * 1024)).await;
    drop(gw.ws);
    settles_to(&root, &[]).await;
}

#[tokio::test]
async fn operations_run_with_the_run_as_users_permissions() {
    let (_tmp, root) = root_dir();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(root.join("f"), b"x").unwrap();
    let mut gw = Gateway::start(&root).await;
    let write = || FileOp::Write {
        path: s(&root.join("new")),
        overwrite: false,
        if_mtime: None,
        if_version: None,
        mode: None,
        mtime: None,
    };
    let list = || FileOp::List { path: s(&root) };
    let as_nobody = gw.op_as(write(), Some("nobody"), false).await;
    assert_eq!(
        error_kind(&as_nobody),
        Some(FileErrorKind::PermissionDenied),
        "{as_nobody:?}"
    );
    if nix::unistd::geteuid().is_root() {
        // The worker really is nobody: it may read the world-readable root, not write to it.
        let listing = gw.op_as(list(), Some("nobody"), false).await;
        assert!(matches!(listing, FileReply::Listing { .. }), "{listing:?}");
        // What it creates is nobody's.
        let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
        let theirs = root.join("theirs");
        std::fs::create_dir(&theirs).unwrap();
        nix::unistd::chown(&theirs, Some(nobody.uid), None).unwrap();
        let op = FileOp::Mkdir {
            path: s(&theirs.join("d")),
        };
        assert_eq!(gw.op_as(op, Some("nobody"), false).await, FileReply::Ok);
        let meta = std::fs::metadata(theirs.join("d")).unwrap();
        assert_eq!(
            std::os::unix::fs::MetadataExt::uid(&meta),
            nobody.uid.as_raw()
        );
        std::fs::remove_dir_all(&theirs).unwrap();
        // Root itself only with the gate's permission.
        let as_root = gw.op_as(list(), None, false).await;
        assert_eq!(error_kind(&as_root), Some(FileErrorKind::PermissionDenied));
    }
    settles_to(&root, &["f"]).await;
}

#[tokio::test]
async fn a_tokens_file_rules_hold_through_symlinks() {
    let (_tmp, root) = root_dir();
    let allowed = root.join("allowed");
    let outside = root.join("outside");
    std::fs::create_dir(&allowed).unwrap();
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(allowed.join("ok.txt"), b"fine").unwrap();
    std::fs::write(outside.join("secret"), b"secret").unwrap();
    std::os::unix::fs::symlink(outside.join("secret"), allowed.join("file-out")).unwrap();
    std::os::unix::fs::symlink(&outside, allowed.join("dir-out")).unwrap();
    // The agent's root is the whole temporary directory: only the token's rule keeps it out.
    let mut gw = Gateway::start(&root).await;
    let rules = vec![format!("{}/allowed/**", root.display())];
    let read = |p: &Path| FileOp::Read { path: s(p) };

    let refused = [
        read(&allowed.join("file-out")),
        read(&allowed.join("dir-out/secret")),
        FileOp::List {
            path: s(&allowed.join("dir-out")),
        },
        FileOp::Write {
            path: s(&allowed.join("file-out")),
            overwrite: true,
            if_mtime: None,
            if_version: None,
            mode: None,
            mtime: None,
        },
        FileOp::Write {
            path: s(&allowed.join("dir-out/planted")),
            overwrite: false,
            if_mtime: None,
            if_version: None,
            mode: None,
            mtime: None,
        },
        FileOp::Rename {
            from: s(&allowed.join("ok.txt")),
            to: s(&allowed.join("dir-out/stolen")),
            overwrite: false,
        },
    ];
    for op in refused {
        let reply = gw.op_confined(op.clone(), &rules).await;
        assert_eq!(
            error_kind(&reply),
            Some(FileErrorKind::PermissionDenied),
            "{op:?}: {reply:?}"
        );
        let FileReply::Error { message, .. } = reply else {
            unreachable!()
        };
        assert!(message.contains("token's file rules"), "{message}");
    }
    settles_to(&outside, &["secret"]).await;
    assert_eq!(std::fs::read(outside.join("secret")).unwrap(), b"secret");

    // A plain file inside is served, read and written.
    let channel = ChannelId(uuid::Uuid::new_v4());
    gw.send(GatewayMessage::FileOpen {
        channel,
        op: read(&allowed.join("ok.txt")),
        user: None,
        allow_root: true,
        provision: false,
        provision_groups: Vec::new(),
        confine: Some(rules.clone()),
    })
    .await;
    assert!(matches!(
        gw.reply(channel).await,
        FileReply::ReadStarted { size: 4, .. }
    ));
    let mut got = Vec::new();
    let done = loop {
        match gw.next().await {
            Frame::Data(_, DataKind::FileData, payload) => {
                got.extend_from_slice(split_offset(&payload).unwrap().1);
            }
            Frame::Control(AgentMessage::FileReply { reply, .. }) => break reply,
            _ => panic!("unexpected frame"),
        }
    };
    assert_eq!(got, b"fine");
    assert!(matches!(done, FileReply::Done { size: 4, .. }), "{done:?}");
    let listing = gw
        .op_confined(FileOp::List { path: s(&allowed) }, &rules)
        .await;
    assert!(matches!(listing, FileReply::Listing { .. }), "{listing:?}");

    if nix::unistd::geteuid().is_root() {
        // The worker that checks runs as the run-as user, and sees the same.
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
        let (nobody, confine) = (Some("nobody"), Some(rules.clone()));
        let list = FileOp::List { path: s(&allowed) };
        let listing = gw.open(list, nobody, false, confine.clone()).await;
        assert!(matches!(listing, FileReply::Listing { .. }), "{listing:?}");
        let secret = read(&allowed.join("dir-out/secret"));
        let out = gw.open(secret, nobody, false, confine).await;
        assert_eq!(
            error_kind(&out),
            Some(FileErrorKind::PermissionDenied),
            "{out:?}"
        );
    }

    // Not confined (a work session): the agent's roots alone decide, as before.
    let open = gw.op(read(&allowed.join("dir-out/secret"))).await;
    assert!(matches!(open, FileReply::ReadStarted { .. }), "{open:?}");
}
