//! The line above a terminal: where it runs, as whom, and how long its work session has left,
//! with a warning in the last five minutes so nobody is cut off mid-command by surprise.

use crate::api;
use crate::live::use_live;
use crate::time::{format_duration, secs_until};
use chrono::{DateTime, Utc};
use gatehouse_shared::{Status, WorkSession, WorkSessionId};
use leptos::prelude::*;

/// Below this many seconds left the banner warns.
const WARN_SECS: i64 = 5 * 60;

/// What the banner says about the window, and whether it is a warning.
pub fn time_left(status: Status, expires_at: Option<DateTime<Utc>>, left: i64) -> (String, bool) {
    match (status, expires_at) {
        (Status::Active, Some(_)) if left <= 0 => ("expiring now".to_owned(), true),
        (Status::Active, Some(_)) if left < WARN_SECS => {
            // Rounded up: "expires in 1 min" until the very last second.
            (format!("expires in {} min", (left + 59) / 60), true)
        }
        (Status::Active, Some(_)) => (format!("{} left", format_duration(left)), false),
        (Status::Active, None) => ("no end time".to_owned(), false),
        (status, _) => (format!("work session {}", status.as_str()), false),
    }
}

fn describe(session: &WorkSession) -> (String, bool) {
    let left = session.expires_at.as_ref().map_or(0, secs_until);
    time_left(session.status, session.expires_at, left)
}

/// The banner of one terminal tab.
#[component]
pub fn SessionBanner(
    server: String,
    user: Option<String>,
    session: Option<WorkSessionId>,
    /// Whose terminal this is, when someone else's is being watched.
    watching: Option<String>,
    /// How many people are in this terminal (shared sessions), when the gateway said.
    #[prop(into)]
    watchers: Signal<usize>,
) -> impl IntoView {
    let live = use_live();
    let info = LocalResource::new(move || {
        live.version.track();
        async move {
            match session {
                Some(id) => api::work_session(&id.to_string()).await.ok(),
                None => None,
            }
        }
    });
    // The countdown moves every second between fetches.
    let tick = RwSignal::new(0u32);
    let timer = gloo_timers::callback::Interval::new(1000, move || {
        tick.try_update(|n| *n = n.wrapping_add(1));
    });
    let timer = StoredValue::new_local(Some(timer));
    on_cleanup(move || {
        timer.try_update_value(|t| drop(t.take()));
    });
    let window = Memo::new(move |_| {
        tick.track();
        info.get().flatten().map(|s| describe(&s))
    });
    let warn = move || window.with(|w| w.as_ref().is_some_and(|(_, warn)| *warn));

    view! {
        <div class="terminal-banner" data-testid="terminal-banner" class:warn=warn>
            <span class="terminal-server">{server}</span>
            {user.map(|u| view! { <span class="terminal-user">"as " {u}</span> })}
            {watching.map(|owner| {
                view! {
                    <span class="terminal-watching badge" data-testid="terminal-watching">
                        {format!("watching {owner}'s terminal, read-only")}
                    </span>
                }
            })}
            {move || {
                window
                    .get()
                    .map(|(text, warn)| {
                        view! {
                            <span
                                class="terminal-time-left"
                                data-testid="terminal-time-left"
                                data-warn=warn.to_string()
                            >
                                {text}
                            </span>
                        }
                    })
            }}
            {move || {
                let n = watchers.get();
                (n > 1).then(|| view! { <span class="terminal-watchers">{format!("{n} in this terminal")}</span> })
            }}
        </div>
        // Announced once a minute at most, unlike the ticking countdown.
        <p class="terminal-sr" role="status">
            {move || {
                window
                    .get()
                    .filter(|(_, warn)| *warn)
                    .map(|(text, _)| format!("Work session {text}"))
            }}
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_in_the_last_five_minutes() {
        let at = Some(DateTime::<Utc>::default());
        assert_eq!(
            time_left(Status::Active, at, 3600),
            ("1h 00m left".into(), false)
        );
        assert_eq!(
            time_left(Status::Active, at, 300),
            ("5m 00s left".into(), false)
        );
        assert_eq!(
            time_left(Status::Active, at, 299),
            ("expires in 5 min".into(), true)
        );
        assert_eq!(
            time_left(Status::Active, at, 30),
            ("expires in 1 min".into(), true)
        );
        assert!(time_left(Status::Active, at, 0).1);
        assert_eq!(
            time_left(Status::Revoked, at, 100),
            ("work session revoked".into(), false)
        );
    }
}
