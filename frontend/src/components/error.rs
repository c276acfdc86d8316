//! How a failed call is shown: the server's message and reason, as text, and field messages
//! in words.

use crate::api::ApiError;
use leptos::prelude::*;

/// An alert box for an optional error; renders nothing when there is none. `at_fields` names
/// the fields whose errors the form shows at the field itself (`FieldError`): those are left
/// out here, so each error is said once, and a box with nothing left is not shown.
#[component]
pub fn ErrorBox(
    #[prop(into)] error: Signal<Option<ApiError>>,
    #[prop(optional)] at_fields: &'static [&'static str],
) -> impl IntoView {
    move || {
        error.get().and_then(|e| {
            let fields = &e.envelope.fields;
            let message = if at_fields.is_empty() || fields.is_empty() {
                e.envelope.message.clone()
            } else {
                let rest: Vec<String> = fields
                    .iter()
                    .filter(|f| !at_fields.contains(&f.field.as_str()))
                    .map(|f| in_words(&f.message))
                    .collect();
                if rest.is_empty() {
                    return None;
                }
                rest.join(" ")
            };
            let actions = e.envelope.next_actions.clone();
            Some(view! {
                <div class="error" role="alert" data-error-code=e.code().to_string()>
                    <strong>{message}</strong>
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
            })
        })
    }
}

/// The API's names of fields as a form's reader knows them.
const FIELD_WORDS: [(&str, &str); 5] = [
    ("expires_at", "the end time"),
    ("duration_secs", "a duration"),
    ("starts_at", "the start time"),
    ("expires_in_secs", "the lifetime"),
    ("max_uses", "the number of uses"),
];

/// A server message about a field, for a person: API field names become words, "N seconds"
/// becomes minutes or hours, and the sentence starts with a capital.
pub fn in_words(message: &str) -> String {
    let mut text = message.to_owned();
    for (name, words) in FIELD_WORDS {
        text = text.replace(name, words);
    }
    if text.contains(" seconds") {
        // "between 300 and 86400 seconds" → "between 5 minutes and 24 hours".
        text = text
            .replace(" seconds", "")
            .split(' ')
            .map(|word| {
                word.parse::<i64>()
                    .map_or_else(|_| word.to_owned(), duration_words)
            })
            .collect::<Vec<_>>()
            .join(" ");
    }
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect::<String>()
    })
}

fn duration_words(secs: i64) -> String {
    let (n, unit) = match secs {
        s if s != 0 && s % 3600 == 0 => (s / 3600, "hour"),
        s if s != 0 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}
