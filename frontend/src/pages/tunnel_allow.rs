//! The server entry's `tunnel_allow` (staff, on the server's page): what tunnels through it
//! may reach, one `host:port` rule per line (`host:*` for any port). The server checks every
//! rule and says which one it refused; nothing changes until all parse.

use crate::api::tunnels::set_tunnel_allow;
use crate::components::ErrorBox;
use gatehouse_shared::server::Server;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn TunnelAllowEditor(server: Server) -> impl IntoView {
    let id = server.id;
    let rules = RwSignal::new(server.tunnel_allow.join("\n"));
    let error = RwSignal::new(None);
    let saved = RwSignal::new(false);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let list: Vec<String> = rules
            .get_untracked()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        saved.set(false);
        spawn_local(async move {
            match set_tunnel_allow(id, list).await {
                Ok(server) => {
                    rules.set(server.tunnel_allow.join("\n"));
                    error.set(None);
                    saved.set(true);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="tunnel-allow-heading">
            <h2 id="tunnel-allow-heading">"Tunnels may reach"</h2>
            <form class="form" on:submit=save>
                <label>
                    "One host:port per line (host:* for any port); other hosts on this server's network only when listed here. The agent's own --tunnel-allow still applies."
                    <textarea name="tunnel_allow" rows="4" data-testid="tunnel-allow" bind:value=rules
                        on:input=move |_| saved.set(false)></textarea>
                </label>
                <ErrorBox error=error />
                <button type="submit" class="primary" data-testid="tunnel-allow-save">"Save"</button>
                <Show when=move || saved.get()>
                    <span class="muted" data-testid="tunnel-allow-saved">"Saved"</span>
                </Show>
            </form>
        </section>
    }
}
