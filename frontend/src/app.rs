//! The console's root: sign-in context, live updates, the top bar and the route table.

use crate::auth::{use_auth, Auth};
use crate::components::notices::DecisionNotices;
use crate::components::ApprovalsLink;
use crate::live::Live;
use crate::pages;
use crate::prefs::{Prefs, ThemeSwitch};
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
    Prefs::provide();
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
                <Show when=move || auth.me.with(Option::is_some)>
                    <DecisionNotices />
                </Show>
                <Routes fallback=|| view! { <p class="empty">"There is no such page."</p> }>
                    <Route path=path!("/") view=|| view! { <Redirect path="/sessions" /> } />
                    <Route path=path!("/setup") view=pages::setup::SetupPage />
                    <Route path=path!("/login") view=pages::login::LoginPage />
                    // Not guarded: a guest who joins by link has no account.
                    <Route path=path!("/join") view=|| lazy_page(terminal_page, Page::Join) />
                    <Route path=path!("/sessions") view=|| guarded(pages::sessions::SessionsPage) />
                    <Route path=path!("/sessions/new") view=|| guarded(|| lazy_page(work_page, Page::NewSession)) />
                    <Route path=path!("/sessions/:id") view=|| guarded(|| lazy_page(work_page, Page::SessionDetail)) />
                    <Route path=path!("/approvals") view=|| guarded(|| lazy_page(work_page, Page::Approvals)) />
                    <Route path=path!("/servers") view=|| guarded(|| lazy_page(work_page, Page::Servers)) />
                    <Route path=path!("/servers/:id") view=|| guarded(|| lazy_page(work_page, Page::ServerDetail)) />
                    <Route path=path!("/websh") view=|| guarded(|| lazy_page(terminal_page, Page::Websh)) />
                    <Route path=path!("/exec") view=|| guarded(|| lazy_page(terminal_page, Page::Exec)) />
                    <Route path=path!("/live") view=|| guarded(|| lazy_page(terminal_page, Page::LiveTerminals)) />
                    <Route path=path!("/recordings") view=|| guarded(|| lazy_page(record_page, Page::Recordings)) />
                    <Route path=path!("/recordings/:id") view=|| guarded(|| lazy_page(record_page, Page::Playback)) />
                    <Route path=path!("/files") view=|| guarded(|| lazy_page(files_page, Page::Files)) />
                    <Route path=path!("/editor") view=|| guarded(|| lazy_page(files_page, Page::Editor)) />
                    <Route path=path!("/audit") view=|| guarded(|| lazy_page(record_page, Page::Audit)) />
                    <Route path=path!("/account") view=|| guarded(|| lazy_page(people_page, Page::Account)) />
                    <Route path=path!("/device") view=|| guarded(|| lazy_page(people_page, Page::Device)) />
                    <Route path=path!("/admin") view=|| guarded(|| lazy_page(people_page, Page::Admin)) />
                    <Route path=path!("/admin/tokens") view=|| guarded(|| lazy_page(people_page, Page::Tokens)) />
                    <Route path=path!("/admin/service-accounts") view=|| guarded(|| lazy_page(people_page, Page::ServiceAccounts)) />
                </Routes>
            </main>
        </Router>
    }
}

/// Shows a page whose code is split out of the wasm loaded at start: the first visit to any page of
/// its group fetches the group's chunks (`scripts/split-console.sh` makes them), later visits
/// render at once.
fn lazy_page<F>(load: fn(Page) -> F, page: Page) -> impl IntoView
where
    F: std::future::Future<Output = AnyView> + 'static,
{
    Suspend::new(send_wrapper::SendWrapper::new(load(page)))
}

/// The pages split out of the wasm loaded at start (all but sign-in, set-up and the sessions list).
#[repr(u8)]
#[derive(Clone, Copy)]
enum Page {
    NewSession,
    SessionDetail,
    Approvals,
    Servers,
    ServerDetail,
    Websh,
    Exec,
    LiveTerminals,
    Join,
    Recordings,
    Playback,
    Audit,
    Files,
    Editor,
    Account,
    Admin,
    Tokens,
    ServiceAccounts,
    /// Approving a `gate` CLI's device sign-in.
    Device,
    /// In place of every page while the workspace requires an enrolment the person lacks.
    MfaEnrolment,
}

// One split point (`#[lazy]`) per group of pages used together: each group's code, and whatever
// only it uses, is fetched when one of its pages is first shown. Few groups keep the chunks few.

/// Work sessions and servers beyond the list: requesting, a session's page, approvals, servers.
#[lazy]
fn work_page(page: Page) -> AnyView {
    match page {
        Page::NewSession => view! { <pages::new_session::NewSessionPage /> }.into_any(),
        Page::SessionDetail => view! { <pages::session_detail::SessionDetailPage /> }.into_any(),
        Page::Approvals => view! { <pages::approvals::ApprovalsPage /> }.into_any(),
        Page::Servers => view! { <pages::servers::ServersPage /> }.into_any(),
        Page::ServerDetail => view! { <pages::server_detail::ServerDetailPage /> }.into_any(),
        _ => ().into_any(), // never: the routes pass each group only its own pages
    }
}

/// Terminals: the web shell, commands, staff oversight, and a guest joining by link.
#[lazy]
fn terminal_page(page: Page) -> AnyView {
    match page {
        Page::Websh => view! { <pages::websh::WebshPage /> }.into_any(),
        Page::Exec => view! { <pages::exec::ExecPage /> }.into_any(),
        Page::LiveTerminals => view! { <pages::live_terminals::LiveTerminalsPage /> }.into_any(),
        Page::Join => view! { <pages::join::JoinPage /> }.into_any(),
        _ => ().into_any(), // never: the routes pass each group only its own pages
    }
}

/// Looking back: recordings, their player, the audit log.
#[lazy]
fn record_page(page: Page) -> AnyView {
    match page {
        Page::Recordings => view! { <pages::recordings::RecordingsPage /> }.into_any(),
        Page::Playback => view! { <pages::playback::PlaybackPage /> }.into_any(),
        Page::Audit => view! { <pages::audit::AuditPage /> }.into_any(),
        _ => ().into_any(), // never: the routes pass each group only its own pages
    }
}

/// Files and the editor.
#[lazy]
fn files_page(page: Page) -> AnyView {
    match page {
        Page::Files => view! { <pages::files::FilesPage /> }.into_any(),
        Page::Editor => view! { <pages::editor::EditorPage /> }.into_any(),
        _ => ().into_any(), // never: the routes pass each group only its own pages
    }
}

/// People: one's own account, administration, API tokens and service accounts.
#[lazy]
fn people_page(page: Page) -> AnyView {
    match page {
        Page::Account => view! { <pages::account::AccountPage /> }.into_any(),
        Page::Admin => view! { <pages::admin::AdminPage /> }.into_any(),
        Page::Tokens => view! { <pages::tokens::TokensPage /> }.into_any(),
        Page::ServiceAccounts => view! { <pages::tokens::ServiceAccountsPage /> }.into_any(),
        Page::Device => view! { <pages::device::DevicePage /> }.into_any(),
        Page::MfaEnrolment => view! { <pages::account::ForcedMfaEnrolment /> }.into_any(),
        _ => ().into_any(), // never: the routes pass each group only its own pages
    }
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
    if auth
        .me
        .with(|me| me.as_ref().is_some_and(|m| m.mfa_enrolment_required))
    {
        // The workspace requires two-factor sign-in: enrolment comes first, whatever was asked.
        // Rare, so it loads with the account pages rather than with every start.
        return Some(lazy_page(people_page, Page::MfaEnrolment).into_any());
    }
    if auth.me.with(Option::is_some) {
        return None;
    }
    if auth.setup_needed.get() {
        return Some(view! { <Redirect path="/setup" /> }.into_any());
    }
    // The router's `search` comes without its `?`: put it back, or `/device?user_code=X`
    // would come back from sign-in as `/deviceuser_code=X`.
    let search = search.get_untracked();
    let here = match search.trim_start_matches('?') {
        "" => pathname.get_untracked(),
        query => format!("{}?{query}", pathname.get_untracked()),
    };
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
    // On a phone the links fold behind a Menu button (CSS shows it below 40rem); following a
    // link folds them again.
    let menu_open = RwSignal::new(false);
    view! {
        <header class="topbar">
            <a class="skip" href="#main">"Skip to content"</a>
            <A href="/sessions" attr:class="brand">"Gatehouse"</A>
            <Show when=move || auth.me.with(Option::is_some)>
                <button
                    type="button"
                    class="menu-button"
                    data-testid="menu-button"
                    aria-controls="main-nav"
                    aria-expanded=move || menu_open.get().to_string()
                    on:click=move |_| menu_open.update(|o| *o = !*o)
                >
                    "Menu"
                </button>
                <nav class="nav" id="main-nav" aria-label="Main" class:open=move || menu_open.get()
                    on:click=move |_| menu_open.set(false)>
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
            <ThemeSwitch />
        </header>
    }
}
