//! Replays a parsed recording into a read-only [`Screen`]: play, pause, speed and seek.
//!
//! The clock is the browser's; `tick` (called by a timer) writes every event whose time has
//! come. A seek resets the screen and writes everything up to the new time at once.

use super::asciicast::{Recording, Step};
use super::xterm::Screen;
use std::cell::RefCell;
use std::rc::Rc;

/// Full reset (RIS), sent through the write queue so it stays in order with pending output.
const RESET: &str = "\x1bc";

pub struct Player {
    screen: Rc<Screen>,
    recording: Rc<Recording>,
    state: RefCell<Clock>,
}

/// Where playback is: `position` seconds into the recording, as of `wall` (ms, browser clock).
#[derive(Debug, Clone, PartialEq)]
struct Clock {
    /// Events before this index are on the screen.
    next: usize,
    position: f64,
    wall: f64,
    playing: bool,
    speed: f64,
}

impl Clock {
    fn at(&self, wall: f64) -> f64 {
        if self.playing {
            self.position + (wall - self.wall).max(0.0) / 1000.0 * self.speed
        } else {
            self.position
        }
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

impl Player {
    pub fn new(screen: Rc<Screen>, recording: Rc<Recording>) -> Self {
        Self {
            screen,
            recording,
            state: RefCell::new(Clock {
                next: 0,
                position: 0.0,
                wall: now_ms(),
                playing: false,
                speed: 1.0,
            }),
        }
    }

    pub fn duration(&self) -> f64 {
        self.recording.duration()
    }

    pub fn playing(&self) -> bool {
        self.state.borrow().playing
    }

    pub fn position(&self) -> f64 {
        self.state.borrow().position
    }

    fn apply(&self, steps: Vec<Step>) {
        for step in steps {
            match step {
                Step::Write(text) => self.screen.write_text(&text),
                Step::Resize { cols, rows } => {
                    let screen = self.screen.clone();
                    self.screen.after_writes(move || screen.resize(cols, rows));
                }
            }
        }
    }

    /// Advances to now; returns the position. Stops at the end.
    pub fn tick(&self) -> f64 {
        let (from, to, position) = {
            let mut clock = self.state.borrow_mut();
            if !clock.playing {
                return clock.position;
            }
            let wall = now_ms();
            let mut position = clock.at(wall);
            if position >= self.duration() {
                position = self.duration();
                clock.playing = false;
            }
            let to = self.recording.index_at(position);
            let from = clock.next;
            clock.next = to;
            clock.position = position;
            clock.wall = wall;
            (from, to, position)
        };
        if to > from {
            self.apply(self.recording.steps(from, to));
        }
        position
    }

    /// Starts (from the beginning again once at the end).
    pub fn play(&self) {
        if self.position() >= self.duration() {
            self.seek(0.0);
        }
        let mut clock = self.state.borrow_mut();
        clock.playing = true;
        clock.wall = now_ms();
    }

    pub fn pause(&self) {
        self.tick();
        self.state.borrow_mut().playing = false;
    }

    /// Changes the speed from this moment on.
    pub fn set_speed(&self, speed: f64) {
        self.tick();
        let mut clock = self.state.borrow_mut();
        clock.speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        clock.wall = now_ms();
    }

    /// Jumps to `time` seconds: a fresh screen with all output up to then written at once.
    pub fn seek(&self, time: f64) {
        let time = if time.is_finite() {
            time.clamp(0.0, self.duration())
        } else {
            0.0
        };
        let to = self.recording.index_at(time);
        {
            let mut clock = self.state.borrow_mut();
            clock.next = to;
            clock.position = time;
            clock.wall = now_ms();
        }
        self.screen.write_text(RESET);
        let (cols, rows) = (self.recording.header.width, self.recording.header.height);
        let screen = self.screen.clone();
        self.screen.after_writes(move || screen.resize(cols, rows));
        self.apply(self.recording.steps(0, to));
    }

    pub fn dispose(&self) {
        self.state.borrow_mut().playing = false;
        self.screen.dispose();
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;

    #[test]
    fn the_clock_runs_at_its_speed_only_while_playing() {
        let mut clock = Clock {
            next: 0,
            position: 2.0,
            wall: 1000.0,
            playing: true,
            speed: 4.0,
        };
        assert_eq!(clock.at(1500.0), 4.0);
        // A clock that went backwards does not rewind playback.
        assert_eq!(clock.at(500.0), 2.0);
        clock.playing = false;
        assert_eq!(clock.at(9000.0), 2.0);
    }
}
