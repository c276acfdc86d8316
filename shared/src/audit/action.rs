//! Every action the audit log records, as a type: the server writes only these, and the
//! console and the CLI match on them instead of comparing strings. Stored and exported as the
//! dotted name, exactly as earlier releases wrote it, so old rows and their hashes stay valid.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

macro_rules! audit_actions {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)+) => {
        /// An audit action.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum AuditAction {
            $($(#[$doc])* $variant,)+
        }

        impl AuditAction {
            /// Every action, in declaration order.
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant,)+];

            /// The dotted name stored in the log (`auth.login`, `work_session.approved`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $name,)+
                }
            }

            /// The action a stored name stands for; `None` for a name this release does not know.
            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($name => Some(AuditAction::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

audit_actions! {
    SetupFirstSuperuser => "setup.first_superuser",
    AuthLogin => "auth.login",
    AuthLogout => "auth.logout",
    /// A `gate` CLI asked to sign in through the console (device sign-in).
    AuthDeviceRequested => "auth.device_requested",
    /// A person approved a device sign-in in the console.
    AuthDeviceApproved => "auth.device_approved",
    /// A person denied a device sign-in in the console.
    AuthDeviceDenied => "auth.device_denied",
    /// A person ended one of their own sign-ins from the list.
    AuthSigninRevoked => "auth.signin_revoked",
    AuthPasswordChanged => "auth.password_changed",
    /// A sign-in's one-time code was missing, wrong or reused.
    AuthMfa => "auth.mfa",
    AuthMfaEnrollStarted => "auth.mfa.enroll_started",
    AuthMfaConfirm => "auth.mfa.confirm",
    AuthMfaEnrolled => "auth.mfa.enrolled",
    /// A sign-in proved a fresh one-time code (step-up, `POST /api/auth/mfa/verify`).
    AuthMfaVerified => "auth.mfa.verified",
    /// A new set of recovery codes replaced any earlier one (the codes are never in the log).
    AuthRecoveryCodesGenerated => "auth.mfa.recovery_codes_generated",
    /// A recovery code was spent in place of a one-time code.
    AuthRecoveryCodeUsed => "auth.mfa.recovery_code_used",
    UserCreated => "user.created",
    UserServersGranted => "user.servers_granted",
    UserUpdated => "user.updated",
    UserRoleChanged => "user.role_changed",
    UserDisabled => "user.disabled",
    UserEnabled => "user.enabled",
    /// Staff gave the person a one-time password (never in the log) and ended their sign-ins.
    UserPasswordReset => "user.password_reset",
    /// Staff removed the person's TOTP and recovery codes and ended their sign-ins.
    UserMfaReset => "user.mfa_reset",
    GroupCreated => "group.created",
    GroupMemberAdded => "group.member_added",
    GroupServersGranted => "group.servers_granted",
    GroupRunAsGranted => "group.run_as_granted",
    GroupMemberRemoved => "group.member_removed",
    GroupServersRevoked => "group.servers_revoked",
    GroupDeleted => "group.deleted",
    TokenCreated => "token.created",
    TokenRevoked => "token.revoked",
    /// A superuser granted a token an ACL rule (details: kind and the rule).
    TokenAclGranted => "token.acl_granted",
    /// A superuser removed a token's ACL rule.
    TokenAclRemoved => "token.acl_removed",
    /// A superuser created a service account.
    ServiceAccountCreated => "service_account.created",
    ServerCreated => "server.created",
    /// A server entry changed (details: each field from and to).
    ServerUpdated => "server.updated",
    ServerDeleted => "server.deleted",
    RegistrationTokenCreated => "registration_token.created",
    RegistrationTokenRevoked => "registration_token.revoked",
    AgentRegistered => "agent.registered",
    AgentConnected => "agent.connected",
    AgentDisconnected => "agent.disconnected",
    /// The agent created a person's own account on first use (`--provision-users`).
    AgentUserProvisioned => "agent.user_provisioned",
    WorkSessionRequested => "work_session.requested",
    WorkSessionApproved => "work_session.approved",
    WorkSessionRejected => "work_session.rejected",
    WorkSessionRevoked => "work_session.revoked",
    WorkSessionCancelled => "work_session.cancelled",
    WorkSessionActivated => "work_session.activated",
    WorkSessionCompleted => "work_session.completed",
    WorkSessionExtended => "work_session.extended",
    WorkSessionExpired => "work_session.expired",
    /// A non-superuser asked to push their session past its approved window.
    WorkSessionExtensionRequested => "work_session.extension_requested",
    WorkSessionExtensionRejected => "work_session.extension_rejected",
    /// A root command outside its session's declared commands was put to an approver.
    CommandApprovalRequested => "command_approval.requested",
    /// An approver allowed the one command (it runs once, at once, as asked).
    CommandApprovalApproved => "command_approval.approved",
    CommandApprovalRejected => "command_approval.rejected",
    /// Nobody decided in time, or the session ended first.
    CommandApprovalExpired => "command_approval.expired",
    /// A superuser changed workspace settings (details list each change, from and to).
    SettingsUpdated => "settings.updated",
    GateDenied => "gate.denied",
    WebshOpened => "websh.opened",
    WebshClosed => "websh.closed",
    WebshTerminated => "websh.terminated",
    WebshWatched => "websh.watched",
    WebshInputDropped => "websh.input_dropped",
    WebshViewerLeft => "websh.viewer_left",
    ShareCreated => "share.created",
    ShareRevoked => "share.revoked",
    ShareJoin => "share.join",
    ShareParticipantRemoved => "share.participant_removed",
    /// A command was sent to its servers (one `exec.run` follows per server as each ends).
    ExecStarted => "exec.started",
    ExecRun => "exec.run",
    /// The job's owner sent its running commands a signal through the exec stream.
    ExecSignal => "exec.signal",
    FileList => "file.list",
    FileStat => "file.stat",
    FileDownload => "file.download",
    FileUpload => "file.upload",
    FileMkdir => "file.mkdir",
    FileRename => "file.rename",
    FileDelete => "file.delete",
    /// A tunnel was opened to a target on a server (its connections follow).
    TunnelOpened => "tunnel.opened",
    /// The tunnel ended (its owner, staff, or its session or token ending).
    TunnelClosed => "tunnel.closed",
    /// One TCP connection through a tunnel reached its target (details: peer).
    TunnelConnectionOpened => "tunnel.connection_opened",
    /// One TCP connection ended, with its bytes each way (or was refused).
    TunnelConnectionClosed => "tunnel.connection_closed",
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AuditAction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AuditAction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        AuditAction::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown audit action {name}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_unique_and_parses_back() {
        let mut names: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Some(*action));
            let json = serde_json::to_string(action).unwrap();
            assert_eq!(serde_json::from_str::<AuditAction>(&json).unwrap(), *action);
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AuditAction::ALL.len());
        assert_eq!(AuditAction::parse("auth.nonsense"), None);
    }
}
