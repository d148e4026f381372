//! Not a check: `cargo test --test browser screenshots -- --ignored` saves pictures of the pages
//! in their main states to `target/screenshots/` for people to look at.

use std::path::PathBuf;

use chromiumoxide::page::ScreenshotParams;
use serde_json::json;

use crate::{
    add_advocate, available_advocate, chatter_start, claim_first, common, console_login,
    go_available,
    harness::{chromium_available, Chrome, Key, SidePages, Tab},
    ACTIVE,
};

async fn shot(tab: &Tab, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = tab
        .page
        .screenshot(ScreenshotParams::builder().build())
        .await
        .expect("screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes pictures for people; run on demand"]
async fn screenshots() {
    if !chromium_available() {
        return;
    }
    let host_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host_origin = format!(
        "http://127.0.0.1:{}",
        host_listener.local_addr().unwrap().port()
    );
    let app = common::spawn_app_with(move |c| c.server.frame_ancestors = vec![host_origin]).await;
    add_advocate(&app, "sam");
    let chrome = Chrome::launch().await;

    let offline = chrome.new_context().await;
    offline.set_viewport(360, 740).await;
    offline.goto(&app.url("/chat")).await;
    offline.wait_visible("#start").await;
    shot(&offline, "chat-start-360").await;
    offline.click("#start").await;
    offline.wait_visible("#screen-offline").await;
    shot(&offline, "chat-offline-360").await;

    let sam = console_login(&chrome, &app, "sam").await;
    sam.set_viewport(1280, 800).await;
    go_available(&sam).await;
    let mut other = app.chatter().await;
    common::send(&mut other, json!({"type": "hello", "language": "es", "intake": {"age_range": "25-34", "heard_from": "friend"}})).await;

    let chatter = chatter_start(&chrome, &app.url("/chat")).await;
    chatter.set_viewport(360, 740).await;
    shot(&chatter, "chat-queued-360").await;
    sam.wait(
        "document.querySelectorAll('[data-testid=queue-entry]').length === 2",
        "two waiting",
    )
    .await;
    shot(&sam, "console-queue").await;
    let id: String = sam
        .eval("document.querySelectorAll('[data-testid=claim]')[1].dataset.chatId")
        .await;
    sam.js_click(&format!("[data-testid=claim][data-chat-id='{id}']"))
        .await;
    chatter.wait_visible("[data-testid=system-note]").await;
    chatter
        .type_into("#message", "Hi. I'm not sure where to start.")
        .await;
    chatter.press(Key::Enter).await;
    sam.wait_text(
        &format!("{ACTIVE} [data-testid=chat-log]"),
        "where to start",
    )
    .await;
    sam.type_into(&format!("{ACTIVE} [data-testid=composer]"), "/")
        .await;
    shot(&sam, "console-canned").await;
    sam.press(Key::Enter).await;
    sam.press(Key::Enter).await;
    chatter.wait_text("#log", "somewhere safe").await;
    chatter.type_into("#message", "Yes, he's at work").await;
    sam.wait_visible(&format!("{ACTIVE} [data-testid=chat-typing]"))
        .await;
    shot(&chatter, "chat-active-360").await;
    shot(&sam, "console-chat").await;
    claim_first(&sam).await;
    sam.click(&format!("{ACTIVE} [data-testid=transfer-button]"))
        .await;
    sam.wait_visible("#transfer-dialog").await;
    shot(&sam, "console-transfer").await;

    chatter.set_viewport(1024, 700).await;
    shot(&chatter, "chat-active-1024").await;
    chatter.click("#end-chat").await;
    shot(&chatter, "chat-confirm-end-1024").await;
    chatter.click("#confirm-end-yes").await;
    chatter.wait_visible("#screen-ended").await;
    chatter.set_viewport(360, 740).await;
    shot(&chatter, "chat-ended-360").await;

    let login = chrome.new_context().await;
    login.set_viewport(1024, 700).await;
    login.goto(&app.url("/console")).await;
    login.type_into("#username", "sam").await;
    login.type_into("#password", "nope").await;
    login.click("#login-submit").await;
    login.wait_visible("#login-error").await;
    shot(&login, "console-login-error").await;

    let _advocate = available_advocate(&app, "alex").await;
    let host = SidePages::start_on(host_listener, vec![(
        "/",
        format!("<!doctype html><html lang=\"en\"><head><title>Program</title></head><body><h1>Our program</h1><script src=\"{}\"></script></body></html>", app.url("/embed.js")),
    )])
    .await;
    let widget = chrome.new_context().await;
    widget.set_viewport(1024, 760).await;
    widget.goto(&host.url("/")).await;
    widget.click("#haven-widget-button").await;
    widget.wait_visible("#haven-widget-frame").await;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    shot(&widget, "widget-open").await;

    chrome.close().await;
    app.shutdown.trigger();
}
