//! axe-core (vendored in tests/browser/vendor, injected by the test, never served by Haven)
//! finds no serious or critical violation on the chatter page and the console, in the states
//! people actually see. Also: the Quick exit button stays on screen and uncovered at 320 px.

use crate::{
    add_advocate, claim_first, common, console_login, go_available,
    harness::{chromium_available, Chrome, Key, Tab},
    ACTIVE,
};

fn report(violations: &[String]) {
    assert!(
        violations.is_empty(),
        "accessibility violations:\n{}",
        violations.join("\n")
    );
}

/// The Quick exit button is inside the viewport and is what a tap on its centre hits.
async fn quick_exit_reachable(tab: &Tab, width: i64, state: &str) {
    let ok: bool = tab
        .eval(&format!(
            "(() => {{ const q = document.getElementById('quick-exit'); const r = q.getBoundingClientRect(); \
              const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); \
              return r.width > 0 && r.top >= 0 && r.left >= 0 && r.right <= {width} && r.bottom <= innerHeight && q.contains(hit); }})()"
        ))
        .await;
    assert!(
        ok,
        "Quick exit visible and uncovered at {width} px ({state})"
    );
    let overflow: bool = tab
        .eval(&format!("document.documentElement.scrollWidth > {width}"))
        .await;
    assert!(!overflow, "no sideways scrolling at {width} px ({state})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chatter_page_has_no_serious_accessibility_violations_and_quick_exit_stays_on_screen() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    add_advocate(&app, "sam");
    let chrome = Chrome::launch().await;
    let mut found = Vec::new();

    let tab = chrome.new_context().await;
    tab.set_viewport(320, 640).await;
    tab.goto(&app.url("/chat")).await;
    tab.wait_visible("#start").await;
    // Urgent help comes first.
    let first: String = tab
        .eval("document.querySelector('main section:not([hidden]) > *:not([hidden])').id")
        .await;
    assert_eq!(
        first, "emergency",
        "the emergency line is the first thing on the start screen"
    );
    quick_exit_reachable(&tab, 320, "start").await;
    let _: bool = tab
        .eval("document.querySelector('main').scrollTo(0, 1e6), window.scrollTo(0, 1e6), true")
        .await;
    quick_exit_reachable(&tab, 320, "start, scrolled to the end").await;
    found.extend(tab.axe_serious("chat start 320px").await);

    // Spanish start screen.
    let _: bool = tab
        .eval("(() => { const s = document.getElementById('language'); s.value = 'es'; s.dispatchEvent(new Event('change')); return true; })()")
        .await;
    tab.wait_text("#start", "Iniciar").await;
    quick_exit_reachable(&tab, 320, "Spanish").await;
    found.extend(tab.axe_serious("chat start es").await);
    let _: bool = tab
        .eval("(() => { const s = document.getElementById('language'); s.value = 'en'; s.dispatchEvent(new Event('change')); return true; })()")
        .await;
    tab.wait_text("#start", "Start").await;

    // In a chat, with messages both ways and the end confirmation open.
    let sam = console_login(&chrome, &app, "sam").await;
    go_available(&sam).await;
    tab.click("#start").await;
    tab.wait_visible("#queue-info").await;
    found.extend(tab.axe_serious("chat queued").await);
    claim_first(&sam).await;
    tab.wait_visible("[data-testid=system-note]").await;
    tab.type_into("#message", "hello").await;
    tab.press(Key::Enter).await;
    sam.type_into(&format!("{ACTIVE} [data-testid=composer]"), "Hi, I'm here.")
        .await;
    sam.press(Key::Enter).await;
    tab.wait_text("#log", "Hi, I'm here.").await;
    quick_exit_reachable(&tab, 320, "chatting").await;
    tab.click("#end-chat").await;
    tab.wait_visible("#confirm-end").await;
    found.extend(tab.axe_serious("chat active 320px").await);

    // The console with a chat open, the queue, and the transfer dialog.
    found.extend(sam.axe_serious("console chat").await);
    sam.click(&format!("{ACTIVE} [data-testid=transfer-button]"))
        .await;
    sam.wait_visible("#transfer-dialog").await;
    found.extend(sam.axe_serious("console transfer dialog").await);
    sam.click("#transfer-cancel").await;

    // The end screen, and the connection banner (shown at 320 px with Quick exit uncovered).
    tab.click("#confirm-end-yes").await;
    tab.wait_visible("#screen-ended").await;
    found.extend(tab.axe_serious("chat ended").await);
    let _: bool = tab
        .eval("document.getElementById('conn-banner').hidden = false, true")
        .await;
    quick_exit_reachable(&tab, 320, "with the connection banner").await;

    report(&found);
    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_login_and_offline_screen_have_no_serious_accessibility_violations() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    let chrome = Chrome::launch().await;
    let mut found = Vec::new();

    let console = chrome.new_context().await;
    console.goto(&app.url("/console")).await;
    console.wait_visible("#login-form").await;
    found.extend(console.axe_serious("console login").await);
    console.type_into("#username", "nobody").await;
    console.type_into("#password", "wrong").await;
    console.click("#login-submit").await;
    console.wait_visible("#login-error").await;
    found.extend(console.axe_serious("console login error").await);

    // Nobody is available: the offline screen with the hotline.
    let chatter = chrome.new_context().await;
    chatter.goto(&app.url("/chat")).await;
    chatter.click("#start").await;
    chatter.wait_visible("#screen-offline").await;
    found.extend(chatter.axe_serious("chat offline").await);

    report(&found);
    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chatter_page_works_with_the_keyboard_alone() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    let _advocate = crate::available_advocate(&app, "sam").await;
    let chrome = Chrome::launch().await;
    let tab = chrome.new_context().await;
    tab.goto(&app.url("/chat")).await;
    tab.wait_visible("#start").await;

    // The first stop is Quick exit; Tab then reaches the language switch and the Start button.
    let mut stops = Vec::new();
    for _ in 0..8 {
        tab.press(Key::Tab).await;
        let id: String = tab
            .eval("document.activeElement.id || document.activeElement.tagName")
            .await;
        if id == "start" {
            break;
        }
        stops.push(id);
    }
    assert_eq!(
        stops.first().map(String::as_str),
        Some("quick-exit"),
        "focus order: {stops:?}"
    );
    assert!(
        stops.contains(&"language".to_string()),
        "focus order: {stops:?}"
    );
    assert_eq!(
        tab.eval::<String>("document.activeElement.id").await,
        "start"
    );
    let focus_ring: String = tab
        .eval("getComputedStyle(document.activeElement).outlineStyle")
        .await;
    assert_ne!(focus_ring, "none", "the focused control shows a focus ring");

    // Enter starts the chat and puts the focus in the message box; Enter sends.
    tab.press(Key::Enter).await;
    tab.wait_visible("#queue-info").await;
    tab.wait(
        "document.activeElement.id === 'message'",
        "focus in the message box",
    )
    .await;
    tab.type_text("hello").await;
    tab.press(Key::Enter).await;
    tab.wait(
        "document.querySelector('#log [data-from=chatter]') !== null",
        "the message in the log",
    )
    .await;

    // End chat by keyboard: the button sits above the transcript (the composer stays at the
    // bottom of the screen); back-tab to it, Enter, and the confirmation takes the focus.
    tab.press(Key::Tab).await;
    assert_eq!(
        tab.eval::<String>("document.activeElement.id").await,
        "send"
    );
    let mut stops = Vec::new();
    for _ in 0..6 {
        tab.press(Key::ShiftTab).await;
        let id: String = tab
            .eval("document.activeElement.id || document.activeElement.tagName")
            .await;
        stops.push(id.clone());
        if id == "end-chat" {
            break;
        }
    }
    assert_eq!(
        stops.first().map(String::as_str),
        Some("message"),
        "{stops:?}"
    );
    assert!(
        stops.contains(&"log-scroll".to_string()),
        "the transcript is reachable by keyboard, to scroll it: {stops:?}"
    );
    assert_eq!(
        stops.last().map(String::as_str),
        Some("end-chat"),
        "then End chat: {stops:?}"
    );
    tab.press(Key::Enter).await;
    tab.wait(
        "document.activeElement.id === 'confirm-end-no'",
        "focus on the safe choice",
    )
    .await;
    let _: bool = tab
        .eval("document.getElementById('confirm-end-yes').focus(), true")
        .await;
    tab.press(Key::Enter).await;
    tab.wait_visible("#screen-ended").await;
    tab.wait(
        "document.activeElement.id === 'ended-title'",
        "focus moved to the end screen",
    )
    .await;

    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_chatter_screens_have_no_serious_accessibility_violations() {
    if !chromium_available() {
        return;
    }
    let mut found = Vec::new();
    let chrome = Chrome::launch().await;

    // Closed: the start screen says when chat opens next; Start is on the first screen at
    // 320x640, the details one tap away.
    let app =
        common::spawn_app_with(|c| c.service_hours.windows = vec!["mon 00:00-00:01".into()]).await;
    let tab = chrome.new_context().await;
    tab.set_viewport(320, 640).await;
    tab.goto(&app.url("/chat")).await;
    tab.wait_text("#duty", "Next opening").await;
    let start_bottom: f64 = tab
        .eval("document.getElementById('start').getBoundingClientRect().bottom")
        .await;
    assert!(
        start_bottom <= 640.0,
        "Start is on the first screen at 320x640 (bottom at {start_bottom})"
    );
    let links: Vec<String> = tab
        .eval("[...document.querySelectorAll('main a[href^=\"tel:\"], main a[href^=\"sms:\"]')].map(a => a.getAttribute('href'))")
        .await;
    for href in ["tel:911", "tel:18007997233", "sms:88788?&body=START"] {
        assert!(
            links.iter().any(|l| l == href),
            "{href} is a link: {links:?}"
        );
    }
    found.extend(tab.axe_serious("start, closed").await);
    tab.click("#start-details summary").await;
    tab.wait_visible("#mandated-reporting").await;
    found.extend(tab.axe_serious("start, details open").await);
    app.shutdown.trigger();

    // The resume screen, and the new-messages pill in a chat.
    let app = common::spawn_app_with(|c| {
        c.chatter_page.forget_on_pagehide = false;
        c.limits.rate_burst = 1000;
        c.limits.rate_per_sec = 1000;
    })
    .await;
    let mut advocate = crate::available_advocate(&app, "sam").await;
    let tab = chrome.new_context().await;
    tab.set_viewport(320, 640).await;
    tab.goto(&app.url("/chat")).await;
    tab.wait_text("#duty", "online now").await;
    tab.click("#start").await;
    tab.wait_visible("#queue-info").await;
    let chat_id = crate::claim_waiting(&mut advocate).await;
    for i in 0..30 {
        common::send(
            &mut advocate,
            serde_json::json!({"type": "message", "chat_id": chat_id, "id": format!("a-{i}"), "text": format!("line {i}")}),
        )
        .await;
    }
    tab.wait_text("#log", "line 29").await;
    let _: f64 = tab
        .eval("document.getElementById('log-scroll').scrollTop = 0")
        .await;
    common::send(
        &mut advocate,
        serde_json::json!({"type": "message", "chat_id": chat_id, "id": "a-x", "text": "one more"}),
    )
    .await;
    tab.wait_visible("#new-messages").await;
    found.extend(tab.axe_serious("chat with the new-messages pill").await);
    tab.goto(&app.url("/healthz")).await;
    tab.back().await;
    tab.wait_visible("#screen-resume").await;
    quick_exit_reachable(&tab, 320, "resume").await;
    found.extend(tab.axe_serious("resume screen").await);

    report(&found);
    chrome.close().await;
    app.shutdown.trigger();
}
