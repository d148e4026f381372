//! The chatter's network path really drops (a TCP proxy between the page and Haven closes every
//! connection and refuses new ones): the page shows the banner, keeps what was typed, and when
//! the network is back resumes with the missed messages, each shown once, and delivers the
//! message written while offline exactly once. A connection that stalls without closing is
//! shown to the advocate at once.

use crate::{
    add_advocate, claim_first, common, console_login, go_available,
    harness::{chromium_available, Chrome, CutProxy, Key, StallProxy, Tab},
    ACTIVE,
};

/// Sam's console, available, and a chatter whose page at `chat_url` (through a proxy) started a
/// chat that Sam has claimed.
async fn sam_answers_a_chatter_at(
    chrome: &Chrome,
    app: &common::TestApp,
    chat_url: &str,
) -> (Tab, Tab) {
    let sam = console_login(chrome, app, "sam").await;
    go_available(&sam).await;
    let chatter = chrome.new_context().await;
    chatter.goto(chat_url).await;
    chatter.click("#start").await;
    claim_first(&sam).await;
    (sam, chatter)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connection_shows_banner_and_resumes_with_missed_messages() {
    if !chromium_available() {
        return;
    }
    // The chatter's page is served through the proxy: another origin, allowed like a website
    // that embeds the chat.
    let (proxy_listener, proxy_origin) = CutProxy::listener().await;
    let app = common::spawn_app_with(|c| c.server.allowed_origins = vec![proxy_origin]).await;
    add_advocate(&app, "sam");
    let proxy = CutProxy::start_on(proxy_listener, app.port);
    let chrome = Chrome::launch().await;

    let (sam, chatter) = sam_answers_a_chatter_at(&chrome, &app, &proxy.url("/chat")).await;
    chatter.wait_visible("[data-testid=system-note]").await;
    chatter.type_into("#message", "first message").await;
    chatter.press(Key::Enter).await;
    sam.wait_text(&format!("{ACTIVE} [data-testid=chat-log]"), "first message")
        .await;
    assert!(!chatter.visible("#conn-banner").await);

    // The network goes away.
    proxy.cut();
    chatter.wait_visible("#conn-banner").await;
    sam.wait_text(
        &format!("{ACTIVE} [data-testid=chat-state]"),
        "connection dropped",
    )
    .await;
    assert!(sam
        .text("[data-testid=chat-tab]")
        .await
        .contains("reconnecting"));

    // The chatter writes while offline: kept as "sending"; the advocate writes meanwhile.
    chatter.type_into("#message", "are you still there?").await;
    chatter.press(Key::Enter).await;
    chatter
        .wait("[...document.querySelectorAll('#log [data-from=chatter]')].some(li => li.dataset.state === 'sending' && li.textContent.includes('are you still there?'))", "the offline message to wait as 'sending'")
        .await;
    sam.type_into(
        &format!("{ACTIVE} [data-testid=composer]"),
        "I'm still here, take your time.",
    )
    .await;
    sam.press(Key::Enter).await;
    sam.wait(&format!("[...document.querySelectorAll('{ACTIVE} .msg.mine')].some(li => li.dataset.state === 'sent' && li.textContent.includes('take your time'))"), "the advocate's message stored").await;
    assert!(
        !chatter.text("#log").await.contains("take your time"),
        "the chatter cannot have it yet"
    );

    // The network comes back: automatic resume.
    proxy.restore();
    chatter.wait_hidden("#conn-banner").await;
    chatter
        .wait_text("#log", "I'm still here, take your time.")
        .await;
    chatter
        .wait("[...document.querySelectorAll('#log [data-from=chatter]')].every(li => li.dataset.state === 'sent')", "the offline message delivered")
        .await;
    sam.wait_text(
        &format!("{ACTIVE} [data-testid=chat-log]"),
        "are you still there?",
    )
    .await;
    sam.wait_text(&format!("{ACTIVE} [data-testid=chat-state]"), "back")
        .await;

    // Each line exactly once on both sides, in Haven's order (`seq`): the advocate's line was
    // stored while the chatter was away, before the chatter's offline line was delivered.
    let chatter_lines: Vec<String> = chatter
        .eval("[...document.querySelectorAll('#log [data-testid=message] .text')].map(e => e.textContent)")
        .await;
    assert_eq!(
        chatter_lines,
        [
            "first message",
            "I'm still here, take your time.",
            "are you still there?",
        ],
        "the chatter's transcript after the resume, in seq order"
    );
    let seqs: Vec<u64> = chatter
        .eval("[...document.querySelectorAll('#log [data-testid=message]')].map(e => Number(e.dataset.seq))")
        .await;
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "lines shown in increasing seq: {seqs:?}"
    );
    for line in [
        "first message",
        "are you still there?",
        "I'm still here, take your time.",
    ] {
        assert_eq!(
            chatter_lines.iter().filter(|l| l.as_str() == line).count(),
            1,
            "chatter shows {line:?} once: {chatter_lines:?}"
        );
    }
    let sam_lines: Vec<String> = sam
        .eval(&format!("[...document.querySelectorAll('{ACTIVE} [data-testid=message] .text')].map(e => e.textContent)"))
        .await;
    for line in [
        "first message",
        "are you still there?",
        "I'm still here, take your time.",
    ] {
        assert_eq!(
            sam_lines.iter().filter(|l| l.as_str() == line).count(),
            1,
            "advocate shows {line:?} once: {sam_lines:?}"
        );
    }

    // The conversation goes on after the resume.
    sam.type_into(&format!("{ACTIVE} [data-testid=composer]"), "Welcome back.")
        .await;
    sam.press(Key::Enter).await;
    chatter.wait_text("#log", "Welcome back.").await;

    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_advocate_sees_at_once_that_the_chatter_connection_stalled() {
    if !chromium_available() {
        return;
    }
    // The chatter's page goes through a proxy that can go silent without closing anything, as
    // a phone's connection does when it loses its network.
    let (proxy_listener, proxy_origin) = CutProxy::listener().await;
    let app = common::spawn_app_with(|c| c.server.allowed_origins = vec![proxy_origin]).await;
    add_advocate(&app, "sam");
    let proxy = StallProxy::start_on(proxy_listener, app.port);
    let chrome = Chrome::launch().await;

    let (sam, chatter) = sam_answers_a_chatter_at(&chrome, &app, &proxy.url("/chat")).await;
    sam.type_into(
        &format!("{ACTIVE} [data-testid=composer]"),
        "Hello, I'm Sam.",
    )
    .await;
    sam.press(Key::Enter).await;
    chatter.wait_text("#log", "Hello, I'm Sam.").await;

    proxy.stall();
    sam.type_into(
        &format!("{ACTIVE} [data-testid=composer]"),
        "Are you safe to talk?",
    )
    .await;
    sam.press(Key::Enter).await;
    // Told within about two seconds (`protection.stall_notice_ms`), long before the socket
    // itself would time out; the wait's own limit is generous for a loaded machine.
    sam.wait_text(&format!("{ACTIVE} [data-testid=chat-state]"), "stalled")
        .await;
    let shown: String = sam
        .text(&format!("{ACTIVE} [data-testid=chat-state]"))
        .await;
    assert!(shown.contains("may not be reaching them"), "{shown:?}");
    chrome.close().await;
    app.shutdown.trigger();
}
