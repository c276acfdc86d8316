//! Each of the seven gate codes, and the token default-deny, produced by the pure gate.

use chrono::{DateTime, Duration, Utc};
use gatehouse_shared::gate::{check, AuthMethod, Detail, Operation, Principal};
use gatehouse_shared::work_session::ServerRef;
use gatehouse_shared::{
    ErrorCode, ErrorEnvelope, Scope, ServerId, Status, UserId, UserRef, WorkSession, WorkSessionId,
};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn alice() -> UserRef {
    UserRef {
        id: UserId(uuid::Uuid::from_u128(1)),
        username: "alice".into(),
    }
}

fn active_session() -> WorkSession {
    WorkSession {
        id: WorkSessionId(uuid::Uuid::from_u128(7)),
        purpose: "rotate logs".into(),
        status: Status::Active,
        scopes: vec![Scope::Command],
        servers: vec![ServerRef {
            id: ServerId(uuid::Uuid::from_u128(9)),
            name: "web-01".into(),
        }],
        sudo_commands: Vec::new(),
        tunnel_ports: Vec::new(),
        requested_by: alice(),
        assignee: alice(),
        approved_by: None,
        decision_reason: None,
        adjustments: None,
        starts_at: None,
        duration_secs: Some(3600),
        expires_at: Some(now() + Duration::hours(1)),
        created_at: now() - Duration::minutes(5),
        decided_at: None,
        activated_at: Some(now() - Duration::minutes(1)),
        ended_at: None,
    }
}

fn password() -> Principal {
    Principal {
        user_id: alice().id,
        auth_method: AuthMethod::Password,
    }
}

fn code(
    op: Operation<'_>,
    principal: Principal,
    session: Option<&WorkSession>,
) -> Option<ErrorCode> {
    check(&op, &principal, session, false, now())
        .err()
        .map(|d| d.code)
}

const EXEC_WEB: Operation<'static> = Operation {
    scope: Scope::Command,
    server: "web-01",
    as_root: false,
    as_other: false,
    detail: Detail::None,
};

#[test]
fn an_active_session_with_scope_and_server_passes() {
    assert_eq!(code(EXEC_WEB, password(), Some(&active_session())), None);
}

#[test]
fn every_gate_code_is_produced_with_context_and_next_actions() {
    let s = active_session();
    assert_eq!(
        code(EXEC_WEB, password(), None),
        Some(ErrorCode::WorkSessionRequired)
    );

    let mut pending = s.clone();
    pending.status = Status::Pending;
    assert_eq!(
        code(EXEC_WEB, password(), Some(&pending)),
        Some(ErrorCode::WorkSessionNotActive)
    );

    let mut approved = s.clone();
    approved.status = Status::Approved;
    assert_eq!(
        code(EXEC_WEB, password(), Some(&approved)),
        Some(ErrorCode::WorkSessionNotActive)
    );

    let mut late = s.clone();
    late.expires_at = Some(now());
    assert_eq!(
        code(EXEC_WEB, password(), Some(&late)),
        Some(ErrorCode::WorkSessionExpired)
    );

    let ftp = Operation {
        scope: Scope::Webftp,
        ..EXEC_WEB
    };
    assert_eq!(
        code(ftp, password(), Some(&s)),
        Some(ErrorCode::WorkSessionScopeNotAllowed)
    );

    let root = Operation {
        as_root: true,
        ..EXEC_WEB
    };
    assert_eq!(
        code(root, password(), Some(&s)),
        Some(ErrorCode::WorkSessionScopeNotAllowed)
    );

    // Another person's or an ungranted shared account needs sudo, like root.
    let other = Operation {
        as_other: true,
        ..EXEC_WEB
    };
    assert_eq!(
        code(other, password(), Some(&s)),
        Some(ErrorCode::WorkSessionScopeNotAllowed)
    );

    let db = Operation {
        server: "db-01",
        ..EXEC_WEB
    };
    assert_eq!(
        code(db, password(), Some(&s)),
        Some(ErrorCode::WorkSessionServerNotAllowed)
    );

    let bob = Principal {
        user_id: UserId(uuid::Uuid::from_u128(2)),
        auth_method: AuthMethod::Password,
    };
    assert_eq!(
        code(EXEC_WEB, bob, Some(&s)),
        Some(ErrorCode::WorkSessionAssigneeMismatch)
    );

    for ended in [
        Status::Revoked,
        Status::Completed,
        Status::Rejected,
        Status::Cancelled,
    ] {
        let mut over = s.clone();
        over.status = ended;
        assert_eq!(
            code(EXEC_WEB, password(), Some(&over)),
            Some(ErrorCode::WorkSessionNotUsable)
        );
    }

    let token = Principal {
        user_id: alice().id,
        auth_method: AuthMethod::ApiToken,
    };
    assert_eq!(
        code(EXEC_WEB, token, Some(&s)),
        Some(ErrorCode::TokenAclDenied)
    );
}

#[test]
fn a_denial_becomes_the_documented_envelope() {
    let op = Operation {
        scope: Scope::Webftp,
        ..EXEC_WEB
    };
    let denial = check(&op, &password(), Some(&active_session()), false, now()).unwrap_err();
    let json = serde_json::to_value(ErrorEnvelope::from(*denial)).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["error_code"], "work_session_scope_not_allowed");
    assert_eq!(
        json["message"],
        "the webftp operation requires an active work session that includes the webftp scope"
    );
    assert!(json["reason"]
        .as_str()
        .unwrap()
        .ends_with("has scopes [command]"));
    assert_eq!(json["context"]["auth_method"], "password");
    assert_eq!(json["context"]["required_scope"], "webftp");
    assert_eq!(json["context"]["target_servers"][0], "web-01");
    assert_eq!(
        json["context"]["current_work_session"],
        active_session().id.to_string()
    );
    assert!(json["next_actions"][0]
        .as_str()
        .unwrap()
        .starts_with("gate work-session create --scope webftp --server web-01"));
}
