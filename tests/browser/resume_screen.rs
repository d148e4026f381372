//! Resume only on purpose: a page that finds a resume token (Back after leaving, a reload, a
//! restored tab) shows nothing of the chat until the person chooses "Continue your chat"; and
//! by default the token is dropped when the person leaves, so Back never resumes at all.
//! The navigation away and Back are real ones (Chromium does not keep this page in its
//! back/forward cache: no-store and an open socket), not a synthetic `pageshow`.

use crate::{
    available_advocate, claim_waiting, common,
    harness::{chromium_available, exit_site, Chrome, Tab},
    next_message_with,
};

const SECRET: &str = "canary-advocate-line-4711";

/// A chatter in a claimed chat who has read the advocate's line; then they follow a link away
/// and press Back.
async fn chat_then_leave_and_back(
    tab: &Tab,
    app: &common::TestApp,
    advocate: &mut common::Ws,
) -> String {
    let exit = exit_site().await;
    tab.goto(&app.url("/chat")).await;
    tab.click("#start").await;
    tab.wait_visible("#queue-info").await;
    let chat_id = claim_waiting(advocate).await;
    common::send(
        advocate,
        serde_json::json!({"type": "message", "chat_id": chat_id, "id": "a-1", "text": SECRET}),
    )
    .await;
    next_message_with(advocate, SECRET).await;
    tab.wait_text("#log", SECRET).await;

    // An ordinary navigation away (typing another address, a link), then Back.
    tab.goto(&exit.url("/before")).await;
    tab.back().await;
    tab.wait_url(&app.url("/chat")).await;
    tab.wait(
        "document.readyState === 'complete' && !document.getElementById('screen-loading').getClientRects().length",
        "the chat page loaded again",
    )
    .await;
    drop(exit);
    chat_id
}

async fn shows_nothing_of_the_chat(tab: &Tab, state: &str) {
    let text: String = tab.eval("document.body.innerText").await;
    assert!(!text.contains(SECRET), "{state}: no chat text: {text}");
    assert_eq!(
        tab.count("#log li").await,
        0,
        "{state}: no transcript in the page at all"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_after_leaving_a_chat_shows_the_start_screen_and_no_chat() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    let mut advocate = available_advocate(&app, "sam").await;
    let chrome = Chrome::launch().await;
    let tab = chrome.new_context().await;
    let chat_id = chat_then_leave_and_back(&tab, &app, &mut advocate).await;

    // Leaving ended the chat (it could not go on without its token): the advocate knows.
    let left = common::next_of_type(&mut advocate, "chatter_left").await;
    assert_eq!(left["chat_id"], chat_id.as_str());
    assert_eq!(left["reason"], "left");

    // The token went with `pagehide`: a fresh start screen, nothing resumed.
    tab.wait_visible("#start").await;
    shows_nothing_of_the_chat(&tab, "Back").await;
    assert!(
        tab.eval::<bool>("sessionStorage.getItem('haven_token') === null")
            .await
    );
    assert!(!tab.visible("#screen-resume").await);
    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_finds_a_token_asks_before_showing_the_chat() {
    if !chromium_available() {
        return;
    }
    // With the token kept on leaving, Back finds it: the neutral screen, then the person chooses.
    let app = common::spawn_app_with(|c| c.chatter_page.forget_on_pagehide = false).await;
    let mut advocate = available_advocate(&app, "sam").await;
    let chrome = Chrome::launch().await;
    let tab = chrome.new_context().await;
    chat_then_leave_and_back(&tab, &app, &mut advocate).await;

    tab.wait_visible("#screen-resume").await;
    assert_eq!(tab.text("#resume-continue").await, "Continue your chat");
    assert_eq!(tab.text("#resume-leave").await, "Leave");
    shows_nothing_of_the_chat(&tab, "the resume screen").await;
    // Nothing resumes by itself: the advocate hears nothing of the chatter.
    let mut heard = Vec::new();
    let quiet = tokio::time::timeout(std::time::Duration::from_millis(1500), async {
        loop {
            let frame = common::next_frame(&mut advocate).await;
            if frame["type"] == "chatter_reconnected" {
                return frame;
            }
            heard.push(frame);
        }
    })
    .await;
    assert!(quiet.is_err(), "the page did not resume on its own");
    shows_nothing_of_the_chat(&tab, "a moment later").await;

    // The person chooses to continue: the transcript comes back.
    tab.click("#resume-continue").await;
    tab.wait_text("#log", SECRET).await;
    common::next_of_type(&mut advocate, "chatter_reconnected").await;
    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leave_on_the_resume_screen_goes_to_the_neutral_site() {
    if !chromium_available() {
        return;
    }
    let exit = exit_site().await;
    let exit_url = exit.url("/weather");
    let configured = exit_url.clone();
    let app = common::spawn_app_with(move |c| {
        c.chatter_page.forget_on_pagehide = false;
        c.program.quick_exit_url = configured;
    })
    .await;
    let mut advocate = available_advocate(&app, "sam").await;
    let chrome = Chrome::launch().await;
    let tab = chrome.new_context().await;
    chat_then_leave_and_back(&tab, &app, &mut advocate).await;
    tab.wait_visible("#screen-resume").await;
    tab.click("#resume-leave").await;
    tab.wait_url(&exit_url).await;
    tab.goto(&app.url("/healthz")).await;
    assert_eq!(tab.eval::<i64>("sessionStorage.length").await, 0);
    chrome.close().await;
    app.shutdown.trigger();
}
