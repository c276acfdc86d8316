//! Live updates: a counter that moves whenever the server says work sessions changed.
//!
//! Screens read [`Live::version`] inside their resources, so they refetch by themselves. The
//! server pushes over `GET /api/events` (server-sent events, reconnected by the browser); a slow
//! timer bumps the counter too, bounding staleness if the event stream is down.

use leptos::prelude::*;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The longest a list may stay stale when no event arrives.
const POLL_INTERVAL_MS: u32 = 20_000;

thread_local! {
    /// The open event stream; replaced on each sign-in so only one is ever open.
    static SOURCE: RefCell<Option<web_sys::EventSource>> = const { RefCell::new(None) };
}

/// The live-update context.
#[derive(Clone, Copy)]
pub struct Live {
    pub version: RwSignal<u64>,
}

impl Live {
    /// Creates the context and the fallback timer (which lives as long as the page).
    pub fn provide() -> Self {
        let live = Self {
            version: RwSignal::new(0),
        };
        provide_context(live);
        gloo_timers::callback::Interval::new(POLL_INTERVAL_MS, move || live.bump()).forget();
        live
    }

    fn bump(self) {
        self.version.update(|v| *v += 1);
    }

    /// (Re)opens the event stream; call after sign-in, since the stream needs the cookie.
    pub fn connect(self) {
        let Ok(source) = web_sys::EventSource::new("/api/events") else {
            return;
        };
        let on_change = Closure::<dyn Fn(web_sys::Event)>::new(move |_| self.bump());
        let _ = source
            .add_event_listener_with_callback("work_sessions", on_change.as_ref().unchecked_ref());
        // The listener lives as long as its stream, which is closed only when replaced.
        on_change.forget();
        if let Some(old) = SOURCE.with(|slot| slot.replace(Some(source))) {
            old.close();
        }
    }

    /// Closes the event stream (sign-out).
    pub fn disconnect(self) {
        if let Some(old) = SOURCE.with(|slot| slot.take()) {
            old.close();
        }
    }
}

/// The live-update context provided by the root component.
pub fn use_live() -> Live {
    expect_context::<Live>()
}
