//! The console's root: sign-in context, live updates, the top bar and the route table.

use crate::auth::{use_auth, Auth};
use crate::components::ApprovalsLink;
use crate::live::Live;
use crate::pages;
use crate::terminal::tabs::{use_terminals, Terminals};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Redirect, Route, Router, Routes, A};
use leptos_router::hooks::use_location;
use leptos_router::path;

/// The root of the console.
#[component]
pub fn App() -> impl IntoView {
    let auth = Auth::provide();
    let live = Live::provide();
    Terminals::provide();
    spawn_local(async move {
        auth.refresh().await;
        if auth.me.with_untracked(Option::is_some) {
            live.connect();
        }
    });
    view! {
        <Router>
            <TopBar />
            <main class="main" id="main">
                <Routes fallback=|| view! { <p class="empty">"There is no such page."</p> }>
                    <Route path=path!("/") view=|| view! { <Redirect path="/sessions" /> } />
                    <Route path=path!("/setup") view=pages::setup::SetupPage />
                    <Route path=path!("/login") view=pages::login::LoginPage />
                    // Not guarded: a guest who joins by link has no account.
                    <Route path=path!("/join") view=|| lazy_page(join_page) />
                    <Route path=path!("/sessions") view=|| guarded(pages::sessions::SessionsPage) />
                    <Route path=path!("/sessions/new") view=|| guarded(|| lazy_page(new_session_page)) />
                    <Route path=path!("/sessions/:id") view=|| guarded(|| lazy_page(session_detail_page)) />
                    <Route path=path!("/approvals") view=|| guarded(|| lazy_page(approvals_page)) />
                    <Route path=path!("/servers") view=|| guarded(|| lazy_page(servers_page)) />
                    <Route path=path!("/servers/:id") view=|| guarded(|| lazy_page(server_detail_page)) />
                    <Route path=path!("/websh") view=|| guarded(|| lazy_page(websh_page)) />
                    <Route path=path!("/exec") view=|| guarded(|| lazy_page(exec_page)) />
                    <Route path=path!("/live") view=|| guarded(|| lazy_page(live_terminals_page)) />
                    <Route path=path!("/recordings") view=|| guarded(|| lazy_page(recordings_page)) />
                    <Route path=path!("/recordings/:id") view=|| guarded(|| lazy_page(playback_page)) />
                    <Route path=path!("/files") view=|| guarded(|| lazy_page(files_page)) />
                    <Route path=path!("/editor") view=|| guarded(|| lazy_page(editor_page)) />
                    <Route path=path!("/audit") view=|| guarded(|| lazy_page(audit_page)) />
                    <Route path=path!("/account") view=|| guarded(|| lazy_page(account_page)) />
                    <Route path=path!("/admin") view=|| guarded(|| lazy_page(admin_page)) />
                </Routes>
            </main>
        </Router>
    }
}


/// Shows a page whose code is split out of the wasm loaded at start (`#[lazy]`): the first visit
/// fetches its chunk (`scripts/build-console.sh` splits them), later ones render at once.
fn lazy_page<F>(load: fn() -> F) -> impl IntoView
where
    F: std::future::Future<Output = AnyView> + 'static,
{
    Suspend::new(send_wrapper::SendWrapper::new(load()))
}

// One split point per page: each body, and whatever only it uses, lands in its own chunk.

#[lazy]
fn new_session_page() -> AnyView {
    view! { <pages::new_session::NewSessionPage /> }.into_any()
}

#[lazy]
fn session_detail_page() -> AnyView {
    view! { <pages::session_detail::SessionDetailPage /> }.into_any()
}

#[lazy]
fn approvals_page() -> AnyView {
    view! { <pages::approvals::ApprovalsPage /> }.into_any()
}

#[lazy]
fn servers_page() -> AnyView {
    view! { <pages::servers::ServersPage /> }.into_any()
}

#[lazy]
fn server_detail_page() -> AnyView {
    view! { <pages::server_detail::ServerDetailPage /> }.into_any()
}

#[lazy]
fn websh_page() -> AnyView {
    view! { <pages::websh::WebshPage /> }.into_any()
}

#[lazy]
fn exec_page() -> AnyView {
    view! { <pages::exec::ExecPage /> }.into_any()
}

#[lazy]
fn live_terminals_page() -> AnyView {
    view! { <pages::live_terminals::LiveTerminalsPage /> }.into_any()
}

#[lazy]
fn recordings_page() -> AnyView {
    view! { <pages::recordings::RecordingsPage /> }.into_any()
}

#[lazy]
fn playback_page() -> AnyView {
    view! { <pages::playback::PlaybackPage /> }.into_any()
}

#[lazy]
fn files_page() -> AnyView {
    view! { <pages::files::FilesPage /> }.into_any()
}

#[lazy]
fn editor_page() -> AnyView {
    view! { <pages::editor::EditorPage /> }.into_any()
}

#[lazy]
fn audit_page() -> AnyView {
    view! { <pages::audit::AuditPage /> }.into_any()
}

#[lazy]
fn account_page() -> AnyView {
    view! { <pages::account::AccountPage /> }.into_any()
}

#[lazy]
fn admin_page() -> AnyView {
    view! { <pages::admin::AdminPage /> }.into_any()
}

#[lazy]
fn join_page() -> AnyView {
    view! { <pages::join::JoinPage /> }.into_any()
}

/// Renders `page` only when signed in; otherwise sends the browser to set-up or sign-in.
fn guarded<V: IntoView + 'static>(page: impl Fn() -> V + Send + Sync + 'static) -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    move || match instead_of_page(auth, location.pathname, location.search) {
        Some(view) => view,
        None => page().into_any(),
    }
}

/// What a guarded route shows in place of its page, if anything: loading, the forced password
/// change, or a redirect to set-up or sign-in. Kept out of the generic `guarded`, so the console
/// holds one copy of it rather than one per route.
#[inline(never)]
fn instead_of_page(auth: Auth, pathname: Memo<String>, search: Memo<String>) -> Option<AnyView> {
    if !auth.checked.get() {
        return Some(view! { <p class="loading">"Loading…"</p> }.into_any());
    }
    if auth
        .me
        .with(|me| me.as_ref().is_some_and(|m| m.must_change_password))
    {
        // A reset password buys nothing but choosing a new one, whatever page was asked for.
        return Some(view! { <pages::account::ForcedPasswordChange /> }.into_any());
    }
    if auth.me.with(Option::is_some) {
        return None;
    }
    if auth.setup_needed.get() {
        return Some(view! { <Redirect path="/setup" /> }.into_any());
    }
    let here = format!("{}{}", pathname.get_untracked(), search.get_untracked());
    let target = format!("/login?next={}", crate::api::encode(&here));
    Some(view! { <Redirect path=target /> }.into_any())
}

/// The navigation bar: links by role, the user's name, sign-out.
#[component]
fn TopBar() -> impl IntoView {
    let auth = use_auth();
    // Read the context now: inside the task, after an await, there is no reactive owner.
    let live = expect_context::<Live>();
    let terminals = use_terminals();
    let sign_out = move |_| {
        spawn_local(async move {
            let _ = crate::api::logout().await;
            live.disconnect();
            terminals.forget();
            auth.me.set(None);
        });
    };
    view! {
        <header class="topbar">
            <a class="skip" href="#main">"Skip to content"</a>
            <A href="/sessions" attr:class="brand">"Gatehouse"</A>
            <Show when=move || auth.me.with(Option::is_some)>
                <nav class="nav" aria-label="Main">
                    <A href="/sessions">"Work sessions"</A>
                    <Show when=move || auth.role() == Some(gatehouse_shared::Role::Superuser)>
                        <ApprovalsLink />
                    </Show>
                    <A href="/servers">"Servers"</A>
                    <A href="/websh">"Terminals"</A>
                    <A href="/recordings">"Recordings"</A>
                    // Offered while the selected work session allows commands.
                    <Show when=move || auth.me.with(|me| {
                        me.as_ref()
                            .and_then(|me| me.active_work_session.as_ref())
                            .is_some_and(|s| s.has_scope(gatehouse_shared::Scope::Command))
                    })>
                        <A href="/exec">"Commands"</A>
                    </Show>
                    <Show when=move || auth.is_staff()>
                        <A href="/live">"Live"</A>
                    </Show>
                    // The audit log is staff's: not offered to members, whom the server refuses.
                    <Show when=move || auth.is_staff()>
                        <A href="/audit">"Audit"</A>
                        <A href="/admin">"Admin"</A>
                    </Show>
                </nav>
                <span class="me">
                    <A href="/account">
                        {move || auth.me.with(|m| m.as_ref().map(|m| m.user.username.clone()))}
                    </A>
                    <button class="link" data-testid="sign-out" on:click=sign_out>"Sign out"</button>
                </span>
            </Show>
        </header>
    }
}
