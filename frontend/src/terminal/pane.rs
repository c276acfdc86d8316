//! One terminal tab's panel: opens the terminal (`POST /api/websh`), runs xterm and the stream,
//! keeps xterm fitted to the panel, and shows the banner, notices and the ended state.

use super::banner::SessionBanner;
use super::flow::Phase;
use super::keys::attach_clipboard;
use super::stream::{Events, Stream};
use super::xterm::{self, Screen};
use crate::api;
use gatehouse_shared::websh::{NoticeLevel, OpenWebsh};
use gatehouse_shared::WorkSessionId;
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlElement, ResizeObserver};

/// How many gateway notices a panel keeps on screen.
const NOTICES_KEPT: usize = 5;

/// One terminal tab as the websh page keeps it.
#[derive(Clone, Debug)]
pub struct Tab {
    pub key: u32,
    pub server: String,
    pub user: Option<String>,
    pub session: Option<WorkSessionId>,
    /// Shared by the tab button and the panel; reference-counted so it outlives whichever
    /// reactive scope happened to create the tab.
    pub phase: ArcRwSignal<Phase>,
    /// The terminal's id once the server opened it, so closing the tab can end the shell.
    pub terminal: ArcRwSignal<Option<uuid::Uuid>>,
}

#[derive(Clone, Debug, PartialEq)]
struct Notice {
    id: u32,
    warn: bool,
    text: String,
}

/// What the panel holds while mounted; released in [`Runtime::shutdown`].
struct Runtime {
    screen: Rc<Screen>,
    stream: Rc<RefCell<Option<Stream>>>,
    observer: Option<ResizeObserver>,
    closed: Rc<Cell<bool>>,
}

/// Fits the screen to its panel and tells the gateway the new size. Holds only weak handles,
/// so the JS callbacks that own copies never keep a closed terminal alive.
#[derive(Clone)]
struct Refit {
    screen: Weak<Screen>,
    stream: Weak<RefCell<Option<Stream>>>,
}

impl Refit {
    fn run(&self) {
        let Some(screen) = self.screen.upgrade() else {
            return;
        };
        let Some((cols, rows)) = screen.fit() else {
            return;
        };
        if let Some(slot) = self.stream.upgrade() {
            if let Ok(slot) = slot.try_borrow() {
                if let Some(stream) = slot.as_ref() {
                    stream.resize(cols, rows);
                }
            }
        }
    }
}

impl Runtime {
    fn start(
        host: HtmlElement,
        tab: &Tab,
        notices: RwSignal<Vec<Notice>>,
        watchers: RwSignal<usize>,
    ) -> Self {
        let screen = Rc::new(Screen::open(
            host.clone(),
            &xterm::options(None, false),
            true,
        ));
        attach_clipboard(&screen);
        let stream: Rc<RefCell<Option<Stream>>> = Rc::default();
        forward_input(&screen, Rc::downgrade(&stream));
        let refit = Refit {
            screen: Rc::downgrade(&screen),
            stream: Rc::downgrade(&stream),
        };
        let observer = observe_size(&host, refit.clone(), &screen);
        let closed = Rc::new(Cell::new(false));

        let size = screen.fit().unwrap_or((80, 24));
        let request = OpenWebsh {
            server: tab.server.clone(),
            cols: size.0,
            rows: size.1,
            user: tab.user.clone(),
        };
        let (session, phase, terminal) = (tab.session, tab.phase.clone(), tab.terminal.clone());
        let (screen2, slot, closed2) = (screen.clone(), stream.clone(), closed.clone());
        spawn_local(async move {
            let opened = api::open_websh(session, &request).await;
            if closed2.get() {
                return;
            }
            match opened {
                Ok(opened) => {
                    terminal.try_set(Some(opened.id));
                    let events = events(phase, notices, watchers, refit);
                    let connected = Stream::connect(opened.ws_path, screen2, events);
                    *slot.borrow_mut() = Some(connected);
                }
                Err(e) => {
                    screen2.disable_input();
                    phase.try_set(Phase::refused(e.to_string()));
                }
            }
        });
        Self {
            screen,
            stream,
            observer,
            closed,
        }
    }

    /// Fits after the panel became visible, and puts the keyboard there, unless the keyboard is
    /// on the tab list (someone moving between tabs with the arrow keys).
    fn shown(&self) {
        Refit {
            screen: Rc::downgrade(&self.screen),
            stream: Rc::downgrade(&self.stream),
        }
        .run();
        let on_tab = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element())
            .is_some_and(|e| e.get_attribute("role").as_deref() == Some("tab"));
        if !on_tab {
            self.screen.focus();
        }
    }

    fn shutdown(&self) {
        self.closed.set(true);
        if let Some(observer) = &self.observer {
            observer.disconnect();
        }
        if let Some(stream) = self.stream.borrow_mut().take() {
            stream.shutdown();
        }
        self.screen.dispose();
    }
}

fn events(
    phase: ArcRwSignal<Phase>,
    notices: RwSignal<Vec<Notice>>,
    watchers: RwSignal<usize>,
    refit: Refit,
) -> Events {
    let next_id = Cell::new(0u32);
    Events {
        phase: Box::new(move |p| {
            // Each (re)connection starts from a fresh measurement, in case the layout settled
            // (style sheets, fonts) after the terminal was first sized.
            if p == Phase::Open {
                refit.run();
            }
            phase.try_set(p);
        }),
        notice: Box::new(move |level, text| {
            let id = next_id.get();
            next_id.set(id.wrapping_add(1));
            notices.try_update(|list| {
                list.push(Notice {
                    id,
                    warn: level == NoticeLevel::Warn,
                    text,
                });
                if list.len() > NOTICES_KEPT {
                    list.remove(0);
                }
            });
        }),
        participants: Box::new(move |n| {
            watchers.try_set(n);
        }),
    }
}

/// Keystrokes and pastes go to the stream as binary frames of their UTF-8 bytes.
fn forward_input(screen: &Screen, stream: Weak<RefCell<Option<Stream>>>) {
    let weak = stream.clone();
    let on_data = Closure::<dyn FnMut(String)>::new(move |data: String| {
        if let Some(slot) = weak.upgrade() {
            if let Some(stream) = slot.borrow().as_ref() {
                stream.send_input(data.as_bytes());
            }
        }
    });
    // `onBinary` carries raw bytes (some mouse reports) as one char per byte.
    let on_binary = Closure::<dyn FnMut(String)>::new(move |data: String| {
        if let Some(slot) = stream.upgrade() {
            if let Some(stream) = slot.borrow().as_ref() {
                let bytes: Vec<u8> = data.chars().map(|c| c as u32 as u8).collect();
                stream.send_input(&bytes);
            }
        }
    });
    screen.term().on_data(on_data.as_ref().unchecked_ref());
    screen.term().on_binary(on_binary.as_ref().unchecked_ref());
    screen.keep(on_data);
    screen.keep(on_binary);
}

/// Refits whenever the panel's size changes: window resizes, the tab being shown, banners and
/// notices coming and going. The gateway hears only real changes.
fn observe_size(host: &HtmlElement, refit: Refit, screen: &Screen) -> Option<ResizeObserver> {
    let on_resize = Closure::<dyn FnMut(js_sys::Array)>::new(move |_: js_sys::Array| refit.run());
    let observer = ResizeObserver::new(on_resize.as_ref().unchecked_ref()).ok()?;
    observer.observe(host);
    screen.keep(on_resize);
    Some(observer)
}

/// The panel of one terminal tab; hidden (but connected) while another tab is active.
#[component]
pub fn TerminalPane(tab: Tab, #[prop(into)] active: Signal<bool>) -> impl IntoView {
    let phase = RwSignal::from(tab.phase.clone());
    let notices = RwSignal::new(Vec::<Notice>::new());
    let watchers = RwSignal::new(0usize);
    let host = NodeRef::<leptos::html::Div>::new();
    let runtime = StoredValue::new_local(None::<Rc<Runtime>>);

    let spec = tab.clone();
    Effect::new(move |_| {
        let Some(el) = host.get() else {
            return;
        };
        if runtime.with_value(Option::is_some) {
            return;
        }
        let started = Runtime::start(el.into(), &spec, notices, watchers);
        runtime.set_value(Some(Rc::new(started)));
    });
    Effect::new(move |_| {
        if !active.get() {
            return;
        }
        if let Some(rt) = runtime.with_value(Clone::clone) {
            // After this frame's layout, when `display: none` is gone and sizes are real.
            request_animation_frame(move || rt.shown());
        }
    });
    on_cleanup(move || {
        runtime.try_update_value(|rt| {
            if let Some(rt) = rt.take() {
                rt.shutdown();
            }
        });
    });

    // The live region stays in place; only its text comes and goes, so it is announced.
    let status = move || {
        let text = match phase.get() {
            Phase::Connecting => "Connecting…",
            Phase::Reconnecting => "Connection lost. Reconnecting…",
            _ => return None,
        };
        Some(view! { <span>{text}</span> })
    };
    view! {
        <section
            class="terminal-panel"
            role="tabpanel"
            id=format!("terminal-panel-{}", tab.key)
            aria-labelledby=format!("terminal-tab-{}", tab.key)
            data-testid="terminal"
            data-server=tab.server.clone()
            data-state=move || phase.with(Phase::as_str)
            style:display=move || if active.get() { "flex" } else { "none" }
        >
            <SessionBanner server=tab.server.clone() user=tab.user.clone() session=tab.session watchers=watchers />
            {move || {
                phase.with(Phase::banner).map(|text| {
                    view! { <div class="terminal-ended" role="alert" data-testid="terminal-ended">{text}</div> }
                })
            }}
            <ul class="terminal-notices" aria-label="Notices from the gateway">
                <For each=move || notices.get() key=|n| n.id let:notice>
                    <li class="terminal-notice" class:warn=notice.warn data-testid="terminal-notice">
                        {notice.text}
                    </li>
                </For>
            </ul>
            // The connection status floats over the screen, so it coming and going never
            // resizes the shell.
            <div class="terminal-area">
                <p class="terminal-status" role="status" data-testid="terminal-status">
                    {status}
                </p>
                <div class="terminal-host" node_ref=host></div>
            </div>
        </section>
    }
}
