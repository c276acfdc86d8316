//! `gate tunnel`: one tunnel per forward (`POST /api/tunnels`), a local listener for each
//! (127.0.0.1 unless told), and a carrier stream per tunnel that reconnects with backoff while
//! the listener stays up. With `-- CMD` the command runs with the tunnels up and its status is
//! gate's; otherwise gate runs until Ctrl-C (or SIGTERM), or until the gateway ends a tunnel.
//! The tunnels are ended on the way out.

mod carrier;
mod local;
mod spec;

use crate::args::TunnelArgs;
use crate::context::Context;
use crate::exit::CliError;
use carrier::{Carrier, Fatal};
use gatehouse_client::Client;
use gatehouse_shared::tunnel::CreateTunnel;
use spec::Forward;
use std::io::Write;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;
use uuid::Uuid;

pub async fn run(ctx: &Context, args: TunnelArgs) -> Result<i32, CliError> {
    let forwards = spec::forwards(&args)?;
    let client = Arc::new(ctx.client()?);
    let mut opened: Vec<Uuid> = Vec::new();
    let result = serve(ctx, &client, &args, &forwards, &mut opened).await;
    // Ended here, whatever happened: a tunnel nobody carries should not linger on the server.
    for id in opened {
        let _ = client.end_tunnel(id).await;
    }
    result
}

async fn serve(
    ctx: &Context,
    client: &Arc<Client>,
    args: &TunnelArgs,
    forwards: &[Forward],
    opened: &mut Vec<Uuid>,
) -> Result<i32, CliError> {
    let (fatal_tx, mut fatal_rx) = mpsc::unbounded_channel::<Fatal>();
    let mut first_port = None;
    for f in forwards {
        let body = CreateTunnel {
            server: args.server.clone(),
            remote_port: f.remote_port,
            remote_host: Some(f.remote_host.clone()),
        };
        let created = client.create_tunnel(&body).await?;
        opened.push(created.id);
        let listener = TcpListener::bind((f.bind.as_str(), f.local_port))
            .await
            .map_err(|e| {
                CliError::failed(
                    "bind_failed",
                    format!("cannot listen on {}:{}: {e}", f.bind, f.local_port),
                )
            })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        first_port.get_or_insert(port);
        if f.local_port == 0 {
            // Data: the port a script connects to.
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{port}");
            let _ = out.flush();
        }
        ctx.out.info(&format!(
            "forwarding {}:{port} to {}:{} on {}",
            f.bind, created.remote_host, created.remote_port, args.server
        ));
        let carrier = Carrier::new(client.clone(), created.ws_path, fatal_tx.clone());
        carrier.start(listener);
    }
    drop(fatal_tx);
    if args.command.is_empty() {
        wait_for_stop(&mut fatal_rx).await
    } else {
        run_command(&args.command, first_port.unwrap_or(0), &mut fatal_rx).await
    }
}

/// Until Ctrl-C or SIGTERM (exit 0), or a tunnel ends for good (its exit code).
async fn wait_for_stop(fatal: &mut mpsc::UnboundedReceiver<Fatal>) -> Result<i32, CliError> {
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| CliError::failed("signal", format!("cannot watch SIGTERM: {e}")))?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Ok(0),
        _ = term.recv() => Ok(0),
        ended = fatal.recv() => match ended {
            Some(f) => Err(f.0),
            None => Ok(0),
        },
    }
}

/// Runs `command` with the tunnels up and returns its status; a tunnel ending for good stops it.
async fn run_command(
    command: &[String],
    port: u16,
    fatal: &mut mpsc::UnboundedReceiver<Fatal>,
) -> Result<i32, CliError> {
    let mut child = tokio::process::Command::new(&command[0])
        .args(&command[1..])
        .env("GATE_TUNNEL_PORT", port.to_string())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            CliError::failed(
                "command_failed",
                format!("cannot run {:?}: {e}", command[0]),
            )
        })?;
    loop {
        tokio::select! {
            status = child.wait() => {
                let status = status.map_err(|e| CliError::failed("command_failed", e.to_string()))?;
                use std::os::unix::process::ExitStatusExt;
                return Ok(status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0)));
            }
            // Ctrl-C reaches the command too (same process group): its exit decides.
            _ = tokio::signal::ctrl_c() => continue,
            ended = fatal.recv() => if let Some(f) = ended {
                let _ = child.start_kill();
                return Err(f.0);
            },
        }
    }
}
