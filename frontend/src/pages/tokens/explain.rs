//! "Explain": asks the server what the gate would decide for one operation by this token
//! (`POST /api/tokens/{id}/acl/test`) and shows Allowed or Denied, the reason and the rule.

use super::rules::{find_rule, kind_title, AclResource};
use crate::api::{self, ApiError};
use crate::components::ErrorBox;
use crate::pages::admin::form::{clear_field, FieldError};
use gatehouse_shared::acl::api::AclTest;
use gatehouse_shared::acl::{Decision, FileAction};
use gatehouse_shared::Scope;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// What is being asked about.
fn request(
    what: &str,
    server: String,
    command: String,
    path: String,
    action: &str,
    user: String,
) -> AclTest {
    let user = Some(user.trim().to_owned()).filter(|u| !u.is_empty());
    let mut test = AclTest {
        server: server.trim().to_owned(),
        user,
        ..AclTest::default()
    };
    match what {
        "file" => {
            test.scope = Some(Scope::Webftp);
            test.path = Some(path.trim().to_owned());
            test.action = Some(if action == "upload" {
                FileAction::Upload
            } else {
                FileAction::Download
            });
        }
        "terminal" => test.scope = Some(Scope::Websh),
        _ => {
            test.scope = Some(Scope::Command);
            test.command = Some(command.trim().to_owned());
        }
    }
    test
}

#[component]
pub fn Explain(token: String, acl: AclResource) -> impl IntoView {
    let server = RwSignal::new(String::new());
    let what = RwSignal::new("command".to_owned());
    let command = RwSignal::new(String::new());
    let path = RwSignal::new(String::new());
    let action = RwSignal::new("download".to_owned());
    let user = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let decision = RwSignal::new(None::<Decision>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let body = request(
            &what.get_untracked(),
            server.get_untracked(),
            command.get_untracked(),
            path.get_untracked(),
            &action.get_untracked(),
            user.get_untracked(),
        );
        let token = token.clone();
        busy.set(true);
        spawn_local(async move {
            match api::acl::test_acl(&token, &body).await {
                Ok(answer) => {
                    error.set(None);
                    decision.set(Some(answer));
                }
                Err(e) => {
                    decision.set(None);
                    error.set(Some(e));
                }
            }
            busy.set(false);
        });
    };
    // Any edit makes the last answer stale.
    let edited = move |value: RwSignal<String>, field: &'static str| {
        move |ev: leptos::ev::Event| {
            value.set(event_target_value(&ev));
            clear_field(error, field);
            decision.set(None);
        }
    };
    let result = move || {
        decision.get().map(|d| {
            let rule = d.rule.and_then(|id| {
                acl.get()
                    .and_then(Result::ok)
                    .and_then(|acl| find_rule(&acl, id))
                    .map(|(kind, line)| (id, kind, line))
            });
            let (class, word) = if d.allowed { ("explain-result allowed", "Allowed") } else { ("explain-result denied", "Denied") };
            view! {
                <div class=class data-testid="explain-result" data-allowed=d.allowed.to_string()>
                    <strong class="verdict">{word}</strong>
                    <span class="reason" data-testid="explain-reason">{format!(": {}.", d.reason)}</span>
                    {rule.map(|(id, kind, line)| view! {
                        <p class="explain-rule" data-testid="explain-rule" data-rule-id=id.to_string()>
                            {format!("By the {} rule ", kind_title(kind).to_lowercase().trim_end_matches('s'))}
                            <code>{line.text}</code>
                            {line.note.map(|n| format!(" ({n})"))}
                        </p>
                    })}
                </div>
            }
        })
    };
    let shows = move |kind: &'static str| move || what.get() == kind;
    view! {
        <section class="explain" aria-labelledby="explain-heading">
            <h3 id="explain-heading">"Explain"</h3>
            <p class="hint">"What would the gate decide if this token asked for…"</p>
            <form class="admin-form" data-testid="explain" on:submit=submit>
                <div class="form-row">
                    <label>
                        "Server"
                        <input name="server" required autocomplete="off" placeholder="web-01"
                            prop:value=server on:input=edited(server, "server") />
                        <FieldError error=error field="server" />
                    </label>
                    <label>
                        "To"
                        <select name="what" on:change=edited(what, "scope")>
                            <option value="command" selected=move || what.get() == "command">"Run a command"</option>
                            <option value="file" selected=move || what.get() == "file">"Read or write a file"</option>
                            <option value="terminal" selected=move || what.get() == "terminal">"Open a terminal"</option>
                        </select>
                    </label>
                    <Show when=shows("command")>
                        <label class="wide">
                            "Command line"
                            <input name="command" required autocomplete="off" spellcheck="false"
                                placeholder="systemctl status nginx"
                                prop:value=command on:input=edited(command, "command") />
                            <FieldError error=error field="command" />
                        </label>
                    </Show>
                    <Show when=shows("file")>
                        <label class="wide">
                            "Path"
                            <input name="path" required autocomplete="off" spellcheck="false"
                                placeholder="/var/log/nginx/error.log"
                                prop:value=path on:input=edited(path, "path") />
                            <FieldError error=error field="path" />
                        </label>
                        <label>
                            "Action"
                            <select name="action" on:change=edited(action, "action")>
                                <option value="download" selected=move || action.get() == "download">"Download"</option>
                                <option value="upload" selected=move || action.get() == "upload">"Upload"</option>
                            </select>
                        </label>
                    </Show>
                    <label>
                        "Run as (optional)"
                        <input name="user" autocomplete="off" placeholder="the owner's own"
                            prop:value=user on:input=edited(user, "user") />
                        <FieldError error=error field="user" />
                    </label>
                </div>
                <ErrorBox error=error at_fields=&["server", "command", "path", "user"] />
                <button type="submit" class="primary" aria-disabled=move || busy.get().to_string()>
                    "Explain"
                </button>
            </form>
            <div role="status" aria-live="polite">{result}</div>
        </section>
    }
}
