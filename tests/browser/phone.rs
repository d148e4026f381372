//! The chatter page on a phone: the composer stays on screen in a long chat with the on-screen
//! keyboard open (emulated as a window of the height left above a keyboard), and a new message
//! does not move the view while the person is reading back.

use crate::{
    available_advocate, claim_waiting, common,
    harness::{chromium_available, Chrome, Tab},
    next_message_with,
};

/// Haven with rate limits that let an advocate write 100 lines at once.
async fn roomy_app() -> common::TestApp {
    common::spawn_app_with(|c| {
        c.limits.rate_burst = 1000;
        c.limits.rate_per_sec = 1000;
    })
    .await
}

/// Writes `n` lines ten at a time, reading the echo of each tenth before going on: a console
/// reads as it writes, and a client that never reads is dropped as a slow consumer, which on
/// a loaded machine this test would otherwise provoke.
async fn advocate_says(advocate: &mut common::Ws, chat_id: &str, n: usize, from: usize) {
    let lines: Vec<usize> = (from..from + n).collect();
    for batch in lines.chunks(10) {
        for i in batch {
            common::send(
                advocate,
                serde_json::json!({"type": "message", "chat_id": chat_id, "id": format!("a-{i}"), "text": format!("line {i}")}),
            )
            .await;
        }
        let last = batch.last().expect("a non-empty batch");
        next_message_with(advocate, &format!("line {last}")).await;
    }
}

/// The composer (box and Send) is inside the viewport and is what a tap on it hits.
async fn composer_on_screen(tab: &Tab, state: &str) {
    let check: serde_json::Value = tab
        .eval(
            "(() => { const h = innerHeight, w = innerWidth; \
              const inside = (id) => { const r = document.getElementById(id).getBoundingClientRect(); \
                const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); \
                return r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= h && r.right <= w && document.getElementById(id).contains(hit); }; \
              return { message: inside('message'), send: inside('send'), quickExit: inside('quick-exit'), \
                       box: document.getElementById('composer').getBoundingClientRect().toJSON(), h }; })()",
        )
        .await;
    assert!(
        check["message"] == true && check["send"] == true && check["quickExit"] == true,
        "{state}: the message box, Send and Quick exit are on screen and uncovered: {check}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_composer_stays_on_screen_after_100_messages_with_the_keyboard_open() {
    if !chromium_available() {
        return;
    }
    let app = roomy_app().await;
    let mut advocate = available_advocate(&app, "sam").await;
    let chrome = Chrome::launch().await;
    // (width, height, height left above an on-screen keyboard)
    for (width, height, keyboard) in [(320, 640, 330), (390, 844, 480), (430, 932, 520)] {
        let tab = chrome.new_context().await;
        tab.set_viewport(width, height).await;
        tab.goto(&app.url("/chat")).await;
        tab.click("#start").await;
        tab.wait_visible("#queue-info").await;
        let chat_id = claim_waiting(&mut advocate).await;
        advocate_says(&mut advocate, &chat_id, 100, 0).await;
        tab.wait(
            "document.querySelectorAll('#log [data-from=advocate]').length === 100",
            "100 lines",
        )
        .await;
        let state = format!("{width}x{height}");
        composer_on_screen(&tab, &state).await;
        // The keyboard opens: the window is only as tall as what is left above it.
        tab.eval::<bool>("document.getElementById('message').focus(), true")
            .await;
        tab.set_viewport(width, keyboard).await;
        tab.wait(
            "document.getElementById('composer').getBoundingClientRect().bottom <= innerHeight",
            "the page to fit the smaller window",
        )
        .await;
        composer_on_screen(&tab, &format!("{state} with the keyboard ({keyboard})")).await;
        assert!(
            tab.eval::<bool>("(() => { const s = document.getElementById('log-scroll'); return s.scrollHeight - s.scrollTop - s.clientHeight < 40; })()")
                .await,
            "{state}: the newest line stays in view"
        );
        assert!(
            !tab.eval::<bool>("document.documentElement.scrollWidth > innerWidth")
                .await,
            "{state}: no sideways scrolling"
        );
    }
    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_message_does_not_move_the_view_while_reading_back() {
    if !chromium_available() {
        return;
    }
    let app = roomy_app().await;
    let mut advocate = available_advocate(&app, "sam").await;
    let chrome = Chrome::launch().await;
    let tab = chrome.new_context().await;
    tab.set_viewport(390, 844).await;
    tab.goto(&app.url("/chat")).await;
    tab.click("#start").await;
    tab.wait_visible("#queue-info").await;
    let chat_id = claim_waiting(&mut advocate).await;
    advocate_says(&mut advocate, &chat_id, 40, 0).await;
    tab.wait(
        "document.querySelectorAll('#log [data-from=advocate]').length === 40",
        "40 lines",
    )
    .await;

    // The person scrolls back to read an earlier line.
    let at: f64 = tab
        .eval("(() => { const s = document.getElementById('log-scroll'); s.scrollTop = 200; return s.scrollTop; })()")
        .await;
    assert!(at > 0.0);
    assert!(!tab.visible("#new-messages").await);
    advocate_says(&mut advocate, &chat_id, 2, 40).await;
    tab.wait_text("#log", "line 41").await;
    tab.wait_visible("#new-messages").await;
    let now: f64 = tab
        .eval("document.getElementById('log-scroll').scrollTop")
        .await;
    assert_eq!(now, at, "the view did not move");
    assert!(
        tab.text("#new-messages").await.contains('2'),
        "the pill counts the new lines"
    );

    // The pill takes them to the newest line and goes away.
    tab.click("#new-messages").await;
    tab.wait_hidden("#new-messages").await;
    assert!(
        tab.eval::<bool>("(() => { const s = document.getElementById('log-scroll'); return s.scrollHeight - s.scrollTop - s.clientHeight < 40; })()")
            .await
    );
    // At the bottom, a new line simply shows.
    advocate_says(&mut advocate, &chat_id, 1, 42).await;
    tab.wait_text("#log", "line 42").await;
    assert!(!tab.visible("#new-messages").await);
    chrome.close().await;
    app.shutdown.trigger();
}
