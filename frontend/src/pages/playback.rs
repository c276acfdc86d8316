//! Recording playback (`/recordings/:id`): the terminal's context (who, where, as whom, when,
//! the work session's purpose), its asciicast replayed in a read-only xterm that shows the first
//! frame before Play and scales a recording wider than the page down to fit, with play/pause,
//! speed, seek and a download of the `.cast` file. Keystrokes are listed apart, never written
//! to the screen.

use crate::api;
use crate::components::ErrorBox;
use crate::terminal::asciicast::{self, format_clock, printable, Recording};
use crate::terminal::player::Player;
use crate::terminal::xterm::{self, Screen};
use crate::time::{format_at, format_duration};
use gatehouse_shared::recording::Recording as RecordingInfo;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use std::rc::Rc;
use wasm_bindgen::JsCast;

/// How often playback advances (ms): smooth enough for a terminal, cheap when idle.
const TICK_MS: u32 = 40;
/// Keystroke lines shown at most; the full record is in the file.
const INPUTS_SHOWN: usize = 1000;
const SPEEDS: [&str; 5] = ["0.5", "1", "2", "4", "8"];
/// How many ticks between two checks that the screen fits the page.
const FIT_EVERY_TICKS: u32 = 10;

/// The moment the first frame shows: the screen as it was when the first key was typed (the
/// prompt, after any escape-only output that starts a shell), or after the first output when
/// nothing was typed.
fn first_frame(recording: &Recording) -> Option<f64> {
    let is_output = |e: &&asciicast::Event| matches!(e.kind, asciicast::EventKind::Output(_));
    let typed = recording
        .events
        .iter()
        .position(|e| matches!(e.kind, asciicast::EventKind::Input(_)));
    let before_typing = typed
        .and_then(|i| recording.events[..i].iter().rev().find(is_output))
        .map(|e| e.time);
    before_typing.or_else(|| recording.events.iter().find(is_output).map(|e| e.time))
}

/// Scales the screen down (never up) to the frame's width with a CSS transform, which keeps
/// the recording's columns (reflowing them would garble full-screen programs), and makes the
/// frame as tall as the scaled screen.
fn fit_to_width(frame: NodeRef<leptos::html::Div>, host: NodeRef<leptos::html::Div>) {
    let (Some(frame), Some(host)) = (frame.get_untracked(), host.get_untracked()) else {
        return;
    };
    let host: &web_sys::HtmlElement = host.unchecked_ref();
    let (natural, tall) = (host.offset_width(), host.offset_height());
    let room = frame.client_width();
    if natural <= 0 || room <= 0 {
        return;
    }
    let scale = (f64::from(room) / f64::from(natural)).min(1.0);
    let transform = if scale < 1.0 {
        format!("transform: scale({scale:.4})")
    } else {
        String::new()
    };
    if host.get_attribute("style").unwrap_or_default() != transform {
        let _ = host.set_attribute("style", &transform);
        let height = (f64::from(tall) * scale).ceil();
        let _ = frame.set_attribute("style", &format!("height: {height}px"));
        let _ = frame.set_attribute("data-scale", &format!("{scale:.4}"));
    }
}

/// Who, where, when and why, with the download.
#[component]
fn Context(info: RecordingInfo) -> impl IntoView {
    let when = match info.ended_at {
        Some(end) => format!(
            "{} – {} ({})",
            format_at(&info.started_at),
            format_at(&end),
            format_duration(info.duration_secs.unwrap_or_default().round() as i64)
        ),
        None => format!("{} – still open", format_at(&info.started_at)),
    };
    let ending = match (&info.end_reason, info.exit_code) {
        (Some(reason), _) => reason.clone(),
        (None, Some(code)) => format!("exit {code}"),
        (None, None) if info.is_live() => "live".to_owned(),
        (None, None) => "ended".to_owned(),
    };
    let download = format!("{}?download=true", info.recording);
    let file = format!("{}-{}.cast", info.server, info.id);
    view! {
        <dl class="playback-context" data-testid="playback-context">
            <dt>"Who"</dt><dd data-testid="playback-owner">{info.owner.username.clone()}</dd>
            <dt>"Server"</dt>
            <dd data-testid="playback-server">
                {info.server.clone()}{info.run_as.clone().map(|u| format!(" as {u}"))}
            </dd>
            <dt>"When"</dt><dd>{when}</dd>
            <dt>"End"</dt><dd>{ending}</dd>
            <dt>"Purpose"</dt>
            <dd>
                {match info.work_session.clone() {
                    Some(s) => view! {
                        <A href=format!("/sessions/{}", s.id) attr:data-testid="playback-session">{s.purpose}</A>
                    }.into_any(),
                    None => view! { <span data-testid="playback-session">"opened with an API token"</span> }.into_any(),
                }}
            </dd>
        </dl>
        // `download` and `rel=external` keep the router from treating the API path as a page.
        <p class="export">
            <a href=download download=file rel="external" data-testid="playback-download">
                "Download (asciicast .cast)"
            </a>
        </p>
    }
}

#[component]
pub fn PlaybackPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let recording = LocalResource::new(move || {
        let id = id();
        async move {
            xterm::load().await.map_err(api::ApiError::local)?;
            api::recording(&id).await
        }
    });
    let context = LocalResource::new(move || {
        let id = id();
        async move { api::recording_info(&id).await }
    });

    view! {
        <section class="page playback-page" data-testid="playback">
            <h1>"Recording"</h1>
            {move || context.get().and_then(Result::ok).map(|info| view! { <Context info=info /> })}
            {move || match recording.get() {
                None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorBox error=Signal::derive(move || Some(e.clone())) /> }.into_any(),
                Some(Ok(text)) => match asciicast::parse(&text) {
                    Ok(parsed) => view! { <PlaybackView recording=Rc::new(parsed) /> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                },
            }}
        </section>
    }
}

/// The player: controls, the screen and the keystroke list.
#[component]
fn PlaybackView(recording: Rc<Recording>) -> impl IntoView {
    let duration = recording.duration();
    let position = RwSignal::new(0.0f64);
    let playing = RwSignal::new(false);
    // While the seek slider is dragged it shows the dragged time, not the playing one.
    let scrub = RwSignal::new(None::<f64>);
    let host = NodeRef::<leptos::html::Div>::new();
    let frame = NodeRef::<leptos::html::Div>::new();
    let ticks = std::cell::Cell::new(0u32);
    let player = StoredValue::new_local(None::<Rc<Player>>);

    let rec = recording.clone();
    Effect::new(move |_| {
        let Some(el) = host.get() else {
            return;
        };
        if player.with_value(Option::is_some) {
            return;
        }
        let size = (rec.header.width, rec.header.height);
        let screen = Screen::open(el.into(), &xterm::options(Some(size), true), false);
        let p = Rc::new(Player::new(Rc::new(screen), rec.clone()));
        // The first frame before Play: the screen as the first output left it (a prompt).
        if let Some(first) = first_frame(&rec) {
            p.seek(first);
        }
        player.set_value(Some(p));
        fit_to_width(frame, host);
    });
    let timer = gloo_timers::callback::Interval::new(TICK_MS, move || {
        let Some(p) = player.try_with_value(Clone::clone).flatten() else {
            return;
        };
        // A resize in the recording or of the window changes the fit: look now and then.
        ticks.set(ticks.get().wrapping_add(1));
        if ticks.get() % FIT_EVERY_TICKS == 0 {
            fit_to_width(frame, host);
        }
        if p.playing() {
            let at = p.tick();
            position.try_set(at);
            playing.try_set(p.playing());
        }
    });
    let timer = StoredValue::new_local(Some(timer));
    on_cleanup(move || {
        timer.try_update_value(|t| drop(t.take()));
        player.try_update_value(|p| {
            if let Some(p) = p.take() {
                p.dispose();
            }
        });
    });

    let with_player = move |f: &dyn Fn(&Player)| {
        if let Some(p) = player.with_value(Clone::clone) {
            f(&p);
            position.set(p.position());
            playing.set(p.playing());
        }
    };
    let toggle = move |_| {
        with_player(&|p| if p.playing() { p.pause() } else { p.play() });
    };
    let set_speed = move |ev: web_sys::Event| {
        let speed: f64 = event_target_value(&ev).parse().unwrap_or(1.0);
        with_player(&|p| p.set_speed(speed));
    };
    let seek_value = |ev: &web_sys::Event| {
        event_target_value(ev)
            .parse::<f64>()
            .ok()
            .map(|ms| ms / 1000.0)
    };
    let on_scrub = move |ev: web_sys::Event| scrub.set(seek_value(&ev));
    let on_seek = move |ev: web_sys::Event| {
        scrub.set(None);
        if let Some(at) = seek_value(&ev) {
            with_player(&|p| p.seek(at));
        }
    };
    let shown = move || scrub.get().unwrap_or_else(|| position.get());

    let header = &recording.header;
    let about = format!(
        "{}{}×{}",
        header
            .title
            .as_ref()
            .map(|t| format!("{t} · "))
            .unwrap_or_default(),
        header.width,
        header.height
    );
    let inputs: Vec<(f64, String)> = recording
        .inputs()
        .take(INPUTS_SHOWN)
        .map(|(t, data)| (t, printable(data)))
        .collect();
    let input_count = recording.inputs().count();

    view! {
        <p class="playback-about">{about}</p>
        <div class="playback-controls">
            <button data-testid="playback-play" aria-pressed=move || playing.get().to_string() on:click=toggle>
                {move || if playing.get() { "Pause" } else { "Play" }}
            </button>
            <label>
                "Speed "
                <select data-testid="playback-speed" on:change=set_speed>
                    {SPEEDS
                        .iter()
                        .map(|s| view! { <option value=*s selected=*s == "1">{format!("{s}×")}</option> })
                        .collect_view()}
                </select>
            </label>
            <input
                type="range"
                class="playback-seek"
                data-testid="playback-seek"
                aria-label="Position"
                min="0"
                max=(duration * 1000.0).ceil().to_string()
                step="100"
                prop:value=move || (shown() * 1000.0).round().to_string()
                on:input=on_scrub
                on:change=on_seek
            />
            <span class="playback-time" data-testid="playback-time">
                {move || format!("{} / {}", format_clock(shown()), format_clock(duration))}
            </span>
        </div>
        <div class="playback-frame" node_ref=frame>
            <div class="playback-screen" data-testid="playback-screen" node_ref=host></div>
        </div>
        <details class="playback-inputs">
            <summary>{format!("Keystrokes ({input_count})")}</summary>
            <ol>
                {inputs
                    .into_iter()
                    .map(|(t, text)| view! { <li><span class="at">{format_clock(t)}</span> <code>{text}</code></li> })
                    .collect_view()}
            </ol>
        </details>
    }
}
