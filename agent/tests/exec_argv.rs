//! Exec channels given an argv, through the real agent binary and a fake gateway: no shell ever
//! sees the arguments, bare program names resolve through the agent's fixed PATH only, a program
//! that cannot be found fails the open with a message, and `clean_env` leaves the command
//! nothing but PATH, HOME, USER, LOGNAME and LANG.

mod common;

use common::{Frame, Gateway};
use gatehouse_shared::agent_link::{
    split_offset, AgentMessage, ChannelId, DataKind, GatewayMessage,
};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const FIXED_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What became of one exec.
#[derive(Debug)]
enum Ran {
    Refused(String),
    Done {
        stdout: String,
        stderr: String,
        exit_code: Option<i32>,
        timed_out: bool,
    },
}

/// An exec as the gateway sends it; `user` and `allow_root` as for the agent's own user.
struct Exec {
    command: String,
    argv: Option<Vec<String>>,
    clean_env: bool,
    user: Option<String>,
    env: Vec<(String, String)>,
    timeout_secs: u64,
}

fn argv(words: &[&str]) -> Exec {
    Exec {
        command: String::new(),
        argv: Some(words.iter().map(|w| (*w).to_owned()).collect()),
        clean_env: false,
        user: None,
        env: Vec::new(),
        timeout_secs: 30,
    }
}

fn shell(line: &str) -> Exec {
    Exec {
        command: line.to_owned(),
        argv: None,
        ..argv(&[])
    }
}

async fn run(gw: &mut Gateway, exec: Exec) -> Ran {
    let channel = ChannelId(uuid::Uuid::new_v4());
    let allow_root = exec.user.is_none();
    gw.send(GatewayMessage::Exec {
        channel,
        command: exec.command,
        argv: exec.argv,
        clean_env: exec.clean_env,
        user: exec.user,
        env: exec.env,
        timeout_secs: exec.timeout_secs,
        allow_root,
        provision: false,
        provision_groups: Vec::new(),
        stdin: false,
        tty: None,
    })
    .await;
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    loop {
        match gw.next().await {
            Frame::Control(AgentMessage::Opened { channel: c }) if c == channel => {}
            Frame::Control(AgentMessage::OpenFailed {
                channel: c,
                message,
            }) if c == channel => return Ran::Refused(message),
            Frame::Control(AgentMessage::ExecDone {
                channel: c,
                exit_code,
                timed_out,
                ..
            }) if c == channel => {
                return Ran::Done {
                    stdout: String::from_utf8(stdout).unwrap(),
                    stderr: String::from_utf8(stderr).unwrap(),
                    exit_code,
                    timed_out,
                }
            }
            Frame::Data(c, kind, payload) if c == channel => {
                // Tiny outputs: far below the window, so no acks are needed.
                let (_, bytes) = split_offset(&payload).unwrap();
                match kind {
                    DataKind::Stdout => stdout.extend_from_slice(bytes),
                    DataKind::Stderr => stderr.extend_from_slice(bytes),
                    other => panic!("unexpected {other:?} data"),
                }
            }
            Frame::Control(other) => panic!("unexpected {other:?}"),
            Frame::Data(..) => panic!("data of another channel"),
        }
    }
}

/// The output of a command that must have succeeded.
async fn output(gw: &mut Gateway, exec: Exec) -> String {
    match run(gw, exec).await {
        Ran::Done {
            stdout,
            exit_code: Some(0),
            ..
        } => stdout,
        other => panic!("the command failed: {other:?}"),
    }
}

fn refused(ran: Ran) -> String {
    match ran {
        Ran::Refused(message) => message,
        other => panic!("expected open_failed, got {other:?}"),
    }
}

/// `env` output as a map.
fn variables(out: &str) -> BTreeMap<String, String> {
    out.lines()
        .map(|line| {
            let (k, v) = line.split_once('=').expect("KEY=value");
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

async fn gateway() -> (tempfile::TempDir, Gateway) {
    let tmp = tempfile::tempdir().unwrap();
    let gw = Gateway::start(tmp.path()).await;
    (tmp, gw)
}

#[tokio::test]
async fn shell_metacharacters_in_an_argv_are_plain_bytes() {
    let (tmp, mut gw) = gateway().await;
    let dir = std::fs::canonicalize(tmp.path()).unwrap();
    let m = |name: &str| dir.join(name).display().to_string();
    let args = [
        format!("a; touch {}", m("semicolon")),
        format!("a && touch {}", m("and")),
        format!("a | touch {}", m("pipe")),
        format!("$(touch {})", m("subst")),
        format!("`touch {}`", m("backtick")),
        format!("> {}", m("redirect")),
    ];
    let mut words = vec!["echo"];
    words.extend(args.iter().map(String::as_str));
    let Ran::Done {
        stdout,
        stderr,
        exit_code,
        ..
    } = run(&mut gw, argv(&words)).await
    else {
        panic!("echo did not run")
    };
    assert_eq!(stdout, format!("{}\n", args.join(" ")), "echoed verbatim");
    assert_eq!((stderr.as_str(), exit_code), ("", Some(0)));
    for name in ["semicolon", "and", "pipe", "subst", "backtick", "redirect"] {
        assert!(!dir.join(name).exists(), "{name} was created: a shell ran");
    }
    // The same text as a command line does reach a shell: the check above would have seen it.
    output(&mut gw, shell(&format!("echo a; touch {}", m("shell")))).await;
    assert!(dir.join("shell").exists());
}

#[tokio::test]
async fn bare_names_resolve_through_the_fixed_path_not_the_agents() {
    // The agent's own PATH leads first to a decoy `echo` that would leave a mark.
    let tmp = tempfile::tempdir().unwrap();
    let decoys = std::fs::canonicalize(tmp.path()).unwrap();
    let mark = decoys.join("decoy-ran");
    let decoy = decoys.join("echo");
    std::fs::write(
        &decoy,
        format!("#!/bin/sh\ntouch {}\necho decoy\n", mark.display()),
    )
    .unwrap();
    std::fs::set_permissions(&decoy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let agent_path = format!("{}:{FIXED_PATH}", decoys.display());
    let mut gw = Gateway::start_with_env(&decoys, &[("PATH", &agent_path)]).await;

    assert_eq!(output(&mut gw, argv(&["echo", "real"])).await, "real\n");
    assert!(!mark.exists(), "the agent's PATH chose the program");
    // Which file ran: the kernel's own record of it lies in one of the fixed directories.
    let exe = output(&mut gw, argv(&["readlink", "/proc/self/exe"])).await;
    let exe = Path::new(exe.trim());
    let dir = exe.parent().unwrap().to_str().unwrap();
    assert!(
        FIXED_PATH.split(':').any(|d| d == dir),
        "{} is not in the fixed PATH",
        exe.display()
    );
    // The command's PATH is the fixed one whatever the gateway sends.
    let mut exec = argv(&["env"]);
    exec.env = vec![
        ("PATH".into(), decoys.display().to_string()),
        ("MY_VAR".into(), "kept".into()),
    ];
    let vars = variables(&output(&mut gw, exec).await);
    assert_eq!(vars["PATH"], FIXED_PATH);
    assert_eq!(
        vars["MY_VAR"], "kept",
        "without clean_env the gateway's variables pass"
    );
}

#[tokio::test]
async fn absolute_paths_run_as_given_and_missing_programs_fail_the_open() {
    let (_tmp, mut gw) = gateway().await;
    assert_eq!(output(&mut gw, argv(&["/bin/echo", "abs"])).await, "abs\n");

    let missing = refused(run(&mut gw, argv(&["gatehouse-no-such-program", "x"])).await);
    assert!(missing.contains("not found"), "{missing}");
    assert!(missing.contains("gatehouse-no-such-program"), "{missing}");
    let absent = refused(run(&mut gw, argv(&["/nonexistent/gatehouse-prog"])).await);
    assert!(absent.contains("/nonexistent/gatehouse-prog"), "{absent}");
    let relative = refused(run(&mut gw, argv(&["bin/echo", "x"])).await);
    assert!(relative.contains("relative"), "{relative}");
    let empty = refused(run(&mut gw, argv(&[])).await);
    assert!(empty.contains("empty"), "{empty}");
}

#[tokio::test]
async fn an_argv_command_is_timed_out_and_killed_like_a_shell_one() {
    let (_tmp, mut gw) = gateway().await;
    let mut exec = argv(&["sleep", "600"]);
    exec.timeout_secs = 1;
    match run(&mut gw, exec).await {
        Ran::Done { timed_out, .. } => assert!(timed_out),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_clean_environment_holds_only_the_allowed_variables() {
    let (_tmp, mut gw) = {
        let tmp = tempfile::tempdir().unwrap();
        let gw = Gateway::start_with_env(tmp.path(), &[("AGENT_ONLY_SECRET", "agent")]).await;
        (tmp, gw)
    };
    let root = nix::unistd::geteuid().is_root();
    // As root the command runs as nobody, as an API token's would run as its account.
    let (user, name, home) = if root {
        let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
        (Some("nobody".to_owned()), nobody.name, nobody.dir)
    } else {
        let me = nix::unistd::User::from_uid(nix::unistd::geteuid())
            .unwrap()
            .unwrap();
        (None, me.name, me.dir)
    };
    for program in ["env", "/usr/bin/env"] {
        let mut exec = argv(&[program]);
        exec.clean_env = true;
        exec.user = user.clone();
        exec.env = vec![
            ("GATEWAY_SENT".into(), "x".into()),
            ("LANG".into(), "fr_FR.UTF-8".into()),
        ];
        let vars = variables(&output(&mut gw, exec).await);
        let keys: Vec<&str> = vars.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["HOME", "LANG", "LOGNAME", "PATH", "USER"],
            "{program}"
        );
        assert_eq!(vars["PATH"], FIXED_PATH);
        assert_eq!(vars["LANG"], "C.UTF-8");
        assert_eq!(vars["USER"], name);
        assert_eq!(vars["LOGNAME"], name);
        assert_eq!(Path::new(&vars["HOME"]), home);
    }
    // The same for a command line: clean_env is about the environment, whatever runs.
    let mut exec = shell("env");
    exec.clean_env = true;
    exec.user = user.clone();
    exec.env = vec![("GATEWAY_SENT".into(), "x".into())];
    let vars = variables(&output(&mut gw, exec).await);
    assert!(!vars.contains_key("GATEWAY_SENT"), "{vars:?}");
    assert!(!vars.contains_key("AGENT_ONLY_SECRET"), "{vars:?}");
    // Without clean_env, the account's set plus the gateway's variables, as before.
    let mut exec = argv(&["env"]);
    exec.user = user;
    exec.env = vec![("GATEWAY_SENT".into(), "x".into())];
    let vars = variables(&output(&mut gw, exec).await);
    assert_eq!(vars["GATEWAY_SENT"], "x");
    assert!(
        vars.contains_key("TERM") && vars.contains_key("SHELL"),
        "{vars:?}"
    );
    assert!(!vars.contains_key("AGENT_ONLY_SECRET"), "{vars:?}");
}
