//! `gate logout`: forgets this profile's credentials whatever the server says, telling the
//! server first when it can (ending a CLI sign-in there; an API token is left alone, as it may
//! serve other places, and is revoked with `gate token rm`).

use crate::config::CredentialKind;
use crate::context::{Context, Credentials};
use crate::exit::CliError;
use std::time::Duration;

/// How long to try to reach the server before forgetting locally anyway.
const SERVER_GRACE: Duration = Duration::from_secs(5);

pub async fn run(ctx: &Context) -> Result<i32, CliError> {
    let creds = match ctx.credentials()? {
        Some(Credentials::Environment { .. }) => {
            ctx.out.info(
                "Credentials come from GATE_URL and GATE_TOKEN: nothing is stored to forget.",
            );
            return Ok(0);
        }
        Some(creds) => creds,
        None => {
            ctx.out
                .info(&format!("Profile {:?} is not signed in.", ctx.profile));
            return Ok(0);
        }
    };
    let Credentials::Profile { path, profile } = &creds else {
        return Ok(0);
    };
    if profile.kind == CredentialKind::Cli {
        let told = match ctx.client_for(&creds) {
            Ok(client) => tokio::time::timeout(SERVER_GRACE, end_signin(&client))
                .await
                .unwrap_or_else(|_| Err("the server did not answer in time".into())),
            Err(e) => Err(e.message().to_owned()),
        };
        if let Err(why) = told {
            ctx.out.warn(&format!(
                "could not end the sign-in on the server ({why}); it expires on its own"
            ));
        }
    }
    // Read again and remove only this profile: another profile may have changed meanwhile.
    let (_, mut config) = ctx.load_config()?;
    config.profiles.remove(&ctx.profile);
    config.save(path)?;
    ctx.out.info(&format!(
        "Signed out of {} (profile {:?}).",
        profile.url, ctx.profile
    ));
    Ok(0)
}

/// `POST /api/auth/logout`: the server ends the sign-in the bearer belongs to.
async fn end_signin(client: &gatehouse_client::Client) -> Result<(), String> {
    client.logout().await.map_err(|e| e.to_string())
}
