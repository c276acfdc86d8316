//! `gate mcp`: an AI agent speaks the Model Context Protocol to `gate` on stdio, with a CI
//! token's credentials: it lists the tools, runs an argv on a server the token's rules allow and
//! gets the output, and a call beyond the rules comes back as the gate's envelope to act on.
//! Malformed lines and unknown methods get JSON-RPC errors and the server keeps going.

use crate::{shell_token, Fixture};
use gatehouse_e2e::gate::Gate;
use gatehouse_e2e::shell_user;
use serde_json::{json, Value};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

struct Mcp {
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    _child: tokio::process::Child,
}

impl Mcp {
    async fn send(&mut self, line: &str) {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("write to gate mcp");
    }

    async fn ask(&mut self, message: Value) -> Value {
        self.send(&message.to_string()).await;
        self.answer().await
    }

    async fn answer(&mut self) -> Value {
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), self.lines.next_line())
            .await
            .expect("an answer in time")
            .expect("read")
            .expect("gate mcp ended");
        serde_json::from_str(&line).expect("a JSON-RPC answer")
    }
}

#[tokio::test]
async fn an_agent_uses_gate_through_mcp_within_its_token_rules() {
    let fx = Fixture::start(&["web-01", "web-02"]).await;
    let secret = shell_token(&fx.api, "agent", "web-01").await;
    let gate = Gate::new();
    let mut cmd = gate.command(&["mcp"]);
    cmd.env("GATE_URL", &fx.server.base)
        .env("GATE_TOKEN", &secret)
        .stdin(Stdio::piped());
    let mut child = cmd.spawn().expect("start gate mcp");
    let mut mcp = Mcp {
        stdin: child.stdin.take().expect("stdin"),
        lines: BufReader::new(child.stdout.take().expect("stdout")).lines(),
        _child: child,
    };

    let init = mcp
        .ask(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                    "params": {"protocolVersion": "2025-03-26", "capabilities": {},
                               "clientInfo": {"name": "e2e", "version": "1"}}}))
        .await;
    assert_eq!(init["id"], 1);
    assert_eq!(init["result"]["serverInfo"]["name"], "gate");
    assert!(init["result"]["capabilities"]["tools"].is_object());
    mcp.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        .await;

    let tools = mcp
        .ask(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
        .await;
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for tool in ["exec", "request_work_session", "gate_check", "whoami"] {
        assert!(names.contains(&tool), "{tool} missing: {names:?}");
    }

    let mut args = json!({"servers": ["web-01"], "argv": ["sh", "-c", "echo mcp-$((6*7))"]});
    if let Some(user) = shell_user() {
        args["user"] = user.into();
    }
    let ran = mcp
        .ask(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                    "params": {"name": "exec", "arguments": args}}))
        .await;
    assert_eq!(ran["result"]["isError"], false, "{ran}");
    let run = &ran["result"]["structuredContent"]["runs"][0];
    assert_eq!(run["exit_code"], 0, "{ran}");
    assert_eq!(run["stdout"], "mcp-42\n", "{ran}");

    // Beyond the token's rules: the gate's refusal, as an error result the agent can read.
    args["servers"] = json!(["web-02"]);
    let refused = mcp
        .ask(json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
                    "params": {"name": "exec", "arguments": args}}))
        .await;
    assert_eq!(refused["result"]["isError"], true, "{refused}");
    assert_eq!(
        refused["result"]["structuredContent"]["error_code"],
        "token_acl_denied"
    );
    assert_eq!(refused["result"]["structuredContent"]["exit_code"], 3);

    // Bad input: a broken line, an unknown method, arguments that do not fit; still serving.
    mcp.send("{not json").await;
    assert_eq!(mcp.answer().await["error"]["code"], -32700);
    let unknown = mcp
        .ask(json!({"jsonrpc": "2.0", "id": 5, "method": "resources/list"}))
        .await;
    assert_eq!(unknown["error"]["code"], -32601);
    let misfit = mcp
        .ask(json!({"jsonrpc": "2.0", "id": 6, "method": "tools/call",
                    "params": {"name": "exec", "arguments": {"servers": "web-01"}}}))
        .await;
    assert_eq!(misfit["result"]["isError"], true);
    assert_eq!(
        misfit["result"]["structuredContent"]["error_code"],
        "validation_error"
    );
    let me = mcp
        .ask(json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                    "params": {"name": "whoami", "arguments": {}}}))
        .await;
    assert_eq!(
        me["result"]["structuredContent"]["auth_method"],
        "api_token"
    );
}
