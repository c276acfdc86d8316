//! The small form under each kind of rule that grants one more (superusers). The server checks
//! every field again; its message about a field is shown once, at that field.

use crate::api::{self, ApiError};
use crate::components::ErrorBox;
use crate::pages::admin::form::{clear_field, FieldError};
use gatehouse_shared::acl::api::{
    NewCommandRule, NewFileRule, NewServerRule, NewTunnelRule, RuleKind,
};
use gatehouse_shared::acl::FileAction;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::de::IgnoredAny;

/// The request-body fields of `kind`, which are also where the server reports problems.
fn fields(kind: RuleKind) -> &'static [&'static str] {
    match kind {
        RuleKind::Servers => &["pattern"],
        RuleKind::Commands => &["command", "user"],
        RuleKind::Files => &["path", "action", "user"],
        RuleKind::Tunnels => &["port", "host"],
    }
}

/// An optional text field: trimmed, `None` when empty.
fn optional(value: RwSignal<String>) -> Option<String> {
    Some(value.get_untracked().trim().to_owned()).filter(|v| !v.is_empty())
}

fn parse_action(value: &str) -> FileAction {
    match value {
        "upload" => FileAction::Upload,
        "any" => FileAction::Any,
        _ => FileAction::Download,
    }
}

async fn send(
    token: &str,
    kind: RuleKind,
    main: String,
    user: Option<String>,
    action: FileAction,
    host: Option<String>,
) -> Result<(), ApiError> {
    let granted: api::ApiResult<IgnoredAny> = match kind {
        RuleKind::Servers => {
            api::acl::grant_rule(token, kind, &NewServerRule { pattern: main }).await
        }
        RuleKind::Commands => {
            api::acl::grant_rule(
                token,
                kind,
                &NewCommandRule {
                    command: main,
                    user,
                },
            )
            .await
        }
        RuleKind::Files => {
            api::acl::grant_rule(
                token,
                kind,
                &NewFileRule {
                    path: main,
                    action,
                    user,
                },
            )
            .await
        }
        RuleKind::Tunnels => {
            // The input is type=number with a range, so the browser refused anything else.
            let Ok(port) = main.parse::<u16>() else {
                return Err(ApiError::local("Enter a port from 1 to 65535."));
            };
            api::acl::grant_rule(token, kind, &NewTunnelRule { port, host }).await
        }
    };
    granted.map(|_| ())
}

#[component]
pub fn AddRule(
    token: String,
    kind: RuleKind,
    on_added: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let main = RwSignal::new(String::new());
    let user = RwSignal::new(String::new());
    let action = RwSignal::new("download".to_owned());
    let host = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let token = token.clone();
        let body = (
            main.get_untracked().trim().to_owned(),
            optional(user),
            parse_action(&action.get_untracked()),
            optional(host),
        );
        busy.set(true);
        spawn_local(async move {
            let (value, user_value, action_value, host_value) = body;
            match send(&token, kind, value, user_value, action_value, host_value).await {
                Ok(()) => {
                    error.set(None);
                    // The rest stays, for the next rule of the same shape.
                    main.set(String::new());
                    on_added();
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let (label, name, placeholder) = match kind {
        RuleKind::Servers => ("Server name or pattern", "pattern", "web-*"),
        RuleKind::Commands => ("Command", "command", "systemctl status nginx"),
        RuleKind::Files => ("Path", "path", "/var/log/**"),
        RuleKind::Tunnels => ("Port", "port", "5432"),
    };
    let text_field = move |label: &'static str,
                           name: &'static str,
                           placeholder: &'static str,
                           value: RwSignal<String>,
                           required: bool| {
        view! {
            <label>
                {label}
                <input name=name placeholder=placeholder autocomplete="off" spellcheck="false"
                    required=required
                    aria-invalid=move || error.with(|e| e.as_ref().is_some_and(|e| e.field(name).is_some())).to_string()
                    prop:value=value
                    on:input=move |ev| {
                        value.set(event_target_value(&ev));
                        clear_field(error, name);
                    } />
                <FieldError error=error field=name />
            </label>
        }
    };
    let main_field = if kind == RuleKind::Tunnels {
        view! {
            <label>
                {label}
                <input name=name type="number" min="1" max="65535" required placeholder=placeholder
                    prop:value=main
                    on:input=move |ev| {
                        main.set(event_target_value(&ev));
                        clear_field(error, "port");
                    } />
                <FieldError error=error field="port" />
            </label>
        }
        .into_any()
    } else {
        text_field(label, name, placeholder, main, true).into_any()
    };
    let user_field = matches!(kind, RuleKind::Commands | RuleKind::Files)
        .then(|| text_field("Run as (optional)", "user", "own account", user, false));
    let action_field = (kind == RuleKind::Files).then(|| {
        view! {
            <label>
                "Action"
                <select name="action" on:change=move |ev| action.set(event_target_value(&ev))>
                    <option value="download" selected=move || action.get() == "download">"Download (read)"</option>
                    <option value="upload" selected=move || action.get() == "upload">"Upload (write)"</option>
                    <option value="any" selected=move || action.get() == "any">"Both"</option>
                </select>
                <FieldError error=error field="action" />
            </label>
        }
    });
    let host_field =
        (kind == RuleKind::Tunnels).then(|| text_field("Host", "host", "127.0.0.1", host, false));
    let title = super::rules::kind_title(kind).to_lowercase();
    view! {
        <form class="admin-form add-rule" data-testid="add-rule" data-kind=kind.as_str()
            on:submit=submit>
            <div class="form-row">
                {main_field}
                {action_field}
                {user_field}
                {host_field}
            </div>
            <ErrorBox error=error at_fields=fields(kind) />
            <button type="submit" aria-disabled=move || busy.get().to_string()>
                {format!("Add {} rule", title.trim_end_matches('s'))}
            </button>
        </form>
    }
}
