//! The pages in `web/` driven in real Chromium (Debian's `/usr/bin/chromium`) over the DevTools
//! protocol: the chatter page, the advocate console and the embeddable widget against a real
//! Haven server. Without Chromium the tests fail in CI (`CI=true`) and are skipped elsewhere.

#[path = "../common/mod.rs"]
mod common;
mod harness;

mod a11y;
mod admin;
mod chat_flow;
mod console;
mod console_shift;
mod forms;
mod language;
mod phone;
mod privacy;
mod proof;
mod quick_exit;
mod resume;
mod resume_screen;
mod screenshots;
mod start_screen;
mod stats;
mod widget;

use harness::{Chrome, Tab};

pub const PASSWORD: &str = "correct horse battery";

/// Create an advocate account (display name "Advocate <Name>") in the app's store.
pub fn add_advocate(app: &common::TestApp, username: &str) -> String {
    let mut name = username.to_string();
    if let Some(first) = name.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    let display = format!("Advocate {name}");
    app.add_staff(username, &display, haven::Role::Advocate, PASSWORD);
    display
}

/// Open the console in a fresh browser context and sign in through the login form.
pub async fn console_login(chrome: &Chrome, app: &common::TestApp, username: &str) -> Tab {
    console_login_with(chrome, app, username, None).await
}

/// Like `console_login`, running `init` (test instrumentation) before the page's own scripts.
pub async fn console_login_with(
    chrome: &Chrome,
    app: &common::TestApp,
    username: &str,
    init: Option<&str>,
) -> Tab {
    let tab = chrome.new_context().await;
    if let Some(script) = init {
        tab.page
            .evaluate_on_new_document(script)
            .await
            .expect("init script");
    }
    tab.goto(&app.url("/console")).await;
    tab.wait_visible("#login-form").await;
    tab.type_into("#username", username).await;
    tab.type_into("#password", PASSWORD).await;
    tab.click("#login-submit").await;
    tab.wait_visible("#app-view").await;
    tab.wait(
        "document.getElementById('me-name').textContent.length > 0",
        "the signed-in advocate's name",
    )
    .await;
    tab
}

/// Switch the console to "available" and wait until the server confirms it.
pub async fn go_available(tab: &Tab) {
    tab.click("#available").await;
    tab.wait("document.getElementById('available').checked && document.getElementById('available-label').textContent === 'Available'", "the advocate to be available").await;
}

/// Open the chatter page in a fresh context (at `url`), start a chat and wait to be queued.
pub async fn chatter_start(chrome: &Chrome, url: &str) -> Tab {
    let tab = chrome.new_context().await;
    tab.goto(url).await;
    tab.click("#start").await;
    tab.wait_visible("#queue-info").await;
    tab
}

/// In the console: claim the only waiting chatter and wait for its tab.
pub async fn claim_first(tab: &Tab) {
    tab.wait_visible("[data-testid=claim]").await;
    let before = tab.count("[data-testid=chat-tab]").await;
    tab.js_click("[data-testid=claim]").await;
    tab.wait(
        &format!("document.querySelectorAll('[data-testid=chat-tab]').length > {before}"),
        "the claimed chat's tab",
    )
    .await;
}

/// The selector of the visible chat panel in the console.
pub const ACTIVE: &str = "[data-testid=chat-panel]:not([hidden])";

/// An advocate on a plain WebSocket client, available, so that chatters get queued (with
/// nobody available Haven answers `offline`). Keep the socket alive for the test.
pub async fn available_advocate(app: &common::TestApp, username: &str) -> common::Ws {
    let mut ws = app.advocate(username).await;
    common::send(
        &mut ws,
        serde_json::json!({"type": "status", "available": true}),
    )
    .await;
    loop {
        let status = common::next_of_type(&mut ws, "status").await;
        if status["available"] == true {
            return ws;
        }
    }
}

/// Skip frames until a `message` with this text arrives (each side also gets its own lines back).
pub async fn next_message_with(ws: &mut common::Ws, text: &str) -> serde_json::Value {
    loop {
        let frame = common::next_of_type(ws, "message").await;
        if frame["text"] == text {
            return frame;
        }
    }
}

/// Claims the first chatter in the queue on a raw console socket; returns the chat id.
pub async fn claim_waiting(advocate: &mut common::Ws) -> String {
    let chat_id = loop {
        let queue = common::next_of_type(advocate, "queue").await;
        if let Some(entry) = queue["entries"].as_array().and_then(|e| e.first()) {
            break entry["chat_id"].as_str().unwrap().to_owned();
        }
    };
    common::send(
        advocate,
        serde_json::json!({"type": "claim", "chat_id": chat_id}),
    )
    .await;
    common::next_of_type(advocate, "assigned").await;
    chat_id
}
