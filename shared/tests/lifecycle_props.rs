//! Property tests over random action sequences applied to random work sessions.

use chrono::{DateTime, Duration, Utc};
use gatehouse_shared::gate::{self, AuthMethod, Operation, Principal};
use gatehouse_shared::lifecycle::{apply, Action, Actor, ExtendBy, Policy};
use gatehouse_shared::work_session::ServerRef;
use gatehouse_shared::{
    Role, Scope, ServerId, Status, UserId, UserRef, WorkSession, WorkSessionId,
};
use proptest::prelude::*;
use uuid::Uuid;

const SERVERS: [&str; 3] = ["web-01", "web-02", "db-01"];
const ROLES: [Role; 4] = [Role::Superuser, Role::Superuser, Role::Staff, Role::Member];

fn user(i: usize) -> UserRef {
    UserRef {
        id: UserId(Uuid::from_u128(i as u128 + 1)),
        username: format!("user{i}"),
    }
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn server_ref(i: usize) -> ServerRef {
    ServerRef {
        id: ServerId(Uuid::from_u128(100 + i as u128)),
        name: SERVERS[i].into(),
    }
}

prop_compose! {
    fn session()(
        scopes in proptest::sample::subsequence(Scope::ALL.to_vec(), 1..=6),
        servers in proptest::sample::subsequence(vec![0usize, 1, 2], 1..=3),
        requester in 0usize..4,
        assignee in 0usize..4,
        by_duration in any::<bool>(),
        window in 60i64..7200,
        start_offset in proptest::option::of(0i64..600),
    ) -> WorkSession {
        WorkSession {
            id: WorkSessionId(Uuid::from_u128(42)),
            purpose: "fix the thing".into(),
            status: Status::Pending,
            scopes,
            servers: servers.into_iter().map(server_ref).collect(),
            sudo_commands: Vec::new(),
            tunnel_ports: Vec::new(),
            requested_by: user(requester),
            assignee: user(assignee),
            approved_by: None,
            decision_reason: None,
            adjustments: None,
            starts_at: start_offset.map(|s| t0() + Duration::seconds(s)),
            duration_secs: by_duration.then_some(window),
            expires_at: (!by_duration).then(|| t0() + Duration::seconds(600 + window)),
            created_at: t0(),
            decided_at: None,
            activated_at: None,
            ended_at: None,
        }
    }
}

fn action() -> impl Strategy<Value = Action> {
    let scopes = proptest::option::of(proptest::sample::subsequence(Scope::ALL.to_vec(), 0..=6));
    let servers = proptest::option::of(proptest::sample::subsequence(
        SERVERS
            .iter()
            .map(|s| s.to_string())
            .chain(["evil-01".to_string()])
            .collect::<Vec<_>>(),
        0..=4,
    ));
    prop_oneof![
        Just(Action::AutoApprove),
        (scopes, servers).prop_map(|(scopes, servers)| Action::Approve {
            scopes,
            servers,
            sudo_commands: None,
            tunnel_ports: None,
            reason: None
        }),
        Just(Action::Reject { reason: None }),
        Just(Action::Revoke {
            reason: Some("done".into())
        }),
        Just(Action::Cancel),
        Just(Action::Activate),
        Just(Action::Complete),
        (1i64..100_000).prop_map(|s| Action::Extend(ExtendBy::Seconds(s))),
        Just(Action::Start),
        Just(Action::Expire),
    ]
}

fn actor() -> impl Strategy<Value = Actor> {
    prop_oneof![
        (0usize..4).prop_map(|i| Actor::User {
            user: user(i),
            role: ROLES[i]
        }),
        Just(Actor::System),
    ]
}

fn steps() -> impl Strategy<Value = Vec<(Actor, Action, i64)>> {
    proptest::collection::vec((actor(), action(), 0i64..900), 1..40)
}

fn is_decision(action: &Action) -> bool {
    matches!(
        action,
        Action::Approve { .. } | Action::Reject { .. } | Action::Revoke { .. }
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_sequences_keep_the_invariants(start in session(), steps in steps()) {
        let policy = Policy::default();
        let mut current = start;
        let mut now = t0();
        for (actor, action, advance) in steps {
            now += Duration::seconds(advance);
            let before = current.clone();
            let result = apply(&before, &actor, &action, now, &policy);

            // Terminal states never change.
            if before.status.is_terminal() {
                prop_assert!(result.is_err(), "{:?} changed terminal {:?}", action, before.status);
            }
            let Ok(after) = result else { continue };

            // Nothing ever widens scopes or servers.
            prop_assert!(after.scopes.iter().all(|s| before.scopes.contains(s)));
            prop_assert!(after.servers.iter().all(|s| before.servers.contains(s)));
            prop_assert!(!after.scopes.is_empty() && !after.servers.is_empty());

            // Only superusers decide, and never on their own request.
            if is_decision(&action) {
                match &actor {
                    Actor::User { user, role } => {
                        prop_assert_eq!(*role, Role::Superuser);
                        if !matches!(action, Action::Revoke { .. }) {
                            prop_assert!(before.requested_by.id != user.id);
                            prop_assert!(before.assignee.id != user.id);
                        }
                    }
                    Actor::System => prop_assert!(false, "the system decided"),
                }
            }
            if action == Action::AutoApprove {
                let Actor::User { user, role } = &actor else { panic!("system auto-approved") };
                prop_assert_eq!(*role, Role::Superuser);
                prop_assert_eq!(user.id, before.requested_by.id);
            }

            // An active session always has an expiry within the policy maximum of its start.
            if after.status == Status::Active {
                let expires = after.expires_at.expect("active without expiry");
                let activated = after.activated_at.expect("active without activation time");
                prop_assert!((expires - activated).num_seconds() <= policy.max_duration_secs);
            }
            current = after;
        }
    }

    #[test]
    fn the_gate_allows_only_active_unexpired_sessions_with_scope_and_server(
        start in session(),
        steps in steps(),
        scope in proptest::sample::select(Scope::ALL.to_vec()),
        server in proptest::sample::select(SERVERS.to_vec()),
        as_root in any::<bool>(),
        probe_after in 0i64..10_000,
    ) {
        let policy = Policy::default();
        let mut current = start;
        let mut now = t0();
        for (actor, action, advance) in steps {
            now += Duration::seconds(advance);
            if let Ok(next) = apply(&current, &actor, &action, now, &policy) {
                current = next;
            }
        }
        let probe = now + Duration::seconds(probe_after);
        let principal = Principal { user_id: current.assignee.id, auth_method: AuthMethod::Password };
        let op = Operation {
            scope,
            server,
            as_root,
            as_other: false,
            detail: Default::default(),
        };
        let allowed = gate::check(&op, &principal, Some(&current), false, probe).is_ok();
        let usable = current.status == Status::Active
            && current.expires_at.is_some_and(|e| probe < e)
            && current.has_scope(scope)
            && (!as_root || current.has_scope(Scope::Sudo))
            && current.has_server(server);
        prop_assert_eq!(allowed, usable);

        // Someone else never gets through with this session.
        let other = Principal { user_id: UserId(Uuid::from_u128(999)), auth_method: AuthMethod::Password };
        prop_assert!(gate::check(&op, &other, Some(&current), false, probe).is_err());
    }
}
