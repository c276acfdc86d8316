//! The `gatehouse` command: `serve`, `admin create-user`, `audit verify`.

use clap::{Args, Parser, Subcommand};
use gatehouse::config::Config;
use gatehouse::core::admin;
use gatehouse::store::users;
use gatehouse::{app, AppState};
use gatehouse_shared::Role;
use std::io::BufRead;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Gatehouse privileged-access gateway"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Administrative tasks on the local database.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Args)]
struct StoreArgs {
    /// Where the database and recordings live.
    #[arg(long, env = "GATEHOUSE_DATA_DIR", default_value = "./gatehouse-data")]
    data_dir: PathBuf,
    /// Database URL; defaults to SQLite inside the data dir.
    #[arg(long, env = "GATEHOUSE_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on. Plain HTTP is allowed only on loopback.
    #[arg(long, env = "GATEHOUSE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    store: StoreArgs,
    /// A reverse proxy whose X-Forwarded-For is trusted (repeatable).
    #[arg(long = "trusted-proxy")]
    trusted_proxies: Vec<IpAddr>,
    /// The built web console to serve at `/` (Trunk's dist directory).
    #[arg(long, env = "GATEHOUSE_CONSOLE_DIR")]
    console_dir: Option<PathBuf>,
    /// PEM certificate chain to serve HTTPS/WSS with (with --tls-key).
    #[arg(long, requires = "tls_key", conflicts_with = "tls_self_signed")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Generate a CA and a server certificate into <data-dir>/tls (once) and serve with them;
    /// give agents the printed CA with `--ca`.
    #[arg(long)]
    tls_self_signed: bool,
    /// Extra DNS names or IPs for the self-signed certificate (repeatable).
    #[arg(long = "tls-name")]
    tls_names: Vec<String>,
    /// The first wait after a wrong shared-link password, in ms; it doubles with each one, and
    /// ten lock the link.
    #[arg(long, env = "GATEHOUSE_SHARE_BACKOFF_MS", default_value_t = 1000)]
    share_backoff_ms: u64,
    /// Seconds a file transfer's client may stall (no upload bytes sent, no download bytes
    /// taken) before the transfer is cut and its agent worker freed.
    #[arg(long, env = "GATEHOUSE_FILE_STALL_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    file_stall_secs: u64,
    /// Live terminals one user may hold at once.
    #[arg(long, env = "GATEHOUSE_MAX_TERMINALS_PER_USER", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(1..=1000))]
    max_terminals_per_user: u64,
    /// Seconds between pings of an idle agent link; a link silent for three of them is
    /// dropped (shorter finds a dead link sooner behind a NAT that forgets quietly).
    #[arg(long, env = "GATEHOUSE_AGENT_KEEPALIVE_SECS", default_value_t = gatehouse_shared::agent_link::KEEPALIVE_SECS,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    agent_keepalive_secs: u64,
    /// Threads running the server's tasks. One by default: a keystroke then crosses the
    /// server without waking a second thread (measured: a third less CPU per key and an echo
    /// as quick as sshd's, where two threads hand each frame to one another). Password hashing,
    /// recording syncs and text extraction run on separate blocking threads whatever this
    /// says; raise it for many bulk transfers at once.
    #[arg(long, env = "GATEHOUSE_WORKERS", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    workers: u16,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a user; the password is read from the first line of standard input.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "member")]
        role: Role,
        /// The person's own account on servers (default: derived from the username).
        #[arg(long)]
        unix_user: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Issue an agent registration token from the local database and print it (for set-up
    /// scripts; the console and API do the same for staff).
    RegistrationToken {
        #[arg(long, default_value_t = 1)]
        max_uses: i64,
        #[arg(long, default_value_t = 3600)]
        expires_in_secs: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; exits 1 if any row was edited, removed or reordered.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
    },
}

impl StoreArgs {
    /// Settings for commands that only touch the store.
    fn config(&self) -> Config {
        Config {
            data_dir: self.data_dir.clone(),
            ..Config::default()
        }
    }

    fn url(&self) -> Result<String, String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        std::fs::create_dir_all(&self.data_dir)
            .map_err(|e| format!("cannot create data dir {}: {e}", self.data_dir.display()))?;
        Ok(format!(
            "sqlite://{}",
            self.data_dir.join("gatehouse.db").display()
        ))
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let workers = match &cli.command {
        Command::Serve(args) => usize::from(args.workers),
        _ => 1,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Admin {
                command:
                    AdminCommand::CreateUser {
                        username,
                        role,
                        unix_user,
                        store,
                    },
            } => create_user(&store, &username, role, unix_user.as_deref()).await,
            Command::Admin {
                command:
                    AdminCommand::RegistrationToken {
                        max_uses,
                        expires_in_secs,
                        store,
                    },
            } => registration_token(&store, max_uses, expires_in_secs).await,
            Command::Audit {
                command: AuditCommand::Verify { store },
            } => verify_audit(&store).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<ExitCode, String> {
    let tls = tls_config(&args)?;
    if tls.is_none() && !args.listen.ip().is_loopback() {
        return Err(format!(
            "refusing plain HTTP on {}: it is not a loopback address (use --tls-cert/--tls-key or \
             --tls-self-signed, or listen on 127.0.0.1)",
            args.listen
        ));
    }
    if let Some(dir) = &args.console_dir {
        if !dir.join("index.html").is_file() {
            return Err(format!(
                "no console at {}: build it with `trunk build` first",
                dir.display()
            ));
        }
    }
    let config = Config {
        trusted_proxies: args.trusted_proxies.clone(),
        console_dir: args.console_dir.clone(),
        data_dir: args.store.data_dir.clone(),
        secure_cookies: tls.is_some(),
        share_backoff_base_ms: args.share_backoff_ms,
        file_stall: std::time::Duration::from_secs(args.file_stall_secs),
        max_terminals_per_user: args.max_terminals_per_user as usize,
        agent_keepalive: std::time::Duration::from_secs(args.agent_keepalive_secs),
        ..Config::default()
    };
    let state = AppState::open(&args.store.url()?, config)
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    gatehouse::spawn_background(&state);
    let users = users::count(&state.db, state.workspace)
        .await
        .map_err(|e| e.to_string())?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    // The first line on stdout is machine-readable: scripts and tests wait for it.
    println!("gatehouse listening on {scheme}://{addr}");
    if let Some((_, Some(ca))) = &tls {
        println!(
            "agents trust this server with: gatehouse-agent register --ca {}",
            ca.display()
        );
    }
    if users == 0 {
        println!(
            "first sign-in: no users yet; POST /api/setup or run `gatehouse admin create-user --role superuser`"
        );
    }
    tracing::info!(%addr, scheme, "serving");
    let router = app(state);
    let served = match tls {
        Some((config, _)) => {
            let listener = gatehouse::tls::TlsListener::new(listener, config)
                .map_err(|e| format!("cannot start TLS: {e}"))?;
            let service = router.into_make_service_with_connect_info::<gatehouse::tls::TlsPeer>();
            axum::serve(listener, service)
                .with_graceful_shutdown(shutdown_signal())
                .await
        }
        None => {
            // As on the TLS path: a keystroke's echo is a small write that must not wait for
            // the previous one's acknowledgement (Nagle and delayed ACKs add 40 ms a key).
            use axum::serve::ListenerExt;
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let service = router.into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, service)
                .with_graceful_shutdown(shutdown_signal())
                .await
        }
    };
    served.map_err(|e| format!("server error: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

/// The TLS configuration the flags ask for, and the CA file agents need when self-signed.
#[allow(clippy::type_complexity)]
fn tls_config(
    args: &ServeArgs,
) -> Result<Option<(std::sync::Arc<rustls::ServerConfig>, Option<PathBuf>)>, String> {
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        return Ok(Some((
            gatehouse::tls::server_config(cert, key).map_err(|e| e.to_string())?,
            None,
        )));
    }
    if !args.tls_self_signed {
        return Ok(None);
    }
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if !args.listen.ip().is_unspecified() {
        names.push(args.listen.ip().to_string());
    }
    if let Ok(host) = std::fs::read_to_string("/etc/hostname") {
        let host = host.trim();
        if !host.is_empty() {
            names.push(host.to_owned());
        }
    }
    names.extend(args.tls_names.iter().cloned());
    names.sort();
    names.dedup();
    std::fs::create_dir_all(&args.store.data_dir).map_err(|e| e.to_string())?;
    let files =
        gatehouse::tls::self_signed(&args.store.data_dir, &names).map_err(|e| e.to_string())?;
    let config =
        gatehouse::tls::server_config(&files.cert, &files.key).map_err(|e| e.to_string())?;
    Ok(Some((config, Some(files.ca))))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down");
}

async fn create_user(
    store: &StoreArgs,
    username: &str,
    role: Role,
    unix_user: Option<&str>,
) -> Result<ExitCode, String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    admin::validate_credentials(username, &password).map_err(|e| e.to_string())?;
    let state = AppState::open(&store.url()?, store.config())
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    let account = admin::NewAccount {
        username: username.to_owned(),
        email: None,
        role,
        password,
        unix_user: unix_user.map(str::to_owned),
    };
    let user = admin::create_user(
        &state.db,
        state.workspace,
        ADMIN_BY,
        account,
        false,
        gatehouse::time::now(),
    )
    .await
    .map_err(|e| format!("cannot create the user: {e}"))?;
    println!(
        "created {} user {} (server account {})",
        user.role, user.username, user.unix_user
    );
    Ok(ExitCode::SUCCESS)
}

/// Changes made by `gatehouse admin` on the server itself.
const ADMIN_BY: admin::By<'static> = admin::By {
    id: None,
    name: admin::ADMIN_CLI,
};

async fn registration_token(
    store: &StoreArgs,
    max_uses: i64,
    expires_in_secs: i64,
) -> Result<ExitCode, String> {
    let state = AppState::open(&store.url()?, store.config())
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    // A token is always issued by somebody: on behalf of the first superuser.
    let issuer = gatehouse::store::users::first_superuser(&state.db, state.workspace)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("create a superuser first: gatehouse admin create-user --role superuser")?;
    let issued = admin::issue_registration_token(
        &state.db,
        state.workspace,
        ADMIN_BY,
        issuer,
        expires_in_secs,
        max_uses,
        gatehouse::time::now(),
    )
    .await
    .map_err(|e| e.to_string())?;
    println!("{}", issued.token);
    Ok(ExitCode::SUCCESS)
}

async fn verify_audit(store: &StoreArgs) -> Result<ExitCode, String> {
    let state = AppState::open(&store.url()?, store.config())
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    let result = gatehouse::store::audit::verify(&state.db, state.workspace)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::to_string(&result).map_err(|e| e.to_string())?
    );
    Ok(if result.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
