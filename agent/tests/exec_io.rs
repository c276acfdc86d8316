//! Exec channels with standard input, a terminal and signals, through the real agent binary and
//! a fake gateway: input is written in order and acknowledged with `stdin_credit`, `stdin_eof`
//! closes it, a command that never reads its input does not hold up the link, `signal` reaches
//! the command, and `tty` runs it on a pseudo-terminal of the asked size.

mod common;

use common::{Frame, Gateway};
use gatehouse_shared::agent_link::{
    split_offset, AgentMessage, ChannelId, DataKind, GatewayMessage, TtySize,
};
use gatehouse_shared::exec_stream::ExecSignal;

/// Opens an exec of `line` (through `sh -c`) with standard input and, optionally, a terminal.
async fn open(gw: &mut Gateway, line: &str, tty: Option<TtySize>) -> ChannelId {
    let channel = ChannelId(uuid::Uuid::new_v4());
    gw.send(GatewayMessage::Exec {
        channel,
        command: line.to_owned(),
        argv: None,
        clean_env: false,
        user: None,
        env: Vec::new(),
        timeout_secs: 60,
        allow_root: true,
        provision: false,
        provision_groups: Vec::new(),
        stdin: true,
        tty,
    })
    .await;
    channel
}

/// What one channel produced until it ended.
#[derive(Debug, Default)]
struct Seen {
    opened: bool,
    stdout: Vec<u8>,
    credit: u64,
    done: Option<(Option<i32>, Option<i32>)>,
}

/// Reads frames, filing each under its channel, until `until` holds.
async fn read(
    gw: &mut Gateway,
    seen: &mut std::collections::HashMap<ChannelId, Seen>,
    until: impl Fn(&std::collections::HashMap<ChannelId, Seen>) -> bool,
) {
    while !until(seen) {
        match gw.next().await {
            Frame::Control(AgentMessage::Opened { channel }) => {
                seen.entry(channel).or_default().opened = true;
            }
            Frame::Control(AgentMessage::StdinCredit { channel, offset }) => {
                let s = seen.entry(channel).or_default();
                assert!(offset >= s.credit, "credit never goes back");
                s.credit = offset;
            }
            Frame::Control(AgentMessage::ExecDone {
                channel,
                exit_code,
                signal,
                ..
            }) => seen.entry(channel).or_default().done = Some((exit_code, signal)),
            Frame::Data(channel, DataKind::Stdout | DataKind::Stderr, payload) => {
                let (_, bytes) = split_offset(&payload).unwrap();
                seen.entry(channel)
                    .or_default()
                    .stdout
                    .extend_from_slice(bytes);
            }
            Frame::Control(other) => panic!("unexpected {other:?}"),
            Frame::Data(_, kind, _) => panic!("unexpected {kind:?} data"),
        }
    }
}

#[tokio::test]
async fn input_is_credited_closed_by_eof_and_a_command_that_never_reads_holds_nothing_up() {
    let root = tempfile::tempdir().unwrap();
    let mut gw = Gateway::start(root.path()).await;
    let mut seen = Default::default();

    // `sleep` never reads: 200 KiB of input is more than its pipe holds.
    let deaf = open(&mut gw, "exec sleep 100", None).await;
    read(&mut gw, &mut seen, |s| {
        s.get(&deaf).is_some_and(|c| c.opened)
    })
    .await;
    for _ in 0..4 {
        gw.send_input(deaf, &[b'z'; 50 * 1024]).await;
    }
    // The link still serves everything else: `cat` gets its input back and ends at eof.
    let cat = open(&mut gw, "cat", None).await;
    read(&mut gw, &mut seen, |s| {
        s.get(&cat).is_some_and(|c| c.opened)
    })
    .await;
    gw.send_input(cat, b"hello ").await;
    gw.send_input(cat, b"world\n").await;
    gw.send(GatewayMessage::StdinEof { channel: cat }).await;
    read(&mut gw, &mut seen, |s| {
        s.get(&cat).is_some_and(|c| c.done.is_some())
    })
    .await;
    let cat_seen = &seen[&cat];
    assert_eq!(cat_seen.stdout, b"hello world\n");
    assert_eq!(cat_seen.credit, 12, "every input byte is credited");
    assert_eq!(cat_seen.done, Some((Some(0), None)));
    assert!(
        seen[&deaf].credit < 200 * 1024,
        "what `sleep` never read was not credited: {}",
        seen[&deaf].credit
    );

    // A signal reaches it, and the end says which.
    gw.send(GatewayMessage::Signal {
        channel: deaf,
        signal: ExecSignal::Term,
    })
    .await;
    read(&mut gw, &mut seen, |s| {
        s.get(&deaf).is_some_and(|c| c.done.is_some())
    })
    .await;
    assert_eq!(seen[&deaf].done, Some((None, Some(15))));
}

#[tokio::test]
async fn a_terminal_of_the_asked_size_takes_input_and_resizes() {
    let root = tempfile::tempdir().unwrap();
    let mut gw = Gateway::start(root.path()).await;
    let mut seen = Default::default();
    let size = TtySize { cols: 90, rows: 20 };
    let line = "tty; stty size; read x; stty size; echo got-$x";
    let term = open(&mut gw, line, Some(size)).await;
    let text = |s: &std::collections::HashMap<ChannelId, Seen>| {
        s.get(&term)
            .map(|c| String::from_utf8_lossy(&c.stdout).into_owned())
            .unwrap_or_default()
    };
    read(&mut gw, &mut seen, |s| text(s).contains("20 90")).await;
    assert!(text(&seen).contains("/dev/pts/"), "{}", text(&seen));
    gw.send(GatewayMessage::Resize {
        channel: term,
        cols: 132,
        rows: 43,
    })
    .await;
    gw.send_input(term, b"ok\r").await;
    read(&mut gw, &mut seen, |s| {
        s.get(&term).is_some_and(|c| c.done.is_some())
    })
    .await;
    let out = text(&seen);
    assert!(out.contains("43 132") && out.contains("got-ok"), "{out}");
    assert_eq!(seen[&term].done, Some((Some(0), None)));
}
