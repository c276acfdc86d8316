//! The Approvals link with the number of requests waiting, also shown in the page title, so an
//! approver on another tab sees that someone is waiting. Follows the live updates, and, when the
//! approver allowed it, raises a browser notification as a new request arrives.

use crate::api;
use crate::live::use_live;
use leptos::prelude::*;
use leptos_router::components::A;

/// Tells the approver through the browser's notifications, when they allowed it (asked for on
/// the approvals page, never forced) and the console is not the page they are looking at.
fn notify(waiting: usize) {
    let visible = web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Visible);
    if visible || notification_permission() != "granted" {
        return;
    }
    let options = web_sys::NotificationOptions::new();
    options.set_body(&format!(
        "{waiting} request{} waiting for a decision",
        if waiting == 1 { "" } else { "s" }
    ));
    options.set_tag("gatehouse-approvals");
    let _ = web_sys::Notification::new_with_options("Gatehouse: a new request", &options);
}

/// `granted`, `denied`, `default`, or empty where the browser has no notifications.
pub fn notification_permission() -> String {
    let supported = web_sys::window().is_some_and(|w| {
        js_sys::Reflect::has(&w, &wasm_bindgen::JsValue::from_str("Notification")).unwrap_or(false)
    });
    if !supported {
        return String::new();
    }
    match web_sys::Notification::permission() {
        web_sys::NotificationPermission::Granted => "granted",
        web_sys::NotificationPermission::Denied => "denied",
        _ => "default",
    }
    .to_owned()
}

/// Offers browser notifications for new requests while the browser has not been asked yet.
#[component]
pub fn NotifyToggle() -> impl IntoView {
    let permission = RwSignal::new(notification_permission());
    let ask = move |_| {
        if let Ok(promise) = web_sys::Notification::request_permission() {
            leptos::task::spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
                permission.set(notification_permission());
            });
        }
    };
    move || match permission.get().as_str() {
        "default" => Some(
            view! {
                <button type="button" data-testid="notify-me" on:click=ask>
                    "Notify me of new requests"
                </button>
            }
            .into_any(),
        ),
        "granted" => {
            Some(view! { <span class="hint">"Browser notifications are on."</span> }.into_any())
        }
        _ => None,
    }
}

/// The page title without a count.
const TITLE: &str = "Gatehouse";

#[component]
pub fn ApprovalsLink() -> impl IntoView {
    let live = use_live();
    let pending = LocalResource::new(move || {
        live.version.track();
        async move {
            api::approvals(&api::approvals_where("", "", 500))
                .await
                .map(|items| items.len())
                .unwrap_or(0)
        }
    });
    let count = move || pending.get().unwrap_or(0);
    // The count last seen, so only a rise (a new request) notifies, never the first load.
    let seen = StoredValue::new(None::<usize>);
    Effect::new(move || {
        let Some(n) = pending.get() else { return };
        if seen.get_value().is_some_and(|before| n > before) {
            notify(n);
        }
        seen.set_value(Some(n));
    });
    Effect::new(move || {
        let n = count();
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(&if n > 0 {
                format!("({n}) {TITLE}")
            } else {
                TITLE.to_owned()
            });
        }
    });
    on_cleanup(|| {
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(TITLE);
        }
    });
    view! {
        <A href="/approvals">
            "Approvals"
            <Show when=move || { count() > 0 }>
                <span class="count" data-testid="pending-count" aria-label="requests waiting">
                    {count}
                </span>
            </Show>
        </A>
    }
}
