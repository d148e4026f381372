//! The start screen: Start within the first screen at 320x640 in every language, and who is on
//! duty, asked again when the person comes back to it.

use crate::{
    available_advocate, claim_waiting, common,
    harness::{chromium_available, Chrome, Tab},
};

async fn start_on_first_screen(tab: &Tab, state: &str) {
    let bottom: f64 = tab
        .eval("document.getElementById('start').getBoundingClientRect().bottom")
        .await;
    assert!(
        bottom <= 640.0,
        "{state}: Start is on the first screen at 320x640 (bottom at {bottom})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_is_on_the_first_screen_in_english_and_spanish_and_duty_is_asked_again() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    let chrome = Chrome::launch().await;
    let tab = crate::language::spanish_tab(&chrome).await;
    tab.set_viewport(320, 640).await;
    tab.goto(&app.url("/chat")).await;
    tab.wait_text("#duty", "Ahora no hay ninguna persona de apoyo libre")
        .await;
    start_on_first_screen(&tab, "Spanish, nobody on duty").await;
    let _: bool = tab
        .eval("(() => { const s = document.getElementById('language'); s.value = 'en'; s.dispatchEvent(new Event('change')); return true; })()")
        .await;
    tab.wait_text("#duty", "No advocate is free right now")
        .await;
    start_on_first_screen(&tab, "English, nobody on duty").await;

    // Someone comes on duty; after a chat, the start screen says so.
    let mut advocate = available_advocate(&app, "sam").await;
    tab.click("#start").await;
    tab.wait_visible("#queue-info").await;
    let chat_id = claim_waiting(&mut advocate).await;
    common::send(
        &mut advocate,
        serde_json::json!({"type": "end", "chat_id": chat_id}),
    )
    .await;
    tab.wait_visible("#screen-ended").await;
    tab.click("#new-chat").await;
    tab.wait_text("#duty", "Advocates are online now").await;
    start_on_first_screen(&tab, "English, on duty").await;
    chrome.close().await;
    app.shutdown.trigger();
}
