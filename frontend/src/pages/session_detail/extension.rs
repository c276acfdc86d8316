//! A waiting extension of this session: what was asked, by whom, and, for a superuser who did
//! not ask, the decision in place. The requester sees that the session keeps its expiry until
//! then. The page re-creates it whenever the session reloads, and live updates refetch it.

use crate::api;
use crate::auth::use_auth;
use crate::components::extension::{asked, ExtensionDecision};
use crate::live::use_live;
use crate::time::format_at;
use gatehouse_shared::approval::Approval;
use gatehouse_shared::{Role, WorkSessionId};
use leptos::prelude::*;

#[component]
pub fn PendingExtension(id: WorkSessionId) -> impl IntoView {
    let live = use_live();
    let auth = use_auth();
    let decided = RwSignal::new(0u32);
    let pending = LocalResource::new(move || {
        live.version.track();
        decided.track();
        async move {
            let filter = api::ApprovalFilter {
                kind: Some("extension".to_owned()),
                work_session: Some(id.to_string()),
                ..api::ApprovalFilter::default()
            };
            api::approvals(&filter)
                .await
                .ok()
                .and_then(|items| items.into_iter().next())
        }
    });
    move || {
        let approval: Approval = pending.get().flatten()?;
        let me = auth.me.get()?;
        let may_decide = me.user.role == Role::Superuser && me.user.id != approval.requested_by.id;
        let text = format!(
            "Extension {} asked by {} at {}: waiting for an approver. The session keeps its \
             current expiry until then.",
            asked(&approval),
            approval.requested_by.username,
            format_at(&approval.requested_at),
        );
        Some(view! {
            <div class="notice pending-extension" role="status" data-testid="pending-extension">
                <p>{text}</p>
                {may_decide.then(|| view! {
                    <ExtensionDecision approval=approval.clone()
                        on_done=Callback::new(move |_| decided.update(|n| *n += 1)) />
                })}
            </div>
        })
    }
}
