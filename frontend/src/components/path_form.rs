//! An editable path with a submit button: WebFTP's current directory, the editor's file.

use leptos::prelude::*;

/// A one-line path field (`name=path`) bound to `typed`; `on_open` runs on submit (Enter or the
/// button), with the page's own navigation left to the caller.
#[component]
pub fn PathForm(
    /// `data-testid` of the form.
    testid: &'static str,
    /// `id` of the input, for its label.
    input_id: &'static str,
    /// The label, read by screen readers.
    label: &'static str,
    /// The button's text.
    button: &'static str,
    typed: RwSignal<String>,
    #[prop(into)] on_open: Callback<()>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    let submit = move |ev: web_sys::SubmitEvent| {
        ev.prevent_default();
        on_open.run(());
    };
    view! {
        <form class=format!("path-form {class}") data-testid=testid on:submit=submit>
            <label class="visually-hidden" for=input_id>{label}</label>
            <input
                id=input_id
                name="path"
                autocomplete="off"
                spellcheck="false"
                placeholder=placeholder
                bind:value=typed
            />
            <button type="submit">{button}</button>
        </form>
    }
}
