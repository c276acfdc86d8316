//! Recording playback (`/recordings/:id`): a terminal's asciicast replayed in a read-only xterm,
//! with play/pause, speed and seek. Keystrokes are listed apart, never written to the screen.

use crate::api;
use crate::components::ErrorBox;
use crate::terminal::asciicast::{self, format_clock, printable, Recording};
use crate::terminal::player::Player;
use crate::terminal::xterm::{self, Screen};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use std::rc::Rc;

/// How often playback advances (ms): smooth enough for a terminal, cheap when idle.
const TICK_MS: u32 = 40;
/// Keystroke lines shown at most; the full record is in the file.
const INPUTS_SHOWN: usize = 1000;
const SPEEDS: [&str; 5] = ["0.5", "1", "2", "4", "8"];

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

    view! {
        <section class="page playback-page" data-testid="playback">
            <h1>"Recording"</h1>
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
        player.set_value(Some(Rc::new(Player::new(Rc::new(screen), rec.clone()))));
    });
    let timer = gloo_timers::callback::Interval::new(TICK_MS, move || {
        let Some(p) = player.try_with_value(Clone::clone).flatten() else {
            return;
        };
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
        <div class="playback-screen" node_ref=host></div>
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
