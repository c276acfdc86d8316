//! The browser terminal: xterm.js bindings, the websh stream client, terminal tabs' panels, and
//! asciicast playback.
//!
//! `flow` and `asciicast` hold the protocol and file-format logic without browser types, so
//! their tests run natively; the other modules wire them to xterm, WebSockets and Leptos.

pub mod asciicast;
pub mod banner;
pub mod flow;
pub mod keys;
pub mod pane;
pub mod player;
pub mod stream;
pub mod xterm;
