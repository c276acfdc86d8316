//! What an exec-stream client sends: standard input (held per connection within the agent's
//! credit), `eof`, signals (audited), resizes, acknowledgements and pings.

use super::socket::{text, Sink, FRAME_BYTES};
use crate::core::audit;
use crate::core::gateway::capture::ExecRunState;
use crate::core::gateway::exec_job::LiveJob;
use crate::core::state::AppState;
use futures_util::SinkExt;
use gatehouse_shared::audit::{AuditAction, ExecSignalDetails};
use gatehouse_shared::exec_stream::{ClientMessage, ExecSignal, ServerMessage};
use gatehouse_shared::websh::valid_size;
use std::collections::VecDeque;
use std::sync::Arc;

/// Standard input from this client on its way to the command: held here while the agent's
/// credit is used up, so the socket keeps being read (acknowledgements, signals) meanwhile.
#[derive(Default)]
pub struct Input {
    /// Bytes received, not yet given to the agent.
    pub pending: VecDeque<u8>,
    /// The client closed standard input; sent on once everything before it went.
    pub eof: bool,
    eof_sent: bool,
    /// The last `stdin_ack` offset told to the client.
    told: u64,
}

impl Input {
    /// Sends what the agent's credit allows, then the end of input when it is due, and tells
    /// the client how far the command got. `Err` when the socket is gone.
    pub async fn flush(&mut self, run: &ExecRunState, sink: &mut Sink) -> Result<(), ()> {
        loop {
            let (room, written) = run.stdin_room();
            if written > self.told {
                self.told = written;
                let ack = ServerMessage::StdinAck { offset: written };
                sink.send(text(&ack)).await.map_err(drop)?;
            }
            if run.outcome().is_some() {
                // Nothing reads it any more.
                self.pending.clear();
                return Ok(());
            }
            let n = (room as usize).min(self.pending.len()).min(FRAME_BYTES);
            if n == 0 {
                break;
            }
            let chunk: Vec<u8> = self.pending.drain(..n).collect();
            if !run.send_stdin(&chunk).await {
                self.pending.clear();
                break;
            }
        }
        if self.eof && !self.eof_sent && self.pending.is_empty() {
            self.eof_sent = true;
            run.stdin_eof().await;
        }
        Ok(())
    }
}

/// An admitted client: the job and the name its signals are logged under.
pub struct Client<'a> {
    pub state: &'a AppState,
    pub job: Arc<LiveJob>,
    pub actor: String,
}

/// Sends `signal` to every run still going, and logs that it did.
async fn signal(who: &Client<'_>, signal: ExecSignal) {
    let job = &who.job;
    let mut servers = Vec::new();
    for run in job.runs.iter().filter(|r| r.outcome().is_none()) {
        run.signal(signal).await;
        servers.push(run.server_name.clone());
    }
    if servers.is_empty() {
        // Every run had ended: nothing was signalled.
        return;
    }
    let event = audit::event(AuditAction::ExecSignal, audit::SUCCESS)
        .actor(&who.actor)
        .target(job.id.to_string())
        .in_session(job.work_session)
        .details(audit::typed(&ExecSignalDetails {
            job: job.id,
            command: job.command.clone(),
            signal,
            servers,
        }));
    // A signal sent is not taken back when the log cannot take it; `record_event` logs that.
    let _ = audit::record_event(who.state, event).await;
}

/// One client control message; `Err` says why it is refused.
pub async fn control(
    who: &Client<'_>,
    viewer: u64,
    body: &str,
    sink: &mut Sink,
    input: &mut Input,
) -> Result<(), String> {
    let job = &who.job;
    let msg: ClientMessage =
        serde_json::from_str(body).map_err(|e| format!("malformed control message: {e}"))?;
    match msg {
        ClientMessage::Ack {
            run,
            stream,
            offset,
        } => {
            let run = job
                .runs
                .get(usize::from(run))
                .ok_or_else(|| format!("the job has no run {run}"))?;
            run.viewer_ack(viewer, stream, offset);
        }
        ClientMessage::Eof => {
            if !job.stdin {
                return Err("this job has no standard input".into());
            }
            // After the input sent before it (see `Input::flush`).
            input.eof = true;
        }
        ClientMessage::Signal { name } => signal(who, name).await,
        ClientMessage::Resize { cols, rows } => {
            if !job.tty {
                return Err("resize needs a job started with tty: true".into());
            }
            if !valid_size(cols, rows) {
                return Err("cols and rows are 1 to 1000".into());
            }
            for run in &job.runs {
                run.resize(cols, rows).await;
            }
        }
        ClientMessage::Ping => {
            let _ = sink.send(text(&ServerMessage::Pong)).await;
        }
    }
    Ok(())
}
