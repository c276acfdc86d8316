//! `gate` against a real server: signing in with an API token (a 0600 profile, `whoami` as a
//! table and as JSON), CI credentials from the environment that write nothing, signing out while
//! the server is down, usage errors, completion scripts and the version check.

use crate::{api_token, Fixture};
use gatehouse_e2e::gate::{files_under, Gate};
use gatehouse_shared::server::CreateServer;
use std::os::unix::fs::PermissionsExt;

#[tokio::test]
async fn login_with_a_token_stores_a_private_profile_and_whoami_reads_it() {
    let fx = Fixture::start(&[]).await;
    let (secret, _) = api_token(&fx.api, "laptop").await;
    let gate = Gate::new();

    // A token the server does not know is refused, and nothing is stored.
    let bad = gate
        .run(&["login", &fx.server.base, "-t", "gh_not-a-real-token"])
        .await;
    assert_eq!(bad.code, 1, "{bad:?}");
    assert!(bad.stderr.contains("unauthenticated"), "{bad:?}");
    assert!(!gate.config_file().exists());

    let login = gate.run(&["login", &fx.server.base, "-t", &secret]).await;
    assert_eq!(login.code, 0, "{login:?}");
    assert_eq!(login.stdout, "", "a table-mode login prints no data");
    assert!(login.stderr.contains("as ops"), "{login:?}");
    let file = gate.config_file();
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let folder = std::fs::metadata(file.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(folder, 0o700);
    let profile = &gate.config()["profiles"]["default"];
    assert_eq!(profile["url"], fx.server.base.as_str());
    assert_eq!(profile["credential"], secret.as_str());
    assert_eq!(profile["kind"], "api_token");
    // Nothing but the profile file is left in its folder (no temporary file).
    assert_eq!(files_under(file.parent().unwrap()), [file]);

    let table = gate.run(&["whoami"]).await;
    assert_eq!(table.code, 0, "{table:?}");
    let line = |key: &str| {
        table
            .stdout
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("no {key} in {table:?}"))
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_owned()
    };
    assert_eq!(line("user"), "ops");
    assert_eq!(line("role"), "superuser");
    assert_eq!(line("auth_method"), "api_token");
    assert_eq!(table.stderr, "");

    for flags in [
        &["--json", "whoami"][..],
        &["whoami", "--output", "json"][..],
    ] {
        let json = gate.run(flags).await;
        assert_eq!(json.code, 0, "{json:?}");
        let me = json.json();
        assert_eq!(me["user"]["username"], "ops");
        assert_eq!(me["auth_method"], "api_token");
        assert_eq!(me["work_session_required"], false);
    }

    // A second profile beside the first; the first stays as it was.
    let work = gate
        .run(&["--profile", "work", "login", &fx.server.base, "-t", &secret])
        .await;
    assert_eq!(work.code, 0, "{work:?}");
    let config = gate.config();
    assert_eq!(config["profiles"]["default"], *profile);
    assert_eq!(config["profiles"]["work"]["url"], fx.server.base.as_str());

    // The version check asks the server, without credentials of its own.
    let version = gate.run(&["--json", "version"]).await;
    assert_eq!(version.code, 0, "{version:?}");
    let v = version.json();
    assert_eq!(v["client"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["server"]["api"], v["client"]["api"]);
    assert_eq!(v["compatible"], true);
}

#[tokio::test]
async fn ci_credentials_from_the_environment_write_nothing_to_disk() {
    let fx = Fixture::start(&[]).await;
    let web = CreateServer {
        name: "web-01".to_owned(),
        platform: None,
        groups: None,
    };
    fx.api.client.create_server(&web).await.expect("a server");
    let (secret, _) = api_token(&fx.api, "ci").await;
    let gate = Gate::new()
        .env("GATE_URL", &fx.server.base)
        .env("GATE_TOKEN", &secret);
    let config_home = gate.home.path().join("xdg");
    std::fs::create_dir(&config_home).unwrap();
    let xdg = config_home.to_str().unwrap();

    let me = gate
        .run_env(&["--json", "whoami"], &[("XDG_CONFIG_HOME", xdg)])
        .await;
    assert_eq!(me.code, 0, "{me:?}");
    assert_eq!(me.json()["user"]["username"], "ops");
    let servers = gate
        .run_env(&["server", "ls"], &[("XDG_CONFIG_HOME", xdg)])
        .await;
    assert_eq!(servers.code, 0, "{servers:?}");
    assert!(servers.stdout.contains("web-01"), "{servers:?}");
    let sessions = gate
        .run_env(
            &["--json", "work-session", "ls", "--status", "all"],
            &[("XDG_CONFIG_HOME", xdg)],
        )
        .await;
    assert_eq!(sessions.code, 0, "{sessions:?}");
    // Selecting a session would need the disk: refused as usage, pointing at the variable.
    let select = gate
        .run_env(
            &[
                "work-session",
                "use",
                "00000000-0000-0000-0000-000000000000",
            ],
            &[("XDG_CONFIG_HOME", xdg)],
        )
        .await;
    assert_eq!(select.code, 2, "{select:?}");
    assert!(select.stderr.contains("GATE_WORK_SESSION"), "{select:?}");
    let logout = gate.run_env(&["logout"], &[("XDG_CONFIG_HOME", xdg)]).await;
    assert_eq!(logout.code, 0, "{logout:?}");

    let written = files_under(gate.home.path());
    assert_eq!(written, [config_home], "gate wrote {written:?}");
}

#[tokio::test]
async fn logout_forgets_the_credentials_even_when_the_server_is_down() {
    let fx = Fixture::start(&[]).await;
    let (secret, _) = api_token(&fx.api, "laptop").await;
    let gate = Gate::new();
    let login = gate.run(&["login", &fx.server.base, "-t", &secret]).await;
    assert_eq!(login.code, 0, "{login:?}");
    let Fixture { server, .. } = fx;
    server.kill();

    // While the server is down, a call is a network error (exit 1)…
    let down = gate.run(&["--json", "whoami"]).await;
    assert_eq!(down.code, 1, "{down:?}");
    assert_eq!(down.error_json()["error_code"], "network_error");
    // …and signing out still forgets everything local.
    let logout = gate.run(&["logout"]).await;
    assert_eq!(logout.code, 0, "{logout:?}");
    assert_eq!(gate.config()["profiles"], serde_json::json!({}));
    let after = gate.run(&["--json", "whoami"]).await;
    assert_eq!(after.code, 1, "{after:?}");
    let error = after.error_json();
    assert_eq!(error["error_code"], "unauthenticated");
    assert_eq!(error["exit_code"], 1);
    assert_eq!(error["next_actions"][0], "gate login");
}

#[tokio::test]
async fn usage_errors_exit_2_and_say_so_as_json_when_asked() {
    let gate = Gate::new();
    for args in [
        &[][..],
        &["frobnicate"][..],
        &[
            "work-session",
            "create",
            "--purpose",
            "x",
            "--server",
            "web-01",
        ][..],
        &["work-session", "describe", "not-an-id"][..],
        &["--output", "yaml", "whoami"][..],
    ] {
        let run = gate.run(args).await;
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert_eq!(run.stdout, "", "{args:?}");
    }
    // Under --json even a parse error is one envelope on stderr.
    let run = gate.run(&["--json", "exec"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    let error = run.error_json();
    assert_eq!(error["ok"], false);
    assert_eq!(error["error_code"], "usage");
    assert_eq!(error["exit_code"], 2);
    // A flag value gate itself checks is a usage error too, before anything is sent.
    let run = gate
        .run_env(
            &[
                "--json",
                "work-session",
                "create",
                "--purpose",
                "x",
                "--scope",
                "command",
                "--server",
                "web-01",
                "--expires-in",
                "soon",
            ],
            &[("GATE_URL", "http://127.0.0.1:9"), ("GATE_TOKEN", "gh_x")],
        )
        .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.error_json()["exit_code"], 2);
    assert!(!gate.config_file().exists());
}

#[tokio::test]
async fn completion_scripts_are_printed_and_bash_parses_its_own() {
    let gate = Gate::new();
    for shell in ["bash", "zsh", "fish"] {
        let run = gate.run(&["completion", shell]).await;
        assert_eq!(run.code, 0, "{shell}: {run:?}");
        assert!(run.stdout.contains("work-session"), "{shell}");
    }
    let script = gate.run(&["completion", "bash"]).await.stdout;
    let path = gate.home.path().join("gate.bash");
    std::fs::write(&path, script).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("run bash -n");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // Loaded into bash, it defines the completion function for `gate`.
    let loaded = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p gate", path.display()))
        .output()
        .expect("run bash");
    assert!(
        loaded.status.success(),
        "{}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    assert!(String::from_utf8_lossy(&loaded.stdout).contains("gate"));
    let run = gate.run(&["completion", "powershell-9"]).await;
    assert_eq!(run.code, 2, "{run:?}");
}
