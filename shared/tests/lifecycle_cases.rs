//! Hand-written walks through the lifecycle: the paths people take, and the refusals they meet.

use chrono::{DateTime, Duration, Utc};
use gatehouse_shared::lifecycle::{apply, Action, Actor, ExtendBy, Policy, Refusal};
use gatehouse_shared::work_session::ServerRef;
use gatehouse_shared::{
    Role, Scope, ServerId, Status, UserId, UserRef, WorkSession, WorkSessionId,
};

fn t(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
}

fn person(n: u128, name: &str) -> UserRef {
    UserRef {
        id: UserId(uuid::Uuid::from_u128(n)),
        username: name.into(),
    }
}

fn member() -> Actor {
    Actor::User {
        user: person(1, "mia"),
        role: Role::Member,
    }
}

fn boss() -> Actor {
    Actor::User {
        user: person(2, "sam"),
        role: Role::Superuser,
    }
}

fn request() -> WorkSession {
    WorkSession {
        id: WorkSessionId::new(),
        purpose: "patch openssl".into(),
        status: Status::Pending,
        scopes: vec![Scope::Websh, Scope::Webftp, Scope::Sudo],
        servers: ["web-01", "web-02"]
            .iter()
            .enumerate()
            .map(|(i, n)| ServerRef {
                id: ServerId(uuid::Uuid::from_u128(50 + i as u128)),
                name: n.to_string(),
            })
            .collect(),
        sudo_commands: Vec::new(),
        tunnel_ports: Vec::new(),
        requested_by: person(1, "mia"),
        assignee: person(1, "mia"),
        approved_by: None,
        decision_reason: None,
        adjustments: None,
        starts_at: None,
        duration_secs: Some(3600),
        expires_at: None,
        created_at: t(0),
        decided_at: None,
        activated_at: None,
        ended_at: None,
    }
}

fn go(s: &WorkSession, actor: &Actor, action: Action, at: i64) -> Result<WorkSession, Refusal> {
    apply(s, actor, &action, t(at), &Policy::default())
}

#[test]
fn approve_narrows_then_activation_starts_the_duration_clock() {
    let approve = Action::Approve {
        scopes: Some(vec![Scope::Websh]),
        servers: Some(vec!["web-01".into()]),
        sudo_commands: None,
        tunnel_ports: None,
        reason: Some("websh is enough".into()),
    };
    let approved = go(&request(), &boss(), approve, 600).unwrap();
    assert_eq!(approved.status, Status::Approved);
    assert_eq!(approved.scopes, vec![Scope::Websh]);
    let adj = approved.adjustments.clone().unwrap();
    assert_eq!(adj.scopes_removed, vec![Scope::Webftp, Scope::Sudo]);
    assert_eq!(adj.servers_removed, vec!["web-02".to_string()]);
    assert_eq!(
        approved.expires_at, None,
        "the clock has not started while waiting"
    );

    let active = go(&approved, &member(), Action::Activate, 1200).unwrap();
    assert_eq!(active.status, Status::Active);
    assert_eq!(active.expires_at, Some(t(1200) + Duration::hours(1)));

    let done = go(&active, &member(), Action::Complete, 1300).unwrap();
    assert_eq!(done.status, Status::Completed);
    assert!(go(&done, &boss(), Action::Revoke { reason: None }, 1400).is_err());
}

#[test]
fn approval_cannot_widen_and_members_cannot_decide() {
    let widen = Action::Approve {
        scopes: Some(vec![Scope::Tunnel]),
        servers: None,
        sudo_commands: None,
        tunnel_ports: None,
        reason: None,
    };
    assert!(matches!(
        go(&request(), &boss(), widen, 1),
        Err(Refusal::Invalid { .. })
    ));
    let other_server = Action::Approve {
        scopes: None,
        servers: Some(vec!["db-01".into()]),
        sudo_commands: None,
        tunnel_ports: None,
        reason: None,
    };
    assert!(matches!(
        go(&request(), &boss(), other_server, 1),
        Err(Refusal::Invalid { .. })
    ));
    let plain = Action::Approve {
        scopes: None,
        servers: None,
        sudo_commands: None,
        tunnel_ports: None,
        reason: None,
    };
    assert!(matches!(
        go(&request(), &member(), plain.clone(), 1),
        Err(Refusal::NotPermitted(_))
    ));
    let staff = Actor::User {
        user: person(3, "stu"),
        role: Role::Staff,
    };
    assert!(matches!(
        go(&request(), &staff, plain, 1),
        Err(Refusal::NotPermitted(_))
    ));
}

#[test]
fn a_superuser_cannot_approve_their_own_request_except_automatically() {
    let mut own = request();
    own.requested_by = person(2, "sam");
    own.assignee = person(2, "sam");
    let plain = Action::Approve {
        scopes: None,
        servers: None,
        sudo_commands: None,
        tunnel_ports: None,
        reason: None,
    };
    assert!(matches!(
        go(&own, &boss(), plain, 1),
        Err(Refusal::NotPermitted(_))
    ));
    assert_eq!(
        go(&own, &boss(), Action::AutoApprove, 1).unwrap().status,
        Status::Approved
    );
    assert!(go(&request(), &member(), Action::AutoApprove, 1).is_err());
}

#[test]
fn scheduler_starts_and_expires_and_extend_respects_the_maximum() {
    let mut timed = request();
    timed.starts_at = Some(t(100));
    let approved = go(
        &timed,
        &boss(),
        Action::Approve {
            scopes: None,
            servers: None,
            sudo_commands: None,
            tunnel_ports: None,
            reason: None,
        },
        10,
    )
    .unwrap();
    assert!(
        go(&approved, &member(), Action::Activate, 50).is_err(),
        "not before starts_at"
    );
    assert!(go(&approved, &Actor::System, Action::Start, 50).is_err());
    let active = go(&approved, &Actor::System, Action::Start, 100).unwrap();
    assert_eq!(active.expires_at, Some(t(3700)));

    assert!(go(&active, &Actor::System, Action::Expire, 3699).is_err());
    assert!(
        go(&active, &member(), Action::Expire, 3700).is_err(),
        "only the scheduler expires"
    );

    let longer = go(
        &active,
        &member(),
        Action::Extend(ExtendBy::Seconds(3600)),
        200,
    )
    .unwrap();
    assert_eq!(longer.expires_at, Some(t(7300)));
    let too_long = Action::Extend(ExtendBy::Seconds(24 * 3600));
    assert!(matches!(
        go(&longer, &member(), too_long, 300),
        Err(Refusal::Invalid { .. })
    ));

    let expired = go(&longer, &Actor::System, Action::Expire, 7300).unwrap();
    assert_eq!(expired.status, Status::Expired);
    assert_eq!(expired.ended_at, Some(t(7300)));
}

#[test]
fn cancel_is_for_the_requester_while_pending_and_revoke_for_superusers() {
    let stranger = Actor::User {
        user: person(9, "eve"),
        role: Role::Member,
    };
    assert!(go(&request(), &stranger, Action::Cancel, 1).is_err());
    assert_eq!(
        go(&request(), &member(), Action::Cancel, 1).unwrap().status,
        Status::Cancelled
    );

    let approved = go(
        &request(),
        &boss(),
        Action::Approve {
            scopes: None,
            servers: None,
            sudo_commands: None,
            tunnel_ports: None,
            reason: None,
        },
        1,
    )
    .unwrap();
    assert!(go(&approved, &member(), Action::Cancel, 2).is_err());
    assert!(go(&approved, &member(), Action::Revoke { reason: None }, 2).is_err());
    let revoked = go(
        &approved,
        &boss(),
        Action::Revoke {
            reason: Some("incident over".into()),
        },
        2,
    )
    .unwrap();
    assert_eq!(revoked.status, Status::Revoked);
    assert_eq!(revoked.decision_reason.as_deref(), Some("incident over"));
}
