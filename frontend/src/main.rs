//! The Gatehouse web console: a Leptos client-side app mounted on `<body>`.
//!
//! `api` is the one typed client; `pages/` holds one screen per route, `components/` the pieces
//! several screens share. Every rule shown here is enforced again by the server.

mod api;
mod app;
mod auth;
mod components;
mod editor;
mod live;
mod pages;
mod prefs;
mod terminal;
mod time;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
