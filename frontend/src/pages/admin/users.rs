//! Users: the directory (paged by username), its table with each person's actions (disable,
//! reset password or MFA behind step-up), and the create form.

use super::form::{focus_when_rendered, CopyButton, FieldError};
use crate::api::{self, ApiError};
use crate::auth::use_auth;
use crate::components::{ErrorBox, StepUp, StepUpPrompt};
use crate::time::format_at;
use gatehouse_shared::api::{CreateUser, Page};
use gatehouse_shared::user::MIN_PASSWORD_LEN;
use gatehouse_shared::{Role, User};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The users loaded so far. Shared by the users table and the direct-grant form, so both see
/// the same people, and a user created here shows up in both at once.
#[derive(Clone, Copy)]
pub struct UserDirectory {
    pub items: RwSignal<Vec<User>>,
    pub total: RwSignal<i64>,
    /// Where the next page starts; `None` once everything is loaded.
    pub next: RwSignal<Option<String>>,
    pub error: RwSignal<Option<ApiError>>,
    pub loaded: RwSignal<bool>,
    /// What the last reset did, shown above the table so it outlives the reload of the rows.
    pub reset_notice: RwSignal<Option<ResetNotice>>,
    /// Bumped on every reload, so a slow answer to an older request cannot overwrite a newer one.
    generation: RwSignal<u64>,
}

impl UserDirectory {
    /// An empty directory that starts loading the first page.
    pub fn new() -> Self {
        let directory = Self {
            items: RwSignal::new(Vec::new()),
            total: RwSignal::new(0),
            next: RwSignal::new(None),
            error: RwSignal::new(None),
            loaded: RwSignal::new(false),
            reset_notice: RwSignal::new(None),
            generation: RwSignal::new(0),
        };
        directory.reload();
        directory
    }

    /// Loads the first page again, replacing what was shown.
    pub fn reload(self) {
        self.generation.update(|g| *g += 1);
        let generation = self.generation.get_untracked();
        spawn_local(async move {
            let result = api::users().await;
            if self.generation.get_untracked() == generation {
                self.apply(result, true);
            }
        });
    }

    /// Appends the next page.
    pub fn load_more(self) {
        let Some(cursor) = self.next.get_untracked() else {
            return;
        };
        let generation = self.generation.get_untracked();
        spawn_local(async move {
            let result = api::users_after(&cursor).await;
            if self.generation.get_untracked() == generation {
                self.apply(result, false);
            }
        });
    }

    fn apply(self, result: api::ApiResult<Page<User>>, replace: bool) {
        match result {
            Ok(page) => {
                // After "Load more", the keyboard continues at the first new row.
                if !replace {
                    if let Some(first) = page.items.first() {
                        focus_when_rendered(format!("tr[data-username=\"{}\"]", first.username));
                    }
                }
                self.items.update(|items| {
                    if replace {
                        items.clear();
                    }
                    items.extend(page.items);
                });
                self.total.set(page.total);
                self.next.set(page.next_cursor);
                self.error.set(None);
            }
            Err(e) => self.error.set(Some(e)),
        }
        self.loaded.set(true);
    }
}

/// The outcome of a staff reset: a one-time password to hand over (shown this once), or the
/// news that a person's MFA is gone.
#[derive(Debug, Clone, PartialEq)]
pub struct ResetNotice {
    pub username: String,
    pub one_time_password: Option<String>,
}

/// The last reset's outcome, until dismissed.
#[component]
fn ResetNoticeBox(directory: UserDirectory) -> impl IntoView {
    move || {
        directory.reset_notice.get().map(|notice| {
            let name = notice.username.clone();
            let body = match notice.one_time_password {
                Some(password) => view! {
                    <p>
                        <strong>{format!("One-time password for {name}: ")}</strong>
                        "Copy it now and give it to them privately: it is not shown again. "
                        "It works for one sign-in, where they must choose a new password. "
                        "Their sign-ins and work sessions have ended."
                    </p>
                    <p class="secret-line">
                        <code data-testid="one-time-password">{password.clone()}</code>
                        <CopyButton text=password what="one-time password" />
                    </p>
                }
                .into_any(),
                None => view! {
                    <p data-testid="mfa-reset-done">
                        {format!(
                            "Two-factor sign-in was removed for {name}, and their sign-ins ended. \
                             They sign in with their password alone until they set it up again."
                        )}
                    </p>
                }
                .into_any(),
            };
            view! {
                <div class="secret-box" role="status" data-testid="reset-notice">
                    {body}
                    <button type="button" on:click=move |_| directory.reset_notice.set(None)>
                        "Done"
                    </button>
                </div>
            }
        })
    }
}

/// The users table and the create form.
#[component]
pub fn UsersSection(directory: UserDirectory) -> impl IntoView {
    view! {
        <section class="card admin-section" id="users" aria-labelledby="users-heading">
            <h2 id="users-heading">"Users"</h2>
            <UsersTable directory=directory />
            <CreateUserForm directory=directory />
        </section>
    }
}

#[component]
fn UsersTable(directory: UserDirectory) -> impl IntoView {
    let rows = move || {
        directory
            .items
            .get()
            .into_iter()
            .map(|user| {
                let created = user.created_at.as_ref().map(format_at).unwrap_or_default();
                let mfa = if user.mfa_enabled { "on" } else { "off" };
                let key = user.username.clone();
                let status = if user.disabled { "disabled" } else { "active" };
                view! {
                    <tr data-testid="user-row" data-username=key tabindex="-1" data-status=status>
                        <td>{user.username.clone()}</td>
                        <td><span class=format!("badge role-{}", user.role)>{user.role.as_str()}</span></td>
                        <td><code>{user.unix_user.clone()}</code></td>
                        <td>{user.email.clone().unwrap_or_default()}</td>
                        <td class=format!("mfa-{mfa}")>{mfa}</td>
                        <td class=format!("status-{status}")>{status}</td>
                        <td>{created}</td>
                        <td><UserActions user=user directory=directory /></td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <ErrorBox error=directory.error />
        <ResetNoticeBox directory=directory />
        <Show
            when=move || directory.loaded.get()
            fallback=|| view! { <p class="loading">"Loading users…"</p> }
        >
            <div class="table-wrap">
                <table class="list">
                    <caption class="visually-hidden">"Users"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Username"</th>
                            <th scope="col">"Role"</th>
                            <th scope="col">"Server account"</th>
                            <th scope="col">"E-mail"</th>
                            <th scope="col">"MFA"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Created"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <p class="hint">
                {move || format!("{} of {} users shown", directory.items.with(Vec::len), directory.total.get())}
            </p>
            <Show when=move || directory.next.with(Option::is_some)>
                <button type="button" class="more" on:click=move |_| directory.load_more()>"Load more users"</button>
            </Show>
        </Show>
    }
}

/// Disable (after a confirmation saying what happens) or enable a person. Not offered for
/// oneself, nor for staff and superusers unless the viewer is a superuser: the server refuses
/// those anyway.
#[component]
fn UserActions(user: User, directory: UserDirectory) -> impl IntoView {
    let auth = use_auth();
    let confirming = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let id = user.id;
    let name = user.username.clone();
    let role = user.role;
    let may_change = move || {
        auth.me.with(|me| {
            me.as_ref().is_some_and(|me| {
                me.user.id != id && (role == Role::Member || me.user.role == Role::Superuser)
            })
        })
    };
    // A superuser only a superuser resets, and nobody themselves (their Account page does it).
    let may_reset = move || {
        auth.me.with(|me| {
            me.as_ref().is_some_and(|me| {
                me.user.id != id && (role != Role::Superuser || me.user.role == Role::Superuser)
            })
        })
    };
    let set_disabled = move |disabled: bool| {
        spawn_local(async move {
            let change = gatehouse_shared::api::UpdateUser {
                disabled: Some(disabled),
                ..Default::default()
            };
            match api::update_user(id, &change).await {
                Ok(_) => {
                    confirming.set(false);
                    error.set(None);
                    directory.reload();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let disabled = user.disabled;
    view! {
        <Show when=may_change>
            {if disabled {
                view! {
                    <button type="button" data-action="enable-user" on:click=move |_| set_disabled(false)>
                        "Enable"
                    </button>
                }
                .into_any()
            } else {
                let name = name.clone();
                view! {
                    <Show
                        when=move || confirming.get()
                        fallback=move || view! {
                            <button type="button" class="danger" data-action="disable-user"
                                on:click=move |_| confirming.set(true)>"Disable"</button>
                        }
                    >
                        <span class="inline confirm" role="alert">
                            {format!("Disable {name}? Their sign-ins, tokens, sessions and terminals end now.")}
                            <button type="button" class="danger" data-action="confirm-disable-user"
                                on:click=move |_| set_disabled(true)>"Disable now"</button>
                            <button type="button" on:click=move |_| confirming.set(false)>"Keep"</button>
                        </span>
                    </Show>
                }
                .into_any()
            }}
            <ErrorBox error=error />
        </Show>
        <Show when=may_reset>
            <ResetActions user=user.clone() directory=directory />
        </Show>
    }
}

/// What a reset does to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reset {
    Password,
    Mfa,
}

/// "Reset password" and "Reset MFA", each after a confirmation saying what happens. Both need
/// a fresh code from the caller's authenticator (step-up), asked for in place.
#[component]
fn ResetActions(user: User, directory: UserDirectory) -> impl IntoView {
    let step_up = StepUp::new();
    let confirming = RwSignal::new(None::<Reset>);
    let id = user.id;
    let name = StoredValue::new(user.username.clone());
    let perform = move |what: Reset| {
        confirming.set(None);
        step_up.run(move || async move {
            let username = name.get_value();
            let outcome = match what {
                Reset::Password => api::reset_password(id)
                    .await
                    .map(|r| Some(r.one_time_password)),
                Reset::Mfa => api::reset_mfa(id).await.map(|_| None),
            };
            match outcome {
                Ok(one_time_password) => {
                    directory.reset_notice.set(Some(ResetNotice {
                        username,
                        one_time_password,
                    }));
                    directory.reload();
                    None
                }
                Err(e) => Some(e),
            }
        });
    };
    let question = move |what: Reset| {
        let name = name.get_value();
        match what {
            Reset::Password => format!(
                "Reset {name}'s password? They get a one-time password to replace at sign-in; \
                 their sign-ins and work sessions end now."
            ),
            Reset::Mfa => format!(
                "Remove {name}'s two-factor sign-in and recovery codes? Their sign-ins and work \
                 sessions end now."
            ),
        }
    };
    let mfa_enabled = user.mfa_enabled;
    view! {
        {move || match confirming.get() {
            None => view! {
                <button type="button" data-action="reset-password"
                    aria-disabled=move || step_up.busy().to_string()
                    on:click=move |_| confirming.set(Some(Reset::Password))>"Reset password"</button>
                {mfa_enabled.then(|| view! {
                    <button type="button" data-action="reset-mfa"
                        aria-disabled=move || step_up.busy().to_string()
                        on:click=move |_| confirming.set(Some(Reset::Mfa))>"Reset MFA"</button>
                })}
            }
            .into_any(),
            Some(what) => view! {
                <span class="inline confirm" role="alert">
                    {question(what)}
                    <button type="button" class="danger" data-action="confirm-reset"
                        on:click=move |_| perform(what)>"Reset now"</button>
                    <button type="button" on:click=move |_| confirming.set(None)>"Keep"</button>
                </span>
            }
            .into_any(),
        }}
        <StepUpPrompt step_up=step_up />
    }
}

#[component]
fn CreateUserForm(directory: UserDirectory) -> impl IntoView {
    let auth = use_auth();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Member);
    let error = RwSignal::new(None::<ApiError>);
    let created = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // Only a superuser may create staff or superusers; the server refuses it anyway, so this just
    // avoids offering what would fail.
    let may_grant_staff = move || auth.role() == Some(Role::Superuser);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let email_value = email.get_untracked().trim().to_owned();
        let body = CreateUser {
            username: username.get_untracked().trim().to_owned(),
            password: password.get_untracked(),
            role: role.get_untracked(),
            email: (!email_value.is_empty()).then_some(email_value),
            // Derived from the username on the server; changed later on the user's row.
            unix_user: None,
        };
        busy.set(true);
        spawn_local(async move {
            match api::create_user(&body).await {
                Ok(user) => {
                    error.set(None);
                    created.set(Some(format!(
                        "Created {} ({}).",
                        user.username,
                        user.role.as_str()
                    )));
                    username.set(String::new());
                    password.set(String::new());
                    email.set(String::new());
                    role.set(Role::Member);
                    directory.reload();
                }
                Err(e) => {
                    created.set(None);
                    error.set(Some(e));
                }
            }
            busy.set(false);
        });
    };

    let role_option = move |r: Role| {
        let disabled = move || r != Role::Member && !may_grant_staff();
        view! {
            <option value=r.as_str() selected=move || role.get() == r disabled=disabled>
                {r.as_str()}
            </option>
        }
    };

    view! {
        <form class="admin-form" data-testid="create-user" on:submit=submit>
            <h3>"Create a user"</h3>
            <div class="form-row">
                <label>
                    "Username"
                    <input name="username" autocomplete="off" required bind:value=username />
                    <FieldError error=error field="username" />
                </label>
                <label>
                    {format!("Password (at least {MIN_PASSWORD_LEN} characters)")}
                    <input name="password" type="password" autocomplete="new-password" required
                        minlength=MIN_PASSWORD_LEN.to_string() bind:value=password />
                    <FieldError error=error field="password" />
                </label>
                <label>
                    "Role"
                    <select name="role"
                        on:change=move |ev| {
                            if let Ok(r) = event_target_value(&ev).parse::<Role>() {
                                role.set(r);
                            }
                        }>
                        {role_option(Role::Member)}
                        {role_option(Role::Staff)}
                        {role_option(Role::Superuser)}
                    </select>
                    <FieldError error=error field="role" />
                </label>
                <label>
                    "E-mail (optional)"
                    <input name="email" type="email" autocomplete="off" bind:value=email />
                    <FieldError error=error field="email" />
                </label>
            </div>
            <Show when=move || !may_grant_staff()>
                <p class="hint">"Only a superuser can create staff or superusers."</p>
            </Show>
            <ErrorBox error=error at_fields=&["username", "password", "role", "email"] />
            <p class="notice-ok" role="status">{move || created.get()}</p>
            <button type="submit" class="primary" aria-disabled=move || busy.get().to_string()>"Create user"</button>
        </form>
    }
}
