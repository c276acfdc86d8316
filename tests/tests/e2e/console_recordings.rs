//! Finding things in history: a member types a distinctive command in a browser terminal, the
//! terminal closes, and the Recordings page finds it by that text; the row opens the player,
//! which shows whose terminal it was, where, in which work session, its first frame before Play,
//! scaled to fit the page, and a download of the `.cast` file. Staff find the same terminal in
//! the audit log by its short id, its events read as sentences.

use crate::console::Console;
use fantoccini::key::Key;
use gatehouse_client::api::recordings::RecordingFilter;
use gatehouse_e2e::browser::run_ui_test;

#[tokio::test]
async fn console_recordings_search_finds_a_typed_command() {
    let cx = Console::start(&[("rita", "member")], &["web-01"]).await;
    cx.grant("rita", "web-01").await;
    let member = cx.signed_in("rita").await;
    let staff = cx.signed_in("ops").await;
    run_ui_test(
        "console_recordings_search_finds_a_typed_command",
        &cx.driver,
        async {
            let rita = gatehouse_e2e::Api::login(&cx.server.base, "rita").await;
            let session = cx
                .active_session_of(&rita, "hunt the needle", &["websh"])
                .await
                .id;

            // A terminal, the command typed in it, and the shell left.
            let mut websh = format!("/websh?server=web-01&session={session}");
            if let Some(user) = gatehouse_e2e::shell_user() {
                websh.push_str(&format!("&user={user}"));
            }
            member.goto(&websh).await;
            member
                .wait_for("[data-testid=terminal][data-state=open]")
                .await;
            let enter = char::from(Key::Enter);
            // The output differs from the command line, so the screen proves the shell ran it.
            member
                .type_in_terminal(&format!("echo gh-needle-$((6*7)){enter}"))
                .await;
            member.wait_terminal_line("gh-needle-42").await;
            member.type_in_terminal(&format!("exit{enter}")).await;
            member
                .wait_for("[data-testid=terminal][data-state=exited]")
                .await;

            // The gateway stores the terminal's end (and its text) as the agent reports the exit,
            // which may come a moment after the page shows it.
            gatehouse_e2e::eventually(
                "the terminal's end to be stored",
                std::time::Duration::from_secs(20),
                || async {
                    let page = rita
                        .client
                        .recordings(&RecordingFilter::default())
                        .await
                        .expect("the recordings");
                    page.items.first()?.ended_at.is_some().then_some(())
                },
            )
            .await;

            // The Recordings page, from the navigation, lists it.
            member.goto("/sessions").await;
            member.click("nav a[href='/recordings']").await;
            member.wait_path("/recordings").await;
            member.wait_count("[data-testid=recording-row]", 1).await;
            // A member is not offered a person filter: they see only their own.
            assert_eq!(member.count("[data-testid=recordings-user]").await, 0);

            // Text that was never typed or shown finds nothing.
            member
                .fill("[data-testid=recordings-q]", "gh-haystack")
                .await;
            member.click("[data-testid=recordings-apply]").await;
            member.wait_for("[data-testid=recordings-empty]").await;

            // The command's text finds it, with the text around the match.
            member.fill("[data-testid=recordings-q]", "GH-needle").await;
            member.click("[data-testid=recordings-apply]").await;
            let row = member.wait_for("[data-testid=recording-row]").await;
            assert_eq!(member.query_param("q").await.as_deref(), Some("GH-needle"));
            let id = row
                .attr("data-id")
                .await
                .expect("attr")
                .expect("a row names its recording");
            let row_text = member.text("[data-testid=recording-row]").await;
            for part in ["rita", "web-01", "hunt the needle"] {
                assert!(row_text.contains(part), "row {row_text:?} lacks {part}");
            }
            let snippet = member.text("[data-testid=recording-snippet]").await;
            assert!(snippet.contains("gh-needle-"), "snippet {snippet:?}");
            member.doc_screenshot("recordings.png").await;

            // The row opens the player with the terminal's context.
            member
                .click(&format!(
                    "[data-testid=recording-row][data-id='{id}'] a[href='/recordings/{id}']"
                ))
                .await;
            member.wait_path(&format!("/recordings/{id}")).await;
            member
                .wait_text("[data-testid=playback-owner]", "rita")
                .await;
            assert!(member
                .text("[data-testid=playback-server]")
                .await
                .contains("web-01"));
            assert_eq!(
                member.text("[data-testid=playback-session]").await,
                "hunt the needle"
            );
            assert_eq!(
                member.attrs("[data-testid=playback-session]", "href").await,
                [format!("/sessions/{session}")]
            );
            let download = member
                .attrs("[data-testid=playback-download]", "href")
                .await;
            assert_eq!(
                download,
                [format!("/api/websh/{id}/recording?download=true")]
            );
            // Before Play, the screen already shows the first frame (the shell's prompt).
            member
                .wait_for("[data-testid=playback-play][aria-pressed=false]")
                .await;
            let first = member.wait_terminal_not_blank().await;
            member.doc_screenshot("playback.png").await;
            // Playback has not reached the command: it is not on the screen yet.
            assert!(
                !first.iter().any(|l| l.contains("gh-needle")),
                "the first frame already shows the command: {first:?}"
            );
            // The recording is as wide as the terminal was (the whole window): scaled down, it
            // fits inside the page's content column.
            gatehouse_e2e::eventually(
                "the player's screen to fit the page",
                std::time::Duration::from_secs(10),
                || async {
                    let sizes = member
                        .js(
                            "const f = document.querySelector('.playback-frame');\
                             const s = document.querySelector('[data-testid=playback-screen]');\
                             return [f.getBoundingClientRect().width,\
                                     s.getBoundingClientRect().width, s.offsetWidth];",
                            vec![],
                        )
                        .await;
                    let [frame, shown, natural] =
                        [0, 1, 2].map(|i| sizes[i].as_f64().unwrap_or(f64::MAX));
                    (natural > frame && shown <= frame + 1.0).then_some(())
                },
            )
            .await;

            // Staff find the terminal's events in the audit log by the short id the console
            // shows, newest first, each as a sentence.
            let short = &id[..8];
            staff.goto(&format!("/audit?id={short}")).await;
            staff.wait_count("[data-testid=audit-row]", 2).await;
            let sentences = staff.texts("[data-testid=audit-sentence]").await;
            let run_as = gatehouse_e2e::shell_user()
                .map(|u| format!(" as {u}"))
                .unwrap_or_default();
            assert_eq!(
                sentences,
                [
                    "rita's terminal on web-01 closed (exit 0)".to_owned(),
                    format!("rita opened a terminal on web-01{run_as}"),
                ]
            );
            staff.doc_screenshot("audit.png").await;
            // Free text (any case) finds the session's events by its purpose, newest first.
            staff.goto("/audit?q=HUNT%20the").await;
            staff.wait_count("[data-testid=audit-row]", 3).await;
            assert_eq!(
                staff.texts("[data-testid=audit-sentence]").await,
                [
                    "rita started the work session",
                    "ops approved the work session",
                    "rita requested a work session: “hunt the needle”",
                ]
            );
        },
    )
    .await;
}
