//! Identity and inventory changes (users, groups, server entries, registration tokens, API
//! tokens): one function per change, called by the routes and by `gatehouse admin` alike. Each
//! writes its rows and its audit event in one transaction.

use super::CoreError;
use crate::auth::{password, secrets};
use crate::core::audit::{self, SUCCESS};
use crate::core::sessions;
use crate::core::state::AppState;
use crate::store::servers::ServerRow;
use crate::store::{groups, servers, tokens, users, Db, StoreError, WriteTx};
use crate::store::{logins, work_sessions};
use chrono::{DateTime, Duration, Utc};
use gatehouse_shared::api::{RunAsGrant, UpdateUser};
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::gate::runs_as_root;
use gatehouse_shared::lifecycle::{Action, Actor};
use gatehouse_shared::pattern::is_valid_pattern;
use gatehouse_shared::server::{
    is_allowed_provision_group, is_valid_server_name, MAX_PROVISION_GROUPS,
};
use gatehouse_shared::token::{MAX_TOKEN_DAYS, TOKEN_PREFIX};
use gatehouse_shared::user::{
    is_system_account, is_valid_unix_user, is_valid_username, MAX_PASSWORD_LEN, MIN_PASSWORD_LEN,
};
use gatehouse_shared::Status;
use gatehouse_shared::{GroupId, Role, ServerId, TokenId, User, UserId, WorkspaceId};

/// Who makes a change, as the audit log names them.
#[derive(Debug, Clone, Copy)]
pub struct By<'a> {
    pub id: Option<UserId>,
    pub name: &'a str,
}

/// The audit actor of `gatehouse admin` commands run on the server itself.
pub const ADMIN_CLI: &str = "gatehouse-admin-cli";

/// Username and password rules shared by set-up, user creation and the admin command.
pub fn validate_credentials(username: &str, password: &str) -> Result<(), CoreError> {
    if !is_valid_username(username) {
        return Err(CoreError::invalid(
            "username",
            "1-64 characters: letters, digits, '.', '_', '-', '@'",
        ));
    }
    let len = password.chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&len) {
        return Err(CoreError::invalid(
            "password",
            format!("must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters"),
        ));
    }
    Ok(())
}

/// A user to create.
#[derive(Debug)]
pub struct NewAccount {
    pub username: String,
    pub email: Option<String>,
    pub role: Role,
    pub password: String,
    /// The person's server account; `None` derives one from the username.
    pub unix_user: Option<String>,
}

/// A person's own server account may be any valid name but root or a system account: those are
/// reached through `sudo` or a group's run-as grant, never as someone's own.
pub fn check_unix_user(name: &str) -> Result<(), CoreError> {
    if !is_valid_unix_user(name) {
        return Err(CoreError::invalid(
            "unix_user",
            "1-32 characters: a lowercase letter or '_', then lowercase letters, digits, '_', '-'",
        ));
    }
    if is_system_account(name) {
        return Err(CoreError::invalid(
            "unix_user",
            format!("{name} is a system account; grant it to a group as a run-as account instead"),
        ));
    }
    Ok(())
}

/// Creates a user; with `first`, only when the workspace has none yet (set-up), atomically.
pub async fn create_user(
    db: &Db,
    ws: WorkspaceId,
    by: By<'_>,
    account: NewAccount,
    first: bool,
    at: DateTime<Utc>,
) -> Result<User, CoreError> {
    validate_credentials(&account.username, &account.password)?;
    if let Some(name) = &account.unix_user {
        check_unix_user(name)?;
    }
    if let Some(email) = &account.email {
        if email.len() > 254 || !email.contains('@') {
            return Err(CoreError::invalid("email", "not an e-mail address"));
        }
    }
    let hash = password::hash(account.password).await.map_err(|_| {
        tracing::error!("cannot hash a password");
        CoreError::Internal("cannot hash the password")
    })?;
    let new = users::NewUser {
        username: &account.username,
        unix_user: account.unix_user.as_deref(),
        email: account.email.as_deref(),
        role: account.role,
        password_hash: &hash,
    };
    let mut tx = WriteTx::begin(db, ws, at).await?;
    let inserted = if first {
        users::insert_first(&mut tx, ws, &new, at).await
    } else {
        users::insert(&mut tx, ws, &new, at).await.map(Some)
    };
    let user = match inserted {
        Ok(Some(user)) => user,
        Ok(None) => {
            return Err(CoreError::Conflict(
                "set-up is done: a user already exists".into(),
            ))
        }
        Err(StoreError::Duplicate) => {
            return Err(CoreError::Conflict(format!(
                "user {} already exists",
                account.username
            )))
        }
        Err(e) => return Err(e.into()),
    };
    let event = if first {
        audit::event(AuditAction::SetupFirstSuperuser, SUCCESS)
            .actor(&user.username)
            .target(&user.username)
    } else {
        audit::event(AuditAction::UserCreated, SUCCESS)
            .actor(by.name)
            .target(&user.username)
            .details(serde_json::json!({"role": user.role}))
    };
    tx.commit(event).await?;
    Ok(user)
}

/// Grants a user servers directly by name or pattern.
pub async fn grant_user_servers(
    db: &Db,
    ws: WorkspaceId,
    by: By<'_>,
    user: UserId,
    pattern: &str,
    at: DateTime<Utc>,
) -> Result<(), CoreError> {
    check_pattern(pattern)?;
    let row = users::by_id(db, ws, user)
        .await?
        .ok_or(CoreError::NotFound("user"))?;
    let mut tx = WriteTx::begin(db, ws, at).await?;
    users::add_server_grant(&mut tx, ws, user, pattern).await?;
    tx.commit(
        audit::event(AuditAction::UserServersGranted, SUCCESS)
            .actor(by.name)
            .target(&row.username)
            .details(serde_json::json!({"pattern": pattern})),
    )
    .await?;
    Ok(())
}

fn check_pattern(pattern: &str) -> Result<(), CoreError> {
    if is_valid_pattern(pattern) {
        Ok(())
    } else {
        Err(CoreError::invalid(
            "pattern",
            "a server name or pattern such as web-*",
        ))
    }
}

/// Creates a group.
pub async fn create_group(
    db: &Db,
    ws: WorkspaceId,
    by: By<'_>,
    name: &str,
    at: DateTime<Utc>,
) -> Result<GroupId, CoreError> {
    if !is_valid_username(name) {
        return Err(CoreError::invalid(
            "name",
            "1-64 characters: letters, digits, '.', '_', '-'",
        ));
    }
    let mut tx = WriteTx::begin(db, ws, at).await?;
    let id = match groups::insert(&mut tx, ws, name, at).await {
        Ok(id) => id,
        Err(e) => {
            return Err(match e {
                StoreError::Duplicate => {
                    CoreError::Conflict(format!("group {name} already exists"))
                }
                other => other.into(),
            })
        }
    };
    tx.commit(
        audit::event(AuditAction::GroupCreated, SUCCESS)
            .actor(by.name)
            .target(name),
    )
    .await?;
    Ok(id)
}

/// Adds a member to a group by username.
pub async fn add_group_member(
    db: &Db,
    ws: WorkspaceId,
    by: By<'_>,
    group: GroupId,
    username: &str,
    at: DateTime<Utc>,
) -> Result<(), CoreError> {
    let found = groups::get(db, ws, group)
        .await?
        .ok_or(CoreError::NotFound("group"))?;
    let user = users::by_username(db, ws, username)
        .await?
        .ok_or_else(|| CoreError::invalid("username", format!("no user {username}")))?;
    let mut tx = WriteTx::begin(db, ws, at).await?;
    groups::add_member(&mut tx, ws, group, user.user_id()?).await?;
    tx.commit(
        audit::event(AuditAction::GroupMemberAdded, SUCCESS)
            .actor(by.name)
            .target(&found.name)
            .details(serde_json::json!({"username": username})),
    )
    .await?;
    Ok(())
}

/// What leaving a group takes away: a member, a server pattern, or the whole group.
#[derive(Debug, Clone)]
pub enum GroupRemoval<'a> {
    Member(&'a str),
    Pattern(&'a str),
    Group,
}

/// Removes a member, a server pattern or the group itself, audited. Access the removal takes
/// away is gone for the next operation (the gate reads grants each time); work sessions already
/// approved keep their servers until they end.
pub async fn remove_from_group(
    db: &Db,
    ws: WorkspaceId,
    by: By<'_>,
    group: GroupId,
    removal: GroupRemoval<'_>,
    at: DateTime<Utc>,
) -> Result<(), CoreError> {
    let found = groups::get(db, ws, group)
        .await?
        .ok_or(CoreError::NotFound("group"))?;
    let mut tx = WriteTx::begin(db, ws, at).await?;
    let (removed, action, details) = match removal {
        GroupRemoval::Member(username) => {
            let user = users::by_username(db, ws, username)
                .await?
                .ok_or(CoreError::NotFound("group member"))?;
            (
                groups::remove_member(&mut tx, group, user.user_id()?).await?,
                AuditAction::GroupMemberRemoved,
                serde_json::json!({"username": username}),
            )
        }
        GroupRemoval::Pattern(pattern) => (
            groups::remove_pattern(&mut tx, group, pattern).await?,
            AuditAction::GroupServersRevoked,
            serde_json::json!({"pattern": pattern}),
        ),
        GroupRemoval::Group => (
            groups::delete(&mut tx, group).await?,
            AuditAction::GroupDeleted,
            serde_json::json!({"members": found.members, "server_patterns": found.server_patterns}),
        ),
    };
    if !removed {
        return Err(CoreError::NotFound(match removal {
            GroupRemoval::Member(_) => "group member",
            GroupRemoval::Pattern(_) => "group server pattern",
            GroupRemoval::Group => "group",
        }));
    }
    tx.commit(
        audit::event(action, SUCCESS)
            .actor(by.name)
            .target(&found.name)
            .details(details),
    )
    .await?;
    Ok(())
}

/// Grants a group's members servers by name pattern.
pub async fn add_group_servers(
    db: &Db,
    ws: WorkspaceId,
    by: By<'_>,
    group: GroupId,
    pattern: &str,
    at: DateTime<Utc>,
) -> Result<(), CoreError> {
    check_pattern(pattern)?;
    let found = groups::get(db, ws, group)
        .await?
        .ok_or(CoreError::NotFound("group"))?;
    let mut tx = WriteTx::begin(db, ws, at).await?;
    groups::add_pattern(&mut tx, ws, group, pattern).await?;
    tx.commit(
        audit::event(AuditAction::GroupServersGranted, SUCCESS)
            .actor(by.name)
            .target(&found.name)
            .details(serde_json::json!({"pattern": pattern})),
    )
    .await?;
    Ok(())
}

/// Changes the caller's own password after checking the current one (the new one must differ);
/// every other sign-in of theirs ends (the one in `keep`, if any, stays), in the same write as
/// the audit event. This also ends a staff reset's "must change" state.
pub async fn change_own_password(
    db: &Db,
    ws: WorkspaceId,
    user: UserId,
    current: String,
    new: String,
    keep: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), CoreError> {
    let row = users::by_id(db, ws, user)
        .await?
        .ok_or(CoreError::NotFound("user"))?;
    let len = new.chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&len) {
        return Err(CoreError::invalid(
            "new",
            format!("must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters"),
        ));
    }
    let current_ok = current.chars().count() <= MAX_PASSWORD_LEN
        && password::verify(current.clone(), Some(row.password_hash.clone())).await;
    if !current_ok {
        return Err(CoreError::invalid(
            "current",
            "the current password is not right",
        ));
    }
    // Keeping the one-time password of a reset would leave it known to whoever made it.
    if new == current {
        return Err(CoreError::invalid(
            "new",
            "must differ from the current password",
        ));
    }
    let hash = password::hash(new).await.map_err(|_| {
        tracing::error!("cannot hash a password");
        CoreError::Internal("cannot hash the password")
    })?;
    let mut tx = WriteTx::begin(db, ws, at).await?;
    users::set_password(&mut tx, user, &hash, false).await?;
    let ended = match keep {
        Some(keep) => logins::delete_others_of(&mut tx, user, keep).await?,
        None => logins::delete_all_of(&mut tx, user).await?,
    };
    tx.commit(
        audit::event(AuditAction::AuthPasswordChanged, SUCCESS)
            .actor(&row.username)
            .target(&row.username)
            .details(serde_json::json!({"other_signins_ended": ended})),
    )
    .await?;
    Ok(())
}

/// Lets a group's members run as the shared account `grant.account` on servers matching
/// `grant.pattern`. Root and system-critical names are refused: root is reached through `sudo`.
pub async fn grant_group_run_as(
    db: &Db,
    ws: WorkspaceId,
    by: By<'_>,
    group: GroupId,
    grant: &RunAsGrant,
    at: DateTime<Utc>,
) -> Result<(), CoreError> {
    if !is_valid_unix_user(&grant.account) || runs_as_root(Some(&grant.account)) {
        return Err(CoreError::invalid(
            "account",
            "a server account name (lowercase letters, digits, '_', '-'), not root",
        ));
    }
    check_pattern(&grant.pattern)?;
    let found = groups::get(db, ws, group)
        .await?
        .ok_or(CoreError::NotFound("group"))?;
    let mut tx = WriteTx::begin(db, ws, at).await?;
    if !groups::add_run_as(&mut tx, group, grant).await? {
        // Already granted: nothing changed, so nothing to audit.
        return Ok(());
    }
    tx.commit(
        audit::event(AuditAction::GroupRunAsGranted, SUCCESS)
            .actor(by.name)
            .target(&found.name)
            .details(serde_json::json!({"account": grant.account, "pattern": grant.pattern})),
    )
    .await?;
    Ok(())
}

/// Changes a person: role (superusers only), disabled, own server account. Each change is
/// audited in the same write; nobody disables or demotes themselves, and the last enabled
/// superuser stays one. Disabling ends the person's sign-ins in that write, then every work
/// session of theirs that is not finished, which ends their live channels within the second.
pub async fn update_user(
    state: &AppState,
    by: By<'_>,
    by_role: Role,
    id: UserId,
    change: &UpdateUser,
    at: DateTime<Utc>,
) -> Result<User, CoreError> {
    let (db, ws) = (&state.db, state.workspace);
    if let Some(name) = &change.unix_user {
        check_unix_user(name)?;
    }
    if change.role.is_some() && by_role != Role::Superuser {
        return Err(CoreError::Forbidden(
            "only a superuser can change a role".into(),
        ));
    }
    let before = users::by_id(db, ws, id)
        .await?
        .ok_or(CoreError::NotFound("user"))?;
    let old_role = before.role()?;
    let demoted = change
        .role
        .is_some_and(|r| r != old_role && old_role == Role::Superuser);
    let disabling = change.disabled == Some(true) && before.disabled_at.is_none();
    let enabling = change.disabled == Some(false) && before.disabled_at.is_some();
    if by.id == Some(id) && (disabling || change.role.is_some_and(|r| r != old_role)) {
        return Err(CoreError::Conflict(
            "you cannot disable yourself or change your own role".into(),
        ));
    }
    let mut events = Vec::new();
    let event = |action: AuditAction, details: serde_json::Value| {
        audit::event(action, SUCCESS)
            .actor(by.name)
            .target(&before.username)
            .details(details)
    };
    let mut tx = WriteTx::begin(db, ws, at).await?;
    if (demoted || disabling)
        && old_role == Role::Superuser
        && users::enabled_superusers(&mut tx).await? <= 1
    {
        return Err(CoreError::Conflict(
            "this is the last enabled superuser; make another one first".into(),
        ));
    }
    if let Some(role) = change.role.filter(|r| *r != old_role) {
        users::set_role(&mut tx, id, role).await?;
        events.push(event(
            AuditAction::UserRoleChanged,
            serde_json::json!({"from": old_role, "to": role}),
        ));
    }
    if let Some(name) = change
        .unix_user
        .as_deref()
        .filter(|n| *n != before.unix_user())
    {
        users::set_unix_user(&mut tx, id, name).await?;
        events.push(event(
            AuditAction::UserUpdated,
            serde_json::json!({"unix_user": {"from": before.unix_user(), "to": name}}),
        ));
    }
    if disabling || enabling {
        users::set_disabled(&mut tx, id, disabling).await?;
        let signins = if disabling {
            logins::delete_all_of(&mut tx, id).await?
        } else {
            0
        };
        let action = if disabling {
            AuditAction::UserDisabled
        } else {
            AuditAction::UserEnabled
        };
        events.push(event(action, serde_json::json!({"signins_ended": signins})));
    }
    let Some(last) = events.pop() else {
        // Nothing changed: nothing to write or audit.
        return Ok(before.to_user()?);
    };
    for extra in events {
        tx.audit(extra).await?;
    }
    tx.commit(last).await?;
    if disabling {
        cut_off(
            state,
            id,
            format!("the account was disabled by {}", by.name),
        )
        .await;
    }
    let after = users::by_id(db, ws, id)
        .await?
        .ok_or(CoreError::NotFound("user"))?;
    Ok(after.to_user()?)
}

/// Ends what a person has running after their sign-ins were deleted (disabled, or their
/// password or MFA reset): their watching of others' terminals, then their work sessions.
async fn cut_off(state: &AppState, user: UserId, reason: String) {
    // Watching someone else's terminal needs no session of one's own: cut those too.
    for term in state.hub.all_terminals() {
        term.kick_watcher(user);
    }
    end_sessions_of(state, user, reason).await;
}

/// Ends every unfinished work session assigned to `user` (their account was just disabled or
/// reset) with `reason`; each transition emits the change that ends its live channels. A
/// session that changed meanwhile is left to whatever changed it.
async fn end_sessions_of(state: &AppState, user: UserId, reason: String) {
    let filter = work_sessions::ListFilter {
        statuses: Some(vec![Status::Pending, Status::Approved, Status::Active]),
        involving: work_sessions::Involving::User(user),
        visible_to: None,
        server: None,
        scope: None,
        q: None,
        from: None,
        to: None,
        cursor: None,
        limit: 10_000,
    };
    let sessions = match work_sessions::list(&state.db, state.workspace, &filter).await {
        Ok((sessions, _, _)) => sessions,
        Err(e) => {
            tracing::error!(error = %e, "cannot list a disabled person's work sessions");
            return;
        }
    };
    let action = Action::AccountDisabled { reason };
    for session in sessions.into_iter().filter(|s| s.assignee.id == user) {
        if let Err(e) = sessions::transition(state, session.id, &Actor::System, &action).await {
            tracing::warn!(session = %session.id, error = %e, "cannot end a disabled person's session");
        }
    }
}

/// Whom a staff reset may touch: not oneself (one's own account page does that, with the
/// current password), and a superuser only when the caller is one.
fn check_reset_target(by: By<'_>, by_role: Role, target: &users::UserRow) -> Result<(), CoreError> {
    if by.id == Some(target.user_id()?) {
        return Err(CoreError::Conflict(
            "you cannot reset your own account here; use your Account page".into(),
        ));
    }
    if target.role()? == Role::Superuser && by_role != Role::Superuser {
        return Err(CoreError::Forbidden(
            "only a superuser can reset a superuser".into(),
        ));
    }
    Ok(())
}

/// Length of a one-time password from a reset (about 93 bits).
const ONE_TIME_PASSWORD_LEN: usize = 16;

/// What a staff password reset did; the one-time password exists only in this value.
#[derive(Debug)]
pub struct PasswordResetDone {
    pub user: User,
    pub one_time_password: String,
    pub signins_ended: u64,
}

/// Gives a person a one-time password they must replace at their next sign-in, ending every
/// sign-in of theirs in the same write as the audit event (which never holds the password),
/// then their work sessions and watching, as disabling does.
pub async fn reset_password(
    state: &AppState,
    by: By<'_>,
    by_role: Role,
    id: UserId,
    at: DateTime<Utc>,
) -> Result<PasswordResetDone, CoreError> {
    let (db, ws) = (&state.db, state.workspace);
    let target = users::by_id(db, ws, id)
        .await?
        .ok_or(CoreError::NotFound("user"))?;
    check_reset_target(by, by_role, &target)?;
    let one_time_password = secrets::random_password(ONE_TIME_PASSWORD_LEN);
    let hash = password::hash(one_time_password.clone())
        .await
        .map_err(|_| {
            tracing::error!("cannot hash a password");
            CoreError::Internal("cannot hash the password")
        })?;
    let mut tx = WriteTx::begin(db, ws, at).await?;
    users::set_password(&mut tx, id, &hash, true).await?;
    let reset = Reset {
        action: AuditAction::UserPasswordReset,
        what: "password",
    };
    let (user, signins_ended) = reset.finish(state, tx, by, &target).await?;
    Ok(PasswordResetDone {
        user,
        one_time_password,
        signins_ended,
    })
}

/// Removes a person's TOTP and recovery codes (they sign in with the password alone and may
/// enrol again), ending every sign-in of theirs in the same write, then their work sessions
/// and watching. Refused when there is no MFA to remove.
pub async fn reset_mfa(
    state: &AppState,
    by: By<'_>,
    by_role: Role,
    id: UserId,
    at: DateTime<Utc>,
) -> Result<(User, u64), CoreError> {
    let (db, ws) = (&state.db, state.workspace);
    let target = users::by_id(db, ws, id)
        .await?
        .ok_or(CoreError::NotFound("user"))?;
    check_reset_target(by, by_role, &target)?;
    if target.totp_secret.is_none() && target.totp_pending_secret.is_none() {
        return Err(CoreError::Conflict(format!(
            "{} has no two-factor sign-in to reset",
            target.username
        )));
    }
    let mut tx = WriteTx::begin(db, ws, at).await?;
    users::clear_mfa(&mut tx, id).await?;
    let reset = Reset {
        action: AuditAction::UserMfaReset,
        what: "two-factor sign-in",
    };
    reset.finish(state, tx, by, &target).await
}

/// What a reset of someone's credentials records, for the end every reset shares.
struct Reset {
    action: AuditAction,
    /// What was reset, in words ("password").
    what: &'static str,
}

impl Reset {
    /// Ends the target's sign-ins in the same write as the reset and its audit event (which
    /// never holds a secret), then their work sessions and watching, as disabling does; the
    /// user as now stored, and how many sign-ins ended.
    async fn finish(
        self,
        state: &AppState,
        mut tx: WriteTx,
        by: By<'_>,
        target: &users::UserRow,
    ) -> Result<(User, u64), CoreError> {
        let id: UserId = target.user_id()?;
        let signins_ended = logins::delete_all_of(&mut tx, id).await?;
        tx.commit(
            audit::event(self.action, SUCCESS)
                .actor(by.name)
                .target(&target.username)
                .details(serde_json::json!({"signins_ended": signins_ended})),
        )
        .await?;
        let why = format!("the account's {} was reset by {}", self.what, by.name);
        cut_off(state, id, why).await;
        let user = users::by_id(&state.db, state.workspace, id)
            .await?
            .ok_or(CoreError::NotFound("user"))?
            .to_user()?;
        Ok((user, signins_ended))
    }
}

/// Makes a new set of recovery codes for `user`, replacing any earlier set; the codes exist
/// only in the answer (stored hashed, audited without them).
pub async fn generate_recovery_codes(
    state: &AppState,
    user: &users::UserRow,
    at: DateTime<Utc>,
) -> Result<Vec<String>, CoreError> {
    let codes = super::stepup::new_recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| super::stepup::recovery_code_hash(user, c))
        .collect();
    let mut tx = WriteTx::begin(&state.db, state.workspace, at).await?;
    users::replace_recovery_codes(&mut tx, user.user_id()?, &hashes).await?;
    tx.commit(
        audit::event(AuditAction::AuthRecoveryCodesGenerated, SUCCESS)
            .actor(&user.username)
            .target(&user.username)
            .details(serde_json::json!({"count": codes.len()})),
    )
    .await?;
    Ok(codes)
}

/// Creates a server entry; each listed group is granted it by its exact name.
pub async fn create_server(
    db: &Db,
    ws: WorkspaceId,
    by: By<'_>,
    name: &str,
    platform: Option<&str>,
    group_names: Option<&[String]>,
    at: DateTime<Utc>,
) -> Result<servers::ServerRow, CoreError> {
    if !is_valid_server_name(name) {
        return Err(CoreError::invalid(
            "name",
            "1-64 characters: letters, digits, '.', '_', '-'",
        ));
    }
    let mut group_ids = Vec::new();
    for group in group_names.into_iter().flatten() {
        let id = groups::id_by_name(db, ws, group)
            .await?
            .ok_or_else(|| CoreError::invalid("groups", format!("no group {group}")))?;
        group_ids.push(id);
    }
    let mut tx = WriteTx::begin(db, ws, at).await?;
    let row = match servers::insert(&mut tx, ws, name, platform, at).await {
        Ok(row) => row,
        Err(e) => {
            return Err(match e {
                StoreError::Duplicate => {
                    CoreError::Conflict(format!("server {name} already exists"))
                }
                other => other.into(),
            })
        }
    };
    for id in group_ids {
        groups::add_pattern(&mut tx, ws, id, name).await?;
    }
    tx.commit(
        audit::event(AuditAction::ServerCreated, SUCCESS)
            .actor(by.name)
            .target(name)
            .server(name)
            .details(serde_json::json!({"groups": group_names})),
    )
    .await?;
    Ok(row)
}

/// Deletes a server entry and its agent credential.
pub async fn delete_server(
    db: &Db,
    ws: WorkspaceId,
    by: By<'_>,
    id: ServerId,
    name: &str,
    at: DateTime<Utc>,
) -> Result<(), CoreError> {
    let mut tx = WriteTx::begin(db, ws, at).await?;
    if !servers::delete(&mut tx, ws, id).await? {
        return Err(CoreError::NotFound("server"));
    }
    tx.commit(
        audit::event(AuditAction::ServerDeleted, SUCCESS)
            .actor(by.name)
            .target(name)
            .server(name),
    )
    .await?;
    Ok(())
}

/// Sets the groups accounts created on `server` on first use join: each a valid group name, not
/// an administrative group, listed once, at most [`MAX_PROVISION_GROUPS`]. Audited from → to.
pub async fn set_provision_groups(
    db: &Db,
    ws: WorkspaceId,
    by: By<'_>,
    server: &ServerRow,
    groups: &[String],
    at: DateTime<Utc>,
) -> Result<(), CoreError> {
    if groups.len() > MAX_PROVISION_GROUPS {
        return Err(CoreError::invalid(
            "provision_groups",
            format!("at most {MAX_PROVISION_GROUPS} groups"),
        ));
    }
    let mut wanted: Vec<String> = Vec::with_capacity(groups.len());
    for group in groups.iter().map(|g| g.trim()) {
        if !is_allowed_provision_group(group) {
            return Err(CoreError::invalid(
                "provision_groups",
                format!(
                    "{group:?} cannot be given to created accounts: use the name of an ordinary \
                     group on the machine (administrative groups such as sudo or docker are refused)"
                ),
            ));
        }
        if !wanted.iter().any(|g| g == group) {
            wanted.push(group.to_owned());
        }
    }
    let before = server.provision_groups()?;
    if before == wanted {
        return Ok(());
    }
    let id = server.server_id()?;
    let mut tx = WriteTx::begin(db, ws, at).await?;
    if !servers::set_provision_groups(&mut tx, ws, id, &wanted).await? {
        return Err(CoreError::NotFound("server"));
    }
    tx.commit(
        audit::event(AuditAction::ServerUpdated, SUCCESS)
            .actor(by.name)
            .target(&server.name)
            .server(&server.name)
            .details(serde_json::json!({
                "provision_groups": { "from": before, "to": wanted },
            })),
    )
    .await?;
    Ok(())
}

/// A registration token as issued: its secret exists only in this value.
#[derive(Debug)]
pub struct IssuedRegistrationToken {
    pub id: uuid::Uuid,
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub max_uses: i64,
}

/// Issues a registration token an agent exchanges for its credential. `issuer` is the user it
/// is issued by, or on behalf of (the admin command names the first superuser).
pub async fn issue_registration_token(
    db: &Db,
    ws: WorkspaceId,
    by: By<'_>,
    issuer: UserId,
    expires_in_secs: i64,
    max_uses: i64,
    at: DateTime<Utc>,
) -> Result<IssuedRegistrationToken, CoreError> {
    if !(60..=30 * 24 * 3600).contains(&expires_in_secs) {
        return Err(CoreError::invalid(
            "expires_in_secs",
            "between 60 seconds and 30 days",
        ));
    }
    if !(1..=10_000).contains(&max_uses) {
        return Err(CoreError::invalid("max_uses", "between 1 and 10000"));
    }
    let token = format!("ghr_{}", secrets::random_secret());
    let expires_at = at + Duration::seconds(expires_in_secs);
    let mut tx = WriteTx::begin(db, ws, at).await?;
    let id = servers::insert_registration_token(
        &mut tx,
        ws,
        &secrets::sha256_hex(&token),
        issuer,
        expires_at,
        max_uses,
        at,
    )
    .await?;
    let mut details = serde_json::json!({"expires_at": expires_at, "max_uses": max_uses});
    if by.id != Some(issuer) {
        if let Some(row) = users::by_id(db, ws, issuer).await? {
            details["on_behalf_of"] = row.username.into();
        }
    }
    tx.commit(
        audit::event(AuditAction::RegistrationTokenCreated, SUCCESS)
            .actor(by.name)
            .details(details),
    )
    .await?;
    Ok(IssuedRegistrationToken {
        id,
        token,
        expires_at,
        max_uses,
    })
}

/// Revokes an outstanding registration token (an agent can no longer register with it).
pub async fn revoke_registration_token(
    db: &Db,
    ws: WorkspaceId,
    by: By<'_>,
    id: uuid::Uuid,
    at: DateTime<Utc>,
) -> Result<(), CoreError> {
    let mut tx = WriteTx::begin(db, ws, at).await?;
    if !servers::revoke_registration_token(&mut tx, id).await? {
        return Err(CoreError::NotFound("outstanding registration token"));
    }
    tx.commit(
        audit::event(AuditAction::RegistrationTokenRevoked, SUCCESS)
            .actor(by.name)
            .target(id.to_string()),
    )
    .await?;
    Ok(())
}

/// An API token as issued: its secret exists only in this value.
#[derive(Debug)]
pub struct IssuedApiToken {
    pub id: TokenId,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl IssuedApiToken {
    /// The answer that shows the secret, this once.
    pub fn shown(self, name: &str) -> gatehouse_shared::token::CreatedApiToken {
        gatehouse_shared::token::CreatedApiToken {
            id: self.id,
            name: name.trim().to_owned(),
            token: self.token,
            expires_at: Some(self.expires_at),
        }
    }
}

/// Issues an API token to `owner`, valid `days` days.
pub async fn issue_api_token(
    db: &Db,
    ws: WorkspaceId,
    owner: By<'_>,
    owner_id: UserId,
    name: &str,
    days: i64,
    at: DateTime<Utc>,
) -> Result<IssuedApiToken, CoreError> {
    issue_token(db, ws, owner, owner_id, TOKEN_PREFIX, name, days, at).await
}

/// Issues a token with `prefix` for `owner_id`, audited as created by `by`.
#[allow(clippy::too_many_arguments)]
pub async fn issue_token(
    db: &Db,
    ws: WorkspaceId,
    by: By<'_>,
    owner_id: UserId,
    prefix: &str,
    name: &str,
    days: i64,
    at: DateTime<Utc>,
) -> Result<IssuedApiToken, CoreError> {
    let owner = by;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(CoreError::invalid("name", "1-100 characters"));
    }
    if !(1..=MAX_TOKEN_DAYS).contains(&days) {
        return Err(CoreError::invalid(
            "expires_in_days",
            format!("between 1 and {MAX_TOKEN_DAYS}"),
        ));
    }
    let expires_at = at + Duration::days(days);
    let token = format!("{prefix}{}", secrets::random_secret());
    let mut tx = WriteTx::begin(db, ws, at).await?;
    let id = tokens::insert(
        &mut tx,
        ws,
        owner_id,
        name,
        &secrets::sha256_hex(&token),
        Some(expires_at),
        at,
    )
    .await?;
    tx.commit(
        audit::event(AuditAction::TokenCreated, SUCCESS)
            .actor(owner.name)
            .target(id.to_string())
            .details(
                serde_json::json!({"name": name, "expires_at": expires_at, "owner": owner_id}),
            ),
    )
    .await?;
    Ok(IssuedApiToken {
        id,
        token,
        expires_at,
    })
}

/// Revokes one of `owner`'s tokens; the revocation and its audit row land together.
pub async fn revoke_api_token(
    db: &Db,
    ws: WorkspaceId,
    owner: By<'_>,
    owner_id: UserId,
    id: TokenId,
    at: DateTime<Utc>,
) -> Result<(), CoreError> {
    let mut tx = WriteTx::begin(db, ws, at).await?;
    if !tokens::revoke(&mut tx, ws, owner_id, id, at).await? {
        return Err(CoreError::NotFound("token"));
    }
    tx.commit(
        audit::event(AuditAction::TokenRevoked, SUCCESS)
            .actor(owner.name)
            .target(id.to_string()),
    )
    .await?;
    Ok(())
}
