//! A live terminal while its panel is mounted: xterm, the stream, keeping xterm fitted to its
//! panel, and the signals the page reads (phase, participants, notices). Owner tabs, watch tabs
//! and the guest page differ only in the [`Connect`] they start with.

use super::body::{push_notice, Notice};
use super::flow::Phase;
use super::keys::attach_clipboard;
use super::source::{Control, Source};
use super::stream::{Events, Stream};
use super::xterm::{self, Screen};
use crate::api;
use gatehouse_shared::share::Participant;
use gatehouse_shared::websh::{NoticeLevel, OpenWebsh};
use gatehouse_shared::WorkSessionId;
use leptos::html::Div;
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlElement, ResizeObserver};

/// How a terminal gets its stream.
pub enum Connect {
    /// Opens a new terminal (`POST /api/websh`) and streams it as its owner; `opened` learns
    /// its id, so closing the tab can end the shell and the tab can be shared.
    Open {
        server: String,
        user: Option<String>,
        session: Option<WorkSessionId>,
        opened: ArcRwSignal<Option<uuid::Uuid>>,
    },
    /// Streams an existing terminal through `source` with `control`'s rights (staff watching,
    /// a guest who joined by link).
    Attach { source: Source, control: Control },
}

impl Connect {
    fn control(&self) -> Control {
        match self {
            Connect::Open { .. } => Control::Owner,
            Connect::Attach { control, .. } => *control,
        }
    }
}

/// Where the terminal reports to the page.
#[derive(Clone)]
pub struct Outputs {
    pub phase: ArcRwSignal<Phase>,
    pub participants: ArcRwSignal<Vec<Participant>>,
    pub notices: RwSignal<Vec<Notice>>,
    /// The on-screen Ctrl key, when there is one: while set, the next typed character is sent
    /// as its control character, and the key is released.
    pub ctrl: Option<RwSignal<bool>>,
}

/// What a mounted terminal holds; released in [`Runtime::shutdown`].
pub struct Runtime {
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
    /// Opens xterm in `host` and starts connecting.
    pub fn start(host: HtmlElement, connect: Connect, outputs: Outputs) -> Self {
        let control = connect.control();
        let read_only = !control.sends_input();
        let screen = Rc::new(Screen::open(
            host.clone(),
            &xterm::options(None, read_only),
            true,
        ));
        attach_clipboard(&screen);
        let stream: Rc<RefCell<Option<Stream>>> = Rc::default();
        if !read_only {
            forward_input(&screen, Rc::downgrade(&stream), outputs.ctrl);
        }
        let refit = Refit {
            screen: Rc::downgrade(&screen),
            stream: Rc::downgrade(&stream),
        };
        let observer = observe_size(&host, refit.clone(), &screen);
        let closed = Rc::new(Cell::new(false));
        let size = screen.fit().unwrap_or((80, 24));
        let events = events(outputs.clone(), refit);

        match connect {
            Connect::Attach { source, control } => {
                let connected = Stream::connect_with(source, control, screen.clone(), events);
                *stream.borrow_mut() = Some(connected);
            }
            Connect::Open {
                server,
                user,
                session,
                opened,
            } => {
                let request = OpenWebsh {
                    server,
                    cols: size.0,
                    rows: size.1,
                    user,
                };
                let (screen2, slot, closed2) = (screen.clone(), stream.clone(), closed.clone());
                spawn_local(async move {
                    let result = api::open_websh(session, &request).await;
                    if closed2.get() {
                        return;
                    }
                    match result {
                        Ok(result) => {
                            opened.try_set(Some(result.id));
                            let connected = Stream::connect(result.ws_path, screen2, events);
                            *slot.borrow_mut() = Some(connected);
                        }
                        Err(e) => {
                            screen2.disable_input();
                            outputs.phase.try_set(Phase::refused(e.to_string()));
                        }
                    }
                });
            }
        }
        Self {
            screen,
            stream,
            observer,
            closed,
        }
    }

    /// Fits after the panel became visible, and puts the keyboard there, unless the keyboard is
    /// on the tab list (someone moving between tabs with the arrow keys).
    pub fn shown(&self) {
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

    /// Takes the page's colours and `font_size` (the preferences changed) and refits.
    pub fn restyle(&self, font_size: u32) {
        self.screen.restyle(font_size);
        Refit {
            screen: Rc::downgrade(&self.screen),
            stream: Rc::downgrade(&self.stream),
        }
        .run();
    }

    /// Sends `data` as if typed (an on-screen key), keeping the keyboard on the terminal.
    pub fn send_keys(&self, data: &str) {
        self.screen.input(data);
        self.screen.focus();
    }

    /// The bytes for an arrow key (`A` up, `B` down, `C` right, `D` left) in the mode the
    /// program asked for.
    pub fn arrow(&self, dir: char) -> String {
        let lead = if self.screen.app_cursor_keys() {
            'O'
        } else {
            '['
        };
        format!("\u{1b}{lead}{dir}")
    }

    pub fn focus(&self) {
        self.screen.focus();
    }

    pub fn shutdown(&self) {
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

/// Starts the terminal once `host` is in the document (calling `start` once) and shuts it down
/// when the owning component goes. The handle lets the caller act on the running terminal.
pub fn mount(
    host: NodeRef<Div>,
    start: impl FnOnce(HtmlElement) -> Runtime + 'static,
) -> StoredValue<Option<Rc<Runtime>>, LocalStorage> {
    let runtime = StoredValue::new_local(None::<Rc<Runtime>>);
    let start = RefCell::new(Some(start));
    Effect::new(move |_| {
        let Some(el) = host.get() else {
            return;
        };
        if let Some(start) = start.borrow_mut().take() {
            runtime.set_value(Some(Rc::new(start(el.into()))));
        }
    });
    // Open terminals follow the theme switch and the font size control.
    let prefs = crate::prefs::use_prefs();
    Effect::new(move |first: Option<()>| {
        let size = prefs.font_size.get();
        prefs.colours.track();
        if first.is_some() {
            if let Some(rt) = runtime.with_value(Clone::clone) {
                rt.restyle(size);
            }
        }
    });
    on_cleanup(move || {
        runtime.try_update_value(|rt| {
            if let Some(rt) = rt.take() {
                rt.shutdown();
            }
        });
    });
    runtime
}

fn events(outputs: Outputs, refit: Refit) -> Events {
    let next_id = Cell::new(0u32);
    let Outputs {
        phase,
        participants,
        notices,
        ..
    } = outputs;
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
            let notice = Notice {
                id,
                warn: level == NoticeLevel::Warn,
                text,
            };
            notices.try_update(|list| push_notice(list, notice));
        }),
        participants: Box::new(move |items| {
            participants.try_set(items);
        }),
    }
}

/// The control character Ctrl+`c` sends (`a`→0x01 … `z`→0x1a, `@[\]^_` likewise, `?`→DEL);
/// `None` for a character Ctrl does not change.
fn control_char(c: char) -> Option<u8> {
    match c {
        'a'..='z' | 'A'..='Z' | '@' | '[' | '\\' | ']' | '^' | '_' => Some(c as u8 & 0x1f),
        ' ' => Some(0),
        '?' => Some(0x7f),
        _ => None,
    }
}

/// Keystrokes and pastes go to the stream as binary frames of their UTF-8 bytes; while the
/// on-screen Ctrl is held, one typed character goes as its control character instead.
fn forward_input(
    screen: &Screen,
    stream: Weak<RefCell<Option<Stream>>>,
    ctrl: Option<RwSignal<bool>>,
) {
    let weak = stream.clone();
    let on_data = Closure::<dyn FnMut(String)>::new(move |data: String| {
        let mut bytes = data.into_bytes();
        if let Some(ctrl) = ctrl.filter(|c| c.try_get_untracked() == Some(true)) {
            ctrl.try_set(false);
            if let [single] = bytes[..] {
                if let Some(control) = control_char(char::from(single)) {
                    bytes = vec![control];
                }
            }
        }
        if let Some(slot) = weak.upgrade() {
            if let Some(stream) = slot.borrow().as_ref() {
                stream.send_input(&bytes);
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
