//! The websh stream client (docs/protocol.md, "websh"): one WebSocket at a time to a terminal,
//! output written to a [`Screen`] and acknowledged once rendered, and a resume from the last
//! received offset after any drop that is not one of the final close codes. Where each attempt
//! connects, and what it may send, is the [`Source`] and [`Control`] it was started with.

use super::flow::{backoff_ms, close_outcome, Flow, Phase};
use super::source::{with_query, Control, Refusal, Source};
use super::xterm::Screen;
use gatehouse_shared::share::Participant;
use gatehouse_shared::websh::{decode_output, ClientMessage, NoticeLevel, ServerMessage};
use gloo_timers::future::TimeoutFuture;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

/// Keepalive: a `ping` this often; the gateway answers `pong`.
const PING_MS: u32 = 20_000;
/// A socket that has not heard anything for this long is presumed dead (a silent network drop
/// can leave a WebSocket "open" for minutes).
const SILENCE_MS: f64 = 50_000.0;
/// A connection that lived this long resets the backoff.
const STABLE_MS: f64 = 10_000.0;
/// Input is sent in pieces well under the gateway's 64 KiB message limit.
const INPUT_CHUNK: usize = 32 * 1024;

/// What the stream reports to the page.
pub struct Events {
    pub phase: Box<dyn Fn(Phase)>,
    pub notice: Box<dyn Fn(NoticeLevel, String)>,
    /// Everyone in the terminal now (the gateway sends it on attach and on every change).
    pub participants: Box<dyn Fn(Vec<Participant>)>,
}

/// A handle to one terminal's stream; dropping the last handle closes it.
pub struct Stream(Rc<Inner>);

struct Inner {
    source: Source,
    control: Control,
    screen: Rc<Screen>,
    events: Events,
    state: RefCell<State>,
}

struct State {
    socket: Option<Socket>,
    flow: Flow,
    phase: Phase,
    /// Reconnect attempts since the last stable connection.
    attempt: u32,
    /// Bumped on every (re)connect so timers and handlers of an old socket do nothing.
    generation: u64,
    shut: bool,
    /// When the current socket opened (`None` while it is still connecting).
    opened_at: Option<f64>,
    /// When the last working connection was lost (`None` while connected, or never connected).
    lost_at: Option<f64>,
    /// The last sign of life of the current socket (or when it started connecting).
    last_heard: f64,
    sent_size: Option<(u16, u16)>,
}

/// A socket with the handlers it calls; dropping it detaches them and closes it.
struct Socket {
    ws: WebSocket,
    _open: Closure<dyn FnMut(web_sys::Event)>,
    _message: Closure<dyn FnMut(MessageEvent)>,
    _close: Closure<dyn FnMut(CloseEvent)>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close_with_code(1000);
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// `ws(s)://<this host><path>`, with `resume_from` once output has been received.
fn socket_url(path: &str, resume_from: u64) -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    let host = location.host().ok()?;
    let path = if resume_from == 0 {
        path.to_owned()
    } else {
        with_query(path, "resume_from", &resume_from.to_string())
    };
    Some(format!("{scheme}://{host}{path}"))
}

impl Stream {
    /// Connects to `ws_path` as the terminal's owner and keeps the terminal connected until
    /// [`Stream::shutdown`] or a final close.
    pub fn connect(ws_path: String, screen: Rc<Screen>, events: Events) -> Self {
        Self::connect_with(Source::Path(ws_path), Control::Owner, screen, events)
    }

    /// Connects through `source`, sending what `control` allows, until [`Stream::shutdown`] or
    /// a final close (which a [`Refusal::Final`] from the source also is).
    pub fn connect_with(
        source: Source,
        control: Control,
        screen: Rc<Screen>,
        events: Events,
    ) -> Self {
        let inner = Rc::new(Inner {
            source,
            control,
            screen,
            events,
            state: RefCell::new(State {
                socket: None,
                flow: Flow::default(),
                phase: Phase::Connecting,
                attempt: 0,
                generation: 0,
                shut: false,
                opened_at: None,
                lost_at: None,
                last_heard: 0.0,
                sent_size: None,
            }),
        });
        Inner::open_socket(&inner);
        spawn_keepalive(Rc::downgrade(&inner));
        Stream(inner)
    }

    /// Sends keystrokes or pasted text. While disconnected input is dropped, not queued: typing
    /// blind into a privileged shell and having it replayed later would be worse than losing it.
    pub fn send_input(&self, bytes: &[u8]) {
        if !self.0.control.sends_input() {
            return;
        }
        let state = self.0.state.borrow();
        let Some(socket) = state.socket.as_ref().filter(|s| is_open(&s.ws)) else {
            return;
        };
        for chunk in bytes.chunks(INPUT_CHUNK) {
            let _ = socket.ws.send_with_u8_array(chunk);
        }
    }

    /// Tells the gateway the terminal's new size (sent again on every reconnect).
    pub fn resize(&self, cols: u16, rows: u16) {
        if !self.0.control.sends_size() {
            return;
        }
        let mut state = self.0.state.borrow_mut();
        if state.sent_size == Some((cols, rows)) {
            return;
        }
        if let Some(socket) = state.socket.as_ref().filter(|s| is_open(&s.ws)) {
            send(&socket.ws, &ClientMessage::Resize { cols, rows });
            state.sent_size = Some((cols, rows));
        }
    }

    /// Closes the stream for good (the tab was closed or the page left).
    pub fn shutdown(&self) {
        let socket = {
            let mut state = self.0.state.borrow_mut();
            state.shut = true;
            state.socket.take()
        };
        drop(socket);
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn is_open(ws: &WebSocket) -> bool {
    ws.ready_state() == WebSocket::OPEN
}

fn send(ws: &WebSocket, message: &ClientMessage) {
    if let Ok(text) = serde_json::to_string(message) {
        let _ = ws.send_with_str(&text);
    }
}

/// Pings every [`PING_MS`] and notices a socket gone silent, for as long as the stream lives.
fn spawn_keepalive(weak: Weak<Inner>) {
    spawn_local(async move {
        loop {
            TimeoutFuture::new(PING_MS).await;
            let Some(inner) = weak.upgrade() else {
                return;
            };
            if !inner.keepalive() {
                return;
            }
        }
    });
}

impl Inner {
    /// Starts the next connection attempt: at once for a fixed path, after asking for one
    /// otherwise. Any older attempt's handlers stop counting from here.
    fn open_socket(self: &Rc<Self>) {
        let generation = {
            let mut state = self.state.borrow_mut();
            if state.shut || state.phase.is_final() {
                return;
            }
            state.generation += 1;
            state.opened_at = None;
            state.last_heard = now_ms();
            state.generation
        };
        match &self.source {
            Source::Path(path) => self.dial(generation, path),
            Source::Fresh(fetch) => {
                let path = fetch();
                let weak = Rc::downgrade(self);
                spawn_local(async move {
                    let path = path.await;
                    let Some(inner) = weak.upgrade() else {
                        return;
                    };
                    if !inner.current(generation) {
                        return;
                    }
                    match path {
                        Ok(path) => inner.dial(generation, &path),
                        Err(Refusal::Retry) => inner.retry_later(),
                        Err(Refusal::Final(phase)) => inner.set_phase(phase),
                    }
                });
            }
        }
    }

    /// Opens the WebSocket of attempt `generation` to `path`.
    fn dial(self: &Rc<Self>, generation: u64, path: &str) {
        let mut state = self.state.borrow_mut();
        // Asking for a fresh path may have taken a while; the silence clock starts now.
        state.last_heard = now_ms();
        let socket =
            socket_url(path, state.flow.received).and_then(|url| WebSocket::new(&url).ok());
        let Some(ws) = socket else {
            drop(state);
            self.retry_later();
            return;
        };
        ws.set_binary_type(BinaryType::Arraybuffer);

        let weak = Rc::downgrade(self);
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            if let Some(inner) = weak.upgrade() {
                inner.on_open(generation);
            }
        });
        let weak = Rc::downgrade(self);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(inner) = weak.upgrade() {
                inner.on_message(generation, event);
            }
        });
        let weak = Rc::downgrade(self);
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            if let Some(inner) = weak.upgrade() {
                inner.on_close(generation, event.code(), event.reason());
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // An error is always followed by a close, which decides what happens next.
        state.socket = Some(Socket {
            ws,
            _open: on_open,
            _message: on_message,
            _close: on_close,
        });
    }

    fn current(&self, generation: u64) -> bool {
        let state = self.state.borrow();
        state.generation == generation && !state.shut
    }

    fn set_phase(&self, phase: Phase) {
        {
            let mut state = self.state.borrow_mut();
            if state.phase == phase || state.phase.is_final() {
                return;
            }
            state.phase = phase.clone();
        }
        if phase.is_final() {
            self.screen.disable_input();
        }
        (self.events.phase)(phase);
    }

    fn on_open(&self, generation: u64) {
        if !self.current(generation) {
            return;
        }
        {
            let mut state = self.state.borrow_mut();
            state.last_heard = now_ms();
            state.opened_at = Some(state.last_heard);
            state.lost_at = None;
            // A new connection has to learn the size again, it may have changed meanwhile.
            state.sent_size = None;
            if let Some(socket) = state.socket.as_ref().filter(|_| self.control.sends_size()) {
                let (cols, rows) = self.screen.size();
                send(&socket.ws, &ClientMessage::Resize { cols, rows });
                state.sent_size = Some((cols, rows));
            }
        }
        self.set_phase(Phase::Open);
    }

    fn on_message(self: &Rc<Self>, generation: u64, event: MessageEvent) {
        if !self.current(generation) {
            return;
        }
        self.state.borrow_mut().last_heard = now_ms();
        let data = event.data();
        if let Some(buffer) = data.dyn_ref::<js_sys::ArrayBuffer>() {
            self.on_output(&js_sys::Uint8Array::new(buffer).to_vec());
        } else if let Some(text) = data.as_string() {
            self.on_control(&text);
        }
    }

    fn on_output(self: &Rc<Self>, frame: &[u8]) {
        let Some((offset, bytes)) = decode_output(frame) else {
            return;
        };
        let Some(skip) = self.state.borrow_mut().flow.accept(offset, bytes.len()) else {
            return;
        };
        let end = offset + bytes.len() as u64;
        let weak = Rc::downgrade(self);
        self.screen
            .write_bytes(bytes.get(skip..).unwrap_or_default(), move || {
                if let Some(inner) = weak.upgrade() {
                    inner.rendered(end);
                }
            });
    }

    /// xterm has drawn everything before `end`: acknowledge it when due.
    fn rendered(&self, end: u64) {
        let mut state = self.state.borrow_mut();
        if let Some(offset) = state.flow.rendered(end) {
            if let Some(socket) = state.socket.as_ref().filter(|s| is_open(&s.ws)) {
                send(&socket.ws, &ClientMessage::Ack { offset });
            }
        }
    }

    fn on_control(&self, text: &str) {
        // Unknown message types are skipped: the protocol grows by adding them.
        let Ok(message) = serde_json::from_str::<ServerMessage>(text) else {
            return;
        };
        match message {
            ServerMessage::Exit { code } => self.set_phase(Phase::Exited(Some(code))),
            ServerMessage::Ended { reason } => self.set_phase(Phase::from_end_reason(reason)),
            ServerMessage::Notice { level, text } => (self.events.notice)(level, text),
            ServerMessage::Participants { items } => (self.events.participants)(items),
            ServerMessage::Pong => {}
        }
    }

    fn on_close(self: &Rc<Self>, generation: u64, code: u16, reason: String) {
        if !self.current(generation) {
            return;
        }
        let (old, lived, lost_for) = {
            let mut state = self.state.borrow_mut();
            let now = now_ms();
            let lived = state.opened_at.map_or(0.0, |at| now - at);
            if state.opened_at.is_some() {
                state.lost_at = Some(now);
            }
            let lost_for = state.lost_at.map(|at| now - at);
            (state.socket.take(), lived, lost_for)
        };
        // Dropped after this handler returns, since it belongs to that socket.
        spawn_local(async move { drop(old) });
        if self.state.borrow().phase.is_final() {
            return;
        }
        if let Some(last) = close_outcome(self.source.viewer(), code, &reason, lost_for) {
            self.set_phase(last);
            return;
        }
        if lived >= STABLE_MS {
            self.state.borrow_mut().attempt = 0;
        }
        self.retry_later();
    }

    /// Shows "reconnecting" and tries again after the backoff.
    fn retry_later(self: &Rc<Self>) {
        let (generation, delay) = {
            let mut state = self.state.borrow_mut();
            let delay = backoff_ms(state.attempt, js_sys::Math::random());
            state.attempt = state.attempt.saturating_add(1);
            (state.generation, delay)
        };
        self.set_phase(Phase::Reconnecting);
        let weak = Rc::downgrade(self);
        spawn_local(async move {
            TimeoutFuture::new(delay).await;
            if let Some(inner) = weak.upgrade() {
                if inner.current(generation) {
                    Inner::open_socket(&inner);
                }
            }
        });
    }

    /// One keepalive round; `false` once the stream is over.
    fn keepalive(self: &Rc<Self>) -> bool {
        let silent = {
            let state = self.state.borrow();
            if state.shut || state.phase.is_final() {
                return false;
            }
            match state.socket.as_ref() {
                Some(socket) => {
                    if is_open(&socket.ws) {
                        send(&socket.ws, &ClientMessage::Ping);
                    }
                    // Also catches a connect attempt that hangs.
                    now_ms() - state.last_heard > SILENCE_MS
                }
                None => false,
            }
        };
        if silent {
            let old = {
                let mut state = self.state.borrow_mut();
                if state.opened_at.is_some() {
                    state.lost_at = Some(now_ms());
                }
                state.socket.take()
            };
            drop(old);
            self.retry_later();
        }
        true
    }
}
