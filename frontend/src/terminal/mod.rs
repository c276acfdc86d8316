//! The browser terminal: xterm.js bindings, the websh stream client, the panels of live
//! terminals (owner tabs, watch tabs, the guest page), participants, and asciicast playback.
//!
//! `source` holds the protocol logic without browser types, so its tests run natively (the
//! stream's offsets, acknowledgements and close codes are `gatehouse_shared::websh::flow`, and
//! the asciicast parser `gatehouse_shared::asciicast`, both shared with the CLI); the other
//! modules wire them to xterm, WebSockets and Leptos.

pub use gatehouse_shared::asciicast;
pub mod banner;
pub mod body;
pub use gatehouse_shared::websh::flow;
pub mod key_row;
pub mod keys;
pub mod pane;
pub mod participants;
pub mod player;
pub mod runtime;
pub mod source;
pub mod stream;
pub mod tabs;
pub mod xterm;
