//! How a failed call is shown: the server's message and reason, as text.

use crate::api::ApiError;
use leptos::prelude::*;

/// An alert box for an optional error; renders nothing when there is none.
#[component]
pub fn ErrorBox(#[prop(into)] error: Signal<Option<ApiError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            let actions = e.envelope.next_actions.clone();
            view! {
                <div class="error" role="alert" data-error-code=e.code().to_string()>
                    <strong>{e.envelope.message.clone()}</strong>
                    {e.envelope.reason.clone().map(|r| view! { <div class="reason">{r}</div> })}
                    {(!actions.is_empty())
                        .then(|| {
                            view! {
                                <ul class="next-actions">
                                    {actions
                                        .into_iter()
                                        .map(|a| view! { <li><code>{a}</code></li> })
                                        .collect_view()}
                                </ul>
                            }
                        })}
                </div>
            }
        })
    }
}
