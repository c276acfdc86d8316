//! `gate version`: this client's version, and when a server is configured its version and
//! whether the two speak the same API.

use crate::context::{self, Context};
use crate::exit::CliError;
use gatehouse_shared::api::API_VERSION;
use serde_json::json;

pub async fn run(ctx: &Context) -> Result<i32, CliError> {
    let client_version = env!("CARGO_PKG_VERSION");
    let url = match ctx.credentials() {
        Ok(Some(creds)) => Some((creds.url().to_owned(), ctx.client_for(&creds)?)),
        _ => match std::env::var("GATE_URL").ok().filter(|u| !u.is_empty()) {
            Some(url) => Some((url.clone(), context::build(&url, None, None, None)?)),
            None => None,
        },
    };
    let Some((url, client)) = url else {
        if ctx.out.json {
            ctx.out.json_value(
                &json!({"client": {"version": client_version, "api": API_VERSION}, "server": null}),
            )?;
        } else {
            println!("gate {client_version} (API {API_VERSION})");
        }
        return Ok(0);
    };
    let server = client.version().await;
    let (server_json, compatible) = match &server {
        Ok(v) => (
            json!({"url": url, "version": v.version, "api": v.api}),
            Some(v.api == API_VERSION),
        ),
        Err(_) => (json!({"url": url}), None),
    };
    if ctx.out.json {
        ctx.out.json_value(&json!({
            "client": {"version": client_version, "api": API_VERSION},
            "server": server_json,
            "compatible": compatible,
        }))?;
    } else {
        println!("gate {client_version} (API {API_VERSION})");
        if let Ok(v) = &server {
            let verdict = if v.api == API_VERSION {
                "compatible"
            } else {
                "NOT compatible"
            };
            println!(
                "server {url}: gatehouse {} (API {}), {verdict}",
                v.version, v.api
            );
        }
    }
    match server {
        Ok(v) if v.api != API_VERSION => Err(CliError::failed(
            "incompatible",
            format!("the server speaks API {}, this client {API_VERSION}", v.api),
        )),
        Ok(_) => Ok(0),
        Err(e) => Err(e.into()),
    }
}
