//! `gate mcp`: a Model Context Protocol server on stdin/stdout (JSON-RPC 2.0, one message per
//! line), so an AI agent reaches servers through Gatehouse with exactly the credentials and the
//! gate a person's `gate` has: its tools are the API's own calls, refusals come back as the
//! error envelope (with `next_actions`) for the agent to read, and nothing bypasses the server.

use crate::context::Context;
use crate::exit::CliError;
use gatehouse_client::api::ops::AuditFilter;
use gatehouse_client::api::sessions::SessionFilter;
use gatehouse_client::{Accepted, Client, ClientError};
use gatehouse_shared::api::GateCheckRequest;
use gatehouse_shared::exec::ExecRequest;
use gatehouse_shared::work_session::CreateWorkSession;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// The protocol revision this server speaks (and answers with when asked for another).
const PROTOCOL_VERSION: &str = "2025-03-26";

/// A line longer than this is refused, not buffered without end.
const MAX_LINE: usize = 4 * 1024 * 1024;

pub async fn run(ctx: &Context) -> Result<i32, CliError> {
    let client = ctx.client()?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdout = tokio::io::stdout();
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let answer = if line.len() > MAX_LINE {
            Some(error_reply(Value::Null, -32600, "message too large"))
        } else {
            match serde_json::from_str::<Value>(&line) {
                Ok(message) => handle(&client, message).await,
                Err(e) => Some(error_reply(
                    Value::Null,
                    -32700,
                    &format!("parse error: {e}"),
                )),
            }
        };
        if let Some(answer) = answer {
            let mut text = answer.to_string();
            text.push('\n');
            stdout.write_all(text.as_bytes()).await?;
            stdout.flush().await?;
        }
    }
    Ok(0)
}

/// One message; the reply, unless it was a notification.
async fn handle(client: &Client, message: Value) -> Option<Value> {
    let id = message.get("id").cloned();
    let method = message.get("method").and_then(Value::as_str).unwrap_or("");
    let params = message.get("params").cloned().unwrap_or(Value::Null);
    // Notifications (no id) get no answer, whatever they are.
    let id = id?;
    let result = match method {
        "initialize" => Ok(json!({
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {"tools": {"listChanged": false}},
            "serverInfo": {"name": "gate", "version": env!("CARGO_PKG_VERSION")},
            "instructions": "Servers are reached only inside an approved work session (or \
                through an API token's ACLs). When a tool is refused, read error_code and \
                next_actions: request a work session, or wait for its approval.",
        })),
        "ping" => Ok(json!({})),
        "tools/list" => Ok(json!({"tools": tools()})),
        "tools/call" => Ok(call(client, &params).await),
        _ => Err((-32601, format!("method not found: {method}"))),
    };
    Some(match result {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err((code, message)) => error_reply(id, code, &message),
    })
}

fn error_reply(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// The tools: each is one API call, its input the API's own body.
fn tools() -> Value {
    let strings = json!({"type": "array", "items": {"type": "string"}});
    json!([
        {
            "name": "whoami",
            "description": "Who these credentials belong to, how they signed in, and the work session in use.",
            "inputSchema": {"type": "object", "properties": {}},
        },
        {
            "name": "list_servers",
            "description": "Servers, with whether their agent is connected.",
            "inputSchema": {"type": "object", "properties": {"query": {"type": "string"}}},
        },
        {
            "name": "list_work_sessions",
            "description": "Work sessions visible to you (status: pending, approved, active, ...).",
            "inputSchema": {"type": "object", "properties": {"status": {"type": "string"}}},
        },
        {
            "name": "request_work_session",
            "description": "Ask for a work session: purpose, scopes (websh, command, webftp, tunnel, sudo, editor), servers and a duration in seconds. A person approves it; until then it is pending.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "purpose": {"type": "string"},
                    "scopes": strings,
                    "servers": strings,
                    "duration_secs": {"type": "integer", "minimum": 60},
                    "sudo_commands": strings,
                },
                "required": ["purpose", "scopes", "servers", "duration_secs"],
            },
        },
        {
            "name": "gate_check",
            "description": "Would the gate allow this scope on this server now? The same decision the operations make.",
            "inputSchema": {
                "type": "object",
                "properties": {"scope": {"type": "string"}, "server": {"type": "string"}, "user": {"type": "string"}},
                "required": ["scope", "server"],
            },
        },
        {
            "name": "exec",
            "description": "Run a program (argv, no shell) on servers and wait for every run: exit code, stdout and stderr per server.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "servers": strings,
                    "argv": strings,
                    "user": {"type": "string"},
                    "timeout_secs": {"type": "integer", "minimum": 1, "maximum": 86400},
                },
                "required": ["servers", "argv"],
            },
        },
        {
            "name": "audit",
            "description": "Audit events, newest first (staff).",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "action": {"type": "string"}, "server": {"type": "string"},
                    "user": {"type": "string"}, "limit": {"type": "integer", "minimum": 1, "maximum": 500},
                },
            },
        },
    ])
}

/// `tools/call`: the tool's answer as text content; a refusal is an error result carrying the
/// server's envelope, so the agent can act on `error_code` and `next_actions`.
async fn call(client: &Client, params: &Value) -> Value {
    let name = params.get("name").and_then(Value::as_str).unwrap_or("");
    let args = params
        .get("arguments")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let text = |key: &str| args.get(key).and_then(Value::as_str).map(str::to_owned);
    let outcome: Result<Value, Refusal> = match name {
        "whoami" => to_value(client.whoami().await),
        "list_servers" => to_value(client.servers(text("query")).await),
        "list_work_sessions" => to_value(
            client
                .work_sessions(&SessionFilter {
                    status: text("status"),
                    user: Some("me".into()),
                    ..SessionFilter::default()
                })
                .await,
        ),
        "request_work_session" => match parse::<CreateWorkSession>(&args) {
            Ok(body) => to_value(client.create_work_session(&body).await),
            Err(e) => Err(e),
        },
        "gate_check" => match parse::<GateCheckRequest>(&args) {
            Ok(body) => to_value(client.gate_check(&body).await),
            Err(e) => Err(e),
        },
        "exec" => match parse::<ExecRequest>(&args) {
            Ok(body) => match client.exec_wait(&body).await {
                Ok(Accepted::Done(job)) => to_value(Ok(job)),
                Ok(Accepted::Pending(pending)) => to_value(Ok(pending)),
                Err(e) => Err(Refusal::Api(e)),
            },
            Err(e) => Err(e),
        },
        "audit" => to_value(
            client
                .audit(&AuditFilter {
                    action: text("action"),
                    server: text("server"),
                    user: text("user"),
                    order: Some("newest".into()),
                    limit: args
                        .get("limit")
                        .and_then(Value::as_u64)
                        .map(|l| l.clamp(1, 500) as u32),
                    ..AuditFilter::default()
                })
                .await,
        ),
        other => Err(Refusal::Input(format!("no tool named {other:?}"))),
    };
    match outcome {
        Ok(value) => json!({
            "content": [{"type": "text", "text": pretty(&value)}],
            "structuredContent": value,
            "isError": false,
        }),
        Err(refusal) => {
            let envelope = refusal.envelope();
            json!({
                "content": [{"type": "text", "text": pretty(&envelope)}],
                "structuredContent": envelope,
                "isError": true,
            })
        }
    }
}

/// Why a tool call did not do what was asked.
enum Refusal {
    /// The arguments do not fit the tool.
    Input(String),
    /// The server (or the way to it) said no.
    Api(ClientError),
}

impl Refusal {
    fn envelope(&self) -> Value {
        match self {
            Refusal::Input(message) => json!({
                "ok": false, "error_code": "validation_error", "message": message,
            }),
            Refusal::Api(e) => {
                let mut envelope = e.envelope();
                envelope["exit_code"] = json!(e.exit_code());
                envelope
            }
        }
    }
}

fn parse<T: serde::de::DeserializeOwned>(args: &Value) -> Result<T, Refusal> {
    serde_json::from_value(args.clone()).map_err(|e| Refusal::Input(e.to_string()))
}

fn to_value<T: serde::Serialize>(result: Result<T, ClientError>) -> Result<Value, Refusal> {
    let value = result.map_err(Refusal::Api)?;
    serde_json::to_value(value).map_err(|e| Refusal::Input(e.to_string()))
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}
