//! Decisions on the signed-in person's own requests, as notices they can follow and dismiss: a
//! request approved or rejected, a session revoked, an extension decided, including those made
//! while the console was closed. "Seen" is a mark per person in this browser's localStorage:
//! the newest decision time already shown (server times only, so a wrong local clock neither
//! hides nor repeats one). A browser that has no mark yet starts from what exists now.

use crate::api;
use crate::auth::use_auth;
use crate::live::use_live;
use chrono::{DateTime, Utc};
use gatehouse_shared::approval::{Approval, ApprovalStatus};
use gatehouse_shared::{Status, UserId, WorkSession};
use leptos::prelude::*;
use leptos_router::components::A;

/// One decision to tell the person about.
#[derive(Clone, Debug, PartialEq)]
struct Notice {
    key: String,
    at: DateTime<Utc>,
    kind: &'static str,
    text: String,
    href: String,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn mark_key(user: UserId) -> String {
    format!("gatehouse.decisions-seen.{user}")
}

fn load_mark(user: UserId) -> Option<DateTime<Utc>> {
    let text = storage()?.get_item(&mark_key(user)).ok().flatten()?;
    DateTime::parse_from_rfc3339(&text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn save_mark(user: UserId, at: DateTime<Utc>) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(&mark_key(user), &at.to_rfc3339());
    }
}

fn quoted(purpose: &str) -> String {
    let short: String = purpose.chars().take(60).collect();
    let more = if short.len() < purpose.len() {
        "…"
    } else {
        ""
    };
    format!("\u{201c}{short}{more}\u{201d}")
}

fn because(reason: &Option<String>) -> String {
    reason
        .as_deref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default()
}

/// A decision someone else made on one of `me`'s sessions.
fn session_notice(s: &WorkSession, me: UserId) -> Option<Notice> {
    let href = format!("/sessions/{}", s.id);
    let (at, kind, text) = match s.status {
        Status::Approved | Status::Active | Status::Completed | Status::Expired => {
            let by = s.approved_by.as_ref().filter(|u| u.id != me)?;
            let at = s.decided_at?;
            (
                at,
                "approved",
                format!(
                    "{} was approved by {}{}",
                    quoted(&s.purpose),
                    by.username,
                    because(&s.decision_reason)
                ),
            )
        }
        Status::Rejected => {
            let at = s.decided_at?;
            (
                at,
                "rejected",
                format!(
                    "{} was rejected{}",
                    quoted(&s.purpose),
                    because(&s.decision_reason)
                ),
            )
        }
        Status::Revoked => {
            let at = s.ended_at?;
            (
                at,
                "revoked",
                format!(
                    "{} was revoked{}",
                    quoted(&s.purpose),
                    because(&s.decision_reason)
                ),
            )
        }
        Status::Pending | Status::Cancelled => return None,
    };
    Some(Notice {
        key: format!("{}-{kind}", s.id),
        at,
        kind,
        text,
        href,
    })
}

/// An extension of one of `me`'s sessions, decided by someone else.
fn extension_notice(a: &Approval, me: UserId) -> Option<Notice> {
    let by = a.decided_by.as_ref().filter(|u| u.id != me)?;
    let at = a.decided_at?;
    let (kind, verb) = match a.status {
        ApprovalStatus::Approved => ("extension-approved", "approved"),
        ApprovalStatus::Rejected => ("extension-rejected", "rejected"),
        _ => return None,
    };
    Some(Notice {
        key: a.id.to_string(),
        at,
        kind,
        text: format!(
            "{} extending {} was {verb} by {}{}",
            crate::components::extension::asked(a),
            quoted(&a.work_session.purpose),
            by.username,
            because(&a.reason)
        ),
        href: format!("/sessions/{}", a.work_session.id),
    })
}

async fn decisions(me: UserId) -> Vec<Notice> {
    let sessions = api::work_sessions(&api::sessions_where("all", "me", 100))
        .await
        .map(|page| page.items)
        .unwrap_or_default();
    let extensions = api::approvals(&api::approvals_where("extension", "approved,rejected", 100))
        .await
        .unwrap_or_default();
    sessions
        .iter()
        .filter_map(|s| session_notice(s, me))
        .chain(extensions.iter().filter_map(|a| extension_notice(a, me)))
        .collect()
}

#[component]
pub fn DecisionNotices() -> impl IntoView {
    let auth = use_auth();
    let live = use_live();
    let shown = RwSignal::new(Vec::<Notice>::new());
    let me = Memo::new(move |_| auth.me.with(|m| m.as_ref().map(|m| m.user.id)));
    let fetched = LocalResource::new(move || {
        live.version.track();
        let me = me.get();
        async move {
            match me {
                Some(me) => Some((me, decisions(me).await)),
                None => None,
            }
        }
    });
    Effect::new(move |_| {
        let Some(Some((me, mut found))) = fetched.get() else {
            return;
        };
        let newest = found.iter().map(|n| n.at).max();
        let Some(since) = load_mark(me) else {
            // This browser's first look: what exists now is known; later decisions are news.
            save_mark(me, newest.unwrap_or(DateTime::UNIX_EPOCH));
            return;
        };
        found.retain(|n| n.at > since);
        if found.is_empty() {
            return;
        }
        found.sort_by_key(|n| n.at);
        if let Some(newest) = newest {
            save_mark(me, newest.max(since));
        }
        shown.update(|list| {
            for notice in found {
                if !list.iter().any(|n| n.key == notice.key) {
                    list.push(notice);
                }
            }
        });
    });
    // Signing out (or in as someone else) clears what was shown.
    Effect::new(move |_| {
        me.track();
        shown.set(Vec::new());
    });
    let dismiss = move |key: String| shown.update(|list| list.retain(|n| n.key != key));
    view! {
        <div class="decision-notices" role="status" aria-live="polite">
            <For each=move || shown.get() key=|n| n.key.clone() let:notice>
                {
                    let key = notice.key.clone();
                    view! {
                        <p class="notice" data-testid="decision-notice" data-kind=notice.kind>
                            <span>{notice.text}</span>
                            " "
                            <A href=notice.href>"Open"</A>
                            <button type="button" class="link" aria-label="Dismiss"
                                on:click=move |_| dismiss(key.clone())>"Dismiss"</button>
                        </p>
                    }
                }
            </For>
        </div>
    }
}
