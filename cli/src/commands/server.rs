//! `gate server ls|describe`.

use crate::args::ServerCommand;
use crate::context::Context;
use crate::exit::CliError;
use crate::output::Table;
use gatehouse_shared::server::Server;
use gatehouse_shared::ServerId;

pub async fn run(ctx: &Context, cmd: ServerCommand) -> Result<i32, CliError> {
    let client = ctx.client()?;
    match cmd {
        ServerCommand::Ls { query } => {
            let page = client.servers(query).await?;
            ctx.out.data(&page, || {
                let mut t =
                    Table::new(&["NAME", "CONNECTED", "OS", "PLATFORM", "GROUPS", "LAST_SEEN"]);
                for s in &page.items {
                    t.row(vec![
                        s.name.clone(),
                        if s.connected { "yes" } else { "no" }.into(),
                        s.os.clone().unwrap_or_default(),
                        s.platform.clone().unwrap_or_default(),
                        s.groups.join(","),
                        super::when(s.last_seen),
                    ]);
                }
                t
            })?;
        }
        ServerCommand::Describe { server } => {
            let found = match server.parse::<ServerId>() {
                Ok(id) => client.server(id).await?,
                Err(_) => by_name(&client, &server).await?,
            };
            ctx.out.record(
                &found,
                vec![
                    ("id", found.id.to_string()),
                    ("name", found.name.clone()),
                    ("connected", found.connected.to_string()),
                    ("os", found.os.clone().unwrap_or_default()),
                    ("platform", found.platform.clone().unwrap_or_default()),
                    ("groups", found.groups.join(",")),
                    ("last_seen", super::when(found.last_seen)),
                    ("created_at", super::when(Some(found.created_at))),
                ],
            )?;
        }
    }
    Ok(0)
}

async fn by_name(client: &gatehouse_client::Client, name: &str) -> Result<Server, CliError> {
    client
        .servers(Some(name.to_owned()))
        .await?
        .items
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| CliError::failed("not_found", format!("no server named {name:?}")))
}
