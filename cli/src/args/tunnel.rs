//! `tunnel`: local TCP ports forwarded through the gateway to services on (or near) a server.

use clap::Args;

#[derive(Debug, Args)]
pub struct TunnelArgs {
    /// The server the agent runs on.
    pub server: String,
    /// The local port to listen on (`0`: any free one, printed on stdout); with `-r`.
    #[arg(
        short = 'l',
        long = "local-port",
        value_name = "LPORT",
        requires = "remote_port"
    )]
    pub local_port: Option<u16>,
    /// The port on the server (its loopback, 127.0.0.1) to reach; with `-l`.
    #[arg(
        short = 'r',
        long = "remote-port",
        value_name = "RPORT",
        requires = "local_port"
    )]
    pub remote_port: Option<u16>,
    /// The local address `-l` listens on.
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    pub bind: String,
    /// `[BIND:]LPORT:HOST:RPORT`, as `ssh -L` (repeatable): HOST as the server sees it, within
    /// the server entry's `tunnel_allow`. BIND defaults to 127.0.0.1.
    #[arg(short = 'L', value_name = "[BIND:]LPORT:HOST:RPORT")]
    pub forward: Vec<String>,
    /// A command to run with the tunnels up (`GATE_TUNNEL_PORT` holds the first local port);
    /// gate then exits with its status and ends the tunnels.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}
