//! The Gatehouse web console: a Leptos client-side app mounted on `<body>`.
//!
//! This is the shell; the screens (sign-in, sessions, approvals, websh) are built on it.

mod app;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
