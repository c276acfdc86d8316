//! The account page's list of one's own sign-ins, browser and `gate` CLI together, each with
//! where it came from and when it was last used, and a button to end it (a lost laptop, a CLI
//! left signed in on a build box).

use crate::api::signins::{revoke_signin, signins};
use crate::api::ApiError;
use crate::components::ErrorBox;
use crate::time::format_at;
use gatehouse_shared::signin::{Signin, SigninClient};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn SigninsSection() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        reload.track();
        signins()
    });
    let error = RwSignal::new(None::<ApiError>);
    let end = move |id: uuid::Uuid| {
        spawn_local(async move {
            match revoke_signin(id).await {
                Ok(()) => {
                    error.set(None);
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section class="card admin-section" aria-labelledby="signins-heading">
            <h2 id="signins-heading">"Where you are signed in"</h2>
            <p class="hint">
                "Browsers and the gate command line. Ending one signs it out at once."
            </p>
            <ErrorBox error=error />
            {move || list.get().map(|result| match result {
                Ok(page) => view! {
                    <table class="signins" data-testid="signins">
                        <thead><tr>
                            <th>"Client"</th><th>"Address"</th><th>"Signed in"</th>
                            <th>"Last used"</th><th>"Expires"</th><th></th>
                        </tr></thead>
                        <tbody>
                            {page.items.into_iter().map(|s| view! { <Row signin=s end /> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.envelope.message}</p> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn Row(signin: Signin, end: impl Fn(uuid::Uuid) + Copy + Send + Sync + 'static) -> impl IntoView {
    let client = match signin.client {
        SigninClient::Browser => "Browser".to_owned(),
        SigninClient::Cli => match &signin.client_name {
            Some(name) => format!("Command line: {name}"),
            None => "Command line".to_owned(),
        },
    };
    let id = signin.id;
    view! {
        <tr data-testid="signin-row" data-client=signin.client.as_str()
            data-current=signin.current.to_string()>
            <td>{client}{signin.current.then_some(" (this one)")}</td>
            <td>{signin.address.unwrap_or_default()}</td>
            <td>{format_at(&signin.created_at)}</td>
            <td>{signin.last_used_at.as_ref().map(format_at).unwrap_or_default()}</td>
            <td>{format_at(&signin.expires_at)}</td>
            <td>
                {(!signin.current).then(|| view! {
                    <button type="button" data-action="end-signin" on:click=move |_| end(id)>
                        "Sign out"
                    </button>
                })}
            </td>
        </tr>
    }
}
