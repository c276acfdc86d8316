//! A token's rules, by kind: read-only under one's own tokens on the Account page, editable
//! (an add form per kind, a Remove button per rule) on the Tokens page for superusers.

use super::add_rule::AddRule;
use crate::api::{self, ApiError, ApiResult};
use crate::components::ErrorBox;
use crate::pages::admin::form::focus_when_rendered;
use gatehouse_shared::acl::api::{RuleKind, TokenAcl};
use gatehouse_shared::acl::FileAction;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

/// One token's rules as loaded; refetched after every change.
pub type AclResource = LocalResource<ApiResult<TokenAcl>>;

pub fn acl_resource(token: String) -> AclResource {
    LocalResource::new(move || {
        let token = token.clone();
        async move { api::acl::token_acl(&token).await }
    })
}

/// One rule as a line of text: what it matches, and (for commands and files) whom it runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleLine {
    pub id: Uuid,
    pub text: String,
    pub note: Option<String>,
}

fn run_as_words(user: Option<&str>) -> String {
    match user {
        None => "as the owner's own account".to_owned(),
        Some("*") => "as any account but root".to_owned(),
        Some(user) => format!("as {user}"),
    }
}

pub fn action_words(action: FileAction) -> &'static str {
    match action {
        FileAction::Download => "download",
        FileAction::Upload => "upload",
        FileAction::Any => "upload and download",
    }
}

/// The rules of `kind`, as lines.
pub fn lines(acl: &TokenAcl, kind: RuleKind) -> Vec<RuleLine> {
    match kind {
        RuleKind::Servers => acl
            .servers
            .iter()
            .map(|r| RuleLine {
                id: r.id,
                text: r.pattern.clone(),
                note: None,
            })
            .collect(),
        RuleKind::Commands => acl
            .commands
            .iter()
            .map(|r| RuleLine {
                id: r.id,
                text: r.command.clone(),
                note: Some(run_as_words(r.user.as_deref())),
            })
            .collect(),
        RuleKind::Files => acl
            .files
            .iter()
            .map(|r| RuleLine {
                id: r.id,
                text: r.path.clone(),
                note: Some(format!(
                    "{}, {}",
                    action_words(r.action),
                    run_as_words(r.user.as_deref())
                )),
            })
            .collect(),
        RuleKind::Tunnels => acl
            .tunnels
            .iter()
            .map(|r| RuleLine {
                id: r.id,
                text: format!("{}:{}", r.host, r.port),
                note: None,
            })
            .collect(),
    }
}

/// The rule with `id`, whatever its kind.
pub fn find_rule(acl: &TokenAcl, id: Uuid) -> Option<(RuleKind, RuleLine)> {
    RuleKind::ALL.into_iter().find_map(|kind| {
        lines(acl, kind)
            .into_iter()
            .find(|l| l.id == id)
            .map(|l| (kind, l))
    })
}

fn is_empty(acl: &TokenAcl) -> bool {
    acl.servers.is_empty()
        && acl.commands.is_empty()
        && acl.files.is_empty()
        && acl.tunnels.is_empty()
}

pub fn kind_title(kind: RuleKind) -> &'static str {
    match kind {
        RuleKind::Servers => "Servers",
        RuleKind::Commands => "Commands",
        RuleKind::Files => "Files",
        RuleKind::Tunnels => "Tunnels",
    }
}

fn kind_hint(kind: RuleKind) -> &'static str {
    match kind {
        RuleKind::Servers => "Which servers the token may reach, by name or pattern (web-*). Every operation needs one.",
        RuleKind::Commands => "The program, then one word per argument; a final lone * allows any further arguments. A lone * also allows a terminal. Run as: empty for the owner's own account, * for any but root, or an account name.",
        RuleKind::Files => "An absolute path: * within one component, a final ** for any depth. Download covers listing and reading; upload covers writing, making directories, renaming and deleting.",
        RuleKind::Tunnels => "A port on the server, and the host it leads to there (127.0.0.1 when left empty).",
    }
}

/// A token's rules, read-only, loaded on their own (the Account page).
#[component]
pub fn RuleLists(token: String) -> impl IntoView {
    let acl = acl_resource(token.clone());
    view! { <RulesView acl=acl token=token editable=false /> }
}

/// A token's rules from `acl`; `editable` adds the add forms and Remove buttons.
#[component]
pub fn RulesView(acl: AclResource, token: String, editable: bool) -> impl IntoView {
    let current = Memo::new(move |_| acl.get().and_then(Result::ok));
    let status = move || {
        match acl.get() {
        None => Some(view! { <p class="loading">"Loading rules…"</p> }.into_any()),
        Some(Err(e)) => Some(view! { <ErrorBox error=Signal::stored(Some(e)) /> }.into_any()),
        Some(Ok(rules)) if is_empty(&rules) => Some(
            view! {
                <p class="empty" data-testid="no-rules">"No rules: this token can do nothing yet."</p>
            }
            .into_any(),
        ),
        Some(Ok(_)) => None,
    }
    };
    // Read-only, only the kinds that hold rules; editable, all four (each has its add form).
    let shown = move |kind: RuleKind| {
        editable || current.with(|acl| acl.as_ref().is_some_and(|a| !lines(a, kind).is_empty()))
    };
    let kinds = RuleKind::ALL.map(|kind| {
        let token = token.clone();
        view! {
            <Show when=move || shown(kind)>
                <RuleKindList acl=acl current=current token=token.clone() kind=kind editable=editable />
            </Show>
        }
    });
    view! {
        <div class="token-rules" data-testid="token-rules" class:editable=editable>
            {status}
            <div class="rule-kinds">{kinds.into_iter().collect_view()}</div>
        </div>
    }
}

#[component]
fn RuleKindList(
    acl: AclResource,
    current: Memo<Option<TokenAcl>>,
    token: String,
    kind: RuleKind,
    editable: bool,
) -> impl IntoView {
    let heading = format!("rules-{token}-{}", kind.as_str());
    let labelled_by = heading.clone();
    let error = RwSignal::new(None::<ApiError>);
    let items =
        move || current.with(|acl| acl.as_ref().map(|a| lines(a, kind)).unwrap_or_default());
    let focus_heading = {
        let heading = heading.clone();
        move || focus_when_rendered(format!("#{heading}"))
    };
    let remove = {
        let token = token.clone();
        move |rule: Uuid| {
            let token = token.clone();
            let focus_heading = focus_heading.clone();
            spawn_local(async move {
                match api::acl::remove_rule(&token, kind, rule).await {
                    Ok(()) => {
                        error.set(None);
                        acl.refetch();
                        // The row and its button go: keep the keyboard in this list.
                        focus_heading();
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };
    let title = kind_title(kind);
    view! {
        <section class="rule-kind" data-testid="rule-kind" data-kind=kind.as_str()
            aria-labelledby=labelled_by>
            <h4 id=heading tabindex="-1">{title}</h4>
            {editable.then(|| view! { <p class="hint">{kind_hint(kind)}</p> })}
            <ul class="rule-list">
                <For each=items key=|line| line.id let:line>
                    {
                        let remove = remove.clone();
                        let id = line.id;
                        let label = format!("Remove {} rule {}", title.to_lowercase(), line.text);
                        view! {
                            <li data-testid="rule" data-rule-id=id.to_string()>
                                <code class="rule-text">{line.text.clone()}</code>
                                {line.note.clone().map(|n| view! { <span class="meta">{format!(" {n}")}</span> })}
                                {editable.then(|| view! {
                                    <button type="button" class="rule-remove" data-testid="rule-remove"
                                        aria-label=label on:click=move |_| remove(id)>
                                        "Remove"
                                    </button>
                                })}
                            </li>
                        }
                    }
                </For>
            </ul>
            <Show when=move || editable && items().is_empty()>
                <p class="empty">"None."</p>
            </Show>
            <ErrorBox error=error />
            {editable.then(|| view! { <AddRule token=token.clone() kind=kind on_added=move || acl.refetch() /> })}
        </section>
    }
}
