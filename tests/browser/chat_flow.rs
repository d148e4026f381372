//! A whole chat through the real pages: a chatter and two advocates in three isolated browser
//! contexts. Queue, claim, messages both ways with delivery state, typing indicators, a canned
//! response, a transfer with an internal note, and the end.

use crate::{
    add_advocate, chatter_start, claim_first, common, console_login, go_available,
    harness::{chromium_available, js_str, Chrome, Key},
    ACTIVE,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chatter_and_advocates_queue_claim_talk_transfer_and_end() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    let sam = add_advocate(&app, "sam");
    let alex = add_advocate(&app, "alex");
    let chrome = Chrome::launch().await;

    let sam_tab = console_login(&chrome, &app, "sam").await;
    go_available(&sam_tab).await;
    let alex_tab = console_login(&chrome, &app, "alex").await;
    go_available(&alex_tab).await;

    // The chatter queues and sees their place in line.
    let chatter = chatter_start(&chrome, &app.url("/chat")).await;
    chatter.wait_text("#queue-position", "1").await;
    assert!(chatter.visible("#queue-estimate").await);

    // Sam sees the waiting chatter (with waiting time) and claims with one click.
    sam_tab.wait_visible("[data-testid=queue-entry]").await;
    assert!(sam_tab
        .text("[data-testid=queue-entry]")
        .await
        .contains("General support"));
    claim_first(&sam_tab).await;
    sam_tab.wait_hidden("[data-testid=queue-entry]").await;
    alex_tab.wait_hidden("[data-testid=queue-entry]").await;

    chatter.wait_text("#chat-title", &sam).await;
    chatter.wait_hidden("#queue-info").await;
    chatter
        .wait_text(
            "[data-testid=system-note]",
            &format!("{sam} joined the chat"),
        )
        .await;

    // Chatter -> advocate, with delivery state.
    chatter
        .type_into("#message", "Hello, I need some help")
        .await;
    // While the chatter types, the advocate sees the indicator (never the text).
    sam_tab
        .wait_visible(&format!("{ACTIVE} [data-testid=chat-typing]"))
        .await;
    let sam_panel_text = sam_tab.text(ACTIVE).await;
    assert!(
        !sam_panel_text.contains("Hello, I need"),
        "the draft must not reach the advocate before it is sent"
    );
    chatter.press(Key::Enter).await;
    chatter
        .wait("[...document.querySelectorAll('#log [data-from=chatter]')].some(li => li.dataset.state === 'sent' && li.textContent.includes('Hello, I need some help'))", "the chatter's message to be acknowledged")
        .await;
    assert_eq!(
        chatter.text("#message").await,
        "",
        "composer cleared after sending"
    );
    sam_tab
        .wait_text(
            &format!("{ACTIVE} [data-testid=chat-log]"),
            "Hello, I need some help",
        )
        .await;
    sam_tab
        .wait_hidden(&format!("{ACTIVE} [data-testid=chat-typing]"))
        .await;

    // Advocate -> chatter: typing indicator first, then the message.
    let composer = format!("{ACTIVE} [data-testid=composer]");
    sam_tab.type_into(&composer, "I'm here to listen.").await;
    chatter.wait_visible("#typing").await;
    assert!(chatter.text("#typing").await.contains(&sam));
    sam_tab.press(Key::Enter).await;
    chatter.wait_text("#log", "I'm here to listen.").await;
    chatter.wait_hidden("#typing").await;
    let from: Vec<String> = chatter
        .eval("[...document.querySelectorAll('#log [data-from=advocate] .who')].map(e => e.textContent)")
        .await;
    assert_eq!(
        from,
        vec![sam.clone()],
        "the advocate's display name is shown as sender"
    );
    sam_tab
        .wait(
            &format!(
                "[...document.querySelectorAll({})].some(li => li.dataset.state === 'sent')",
                js_str(&format!("{ACTIVE} .msg.mine"))
            ),
            "the advocate's message acknowledged",
        )
        .await;

    // A canned response through the `/` shortcut.
    sam_tab.type_into(&composer, "/safe").await;
    sam_tab
        .wait_visible(&format!("{ACTIVE} [data-testid=canned-list]"))
        .await;
    sam_tab
        .wait_text(
            &format!("{ACTIVE} [data-testid=canned-list]"),
            "Safety check",
        )
        .await;
    sam_tab.press(Key::Enter).await;
    let inserted: String = sam_tab
        .eval(&format!(
            "document.querySelector({}).value",
            js_str(&composer)
        ))
        .await;
    assert!(
        inserted.starts_with("Are you somewhere safe to chat?"),
        "the canned safety check is inserted, got {inserted:?}"
    );
    sam_tab.press(Key::Enter).await;
    chatter
        .wait_text("#log", "Are you somewhere safe to chat?")
        .await;

    // Transfer to Alex with an internal note.
    let note = "Asked about shelter nearby; prefers Spanish later";
    sam_tab
        .click(&format!("{ACTIVE} [data-testid=transfer-button]"))
        .await;
    sam_tab.wait_visible("#transfer-dialog").await;
    sam_tab
        .wait(&format!("[...document.getElementById('transfer-target').options].some(o => o.textContent.includes({}) && !o.disabled)", js_str(&alex)), "Alex as an available transfer target")
        .await;
    let _: bool = sam_tab
        .eval(&format!("(() => {{ const s = document.getElementById('transfer-target'); s.value = [...s.options].find(o => o.textContent.includes({})).value; return true; }})()", js_str(&alex)))
        .await;
    sam_tab.type_into("#transfer-note", note).await;
    sam_tab.click("#transfer-confirm").await;
    sam_tab
        .wait_text(&format!("{ACTIVE} [data-testid=chat-state]"), "transferred")
        .await;
    assert!(
        sam_tab
            .visible(&format!("{ACTIVE} [data-testid=close-tab]"))
            .await,
        "a transferred chat can be closed"
    );

    alex_tab.wait_visible("[data-testid=chat-tab]").await;
    alex_tab
        .wait_text(&format!("{ACTIVE} [data-testid=transfer-note]"), note)
        .await;
    assert!(alex_tab
        .text(&format!("{ACTIVE} [data-testid=transfer-note]"))
        .await
        .contains(&sam));
    alex_tab
        .wait_text(
            &format!("{ACTIVE} [data-testid=chat-log]"),
            "Hello, I need some help",
        )
        .await;

    chatter
        .wait_text("#log", &format!("{alex} joined the chat"))
        .await;
    chatter.wait_text("#chat-title", &alex).await;
    assert!(
        !chatter.text("body").await.contains("shelter nearby"),
        "the internal note never reaches the chatter"
    );

    // Alex writes; the chatter answers; Alex sees an unread count while on another tab? (one tab:
    // the message lands in the open panel).
    alex_tab
        .type_into(&format!("{ACTIVE} [data-testid=composer]"), "Hi, I'm Alex.")
        .await;
    alex_tab.press(Key::Enter).await;
    chatter.wait_text("#log", "Hi, I'm Alex.").await;
    chatter.type_into("#message", "Thank you").await;
    chatter.click("#send").await;
    alex_tab
        .wait_text(&format!("{ACTIVE} [data-testid=chat-log]"), "Thank you")
        .await;

    // Alex ends the chat (with confirmation); the chatter gets the end screen.
    alex_tab
        .click(&format!("{ACTIVE} [data-testid=end-button]"))
        .await;
    alex_tab.wait_visible("#end-dialog").await;
    alex_tab.click("#end-confirm").await;
    alex_tab
        .wait_text(
            &format!("{ACTIVE} [data-testid=chat-state]"),
            "You ended this chat",
        )
        .await;
    chatter.wait_visible("#screen-ended").await;
    chatter.wait_text("#ended-reason", "advocate ended").await;
    assert!(chatter.text("#clear-history").await.contains("history"));
    let token_gone: bool = chatter
        .eval("sessionStorage.getItem('haven_token') === null && sessionStorage.length === 0")
        .await;
    assert!(token_gone, "the resume token is removed when the chat ends");

    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chatter_ends_the_chat_after_confirming_and_sees_how_to_clear_history() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    add_advocate(&app, "sam");
    let chrome = Chrome::launch().await;
    let sam_tab = console_login(&chrome, &app, "sam").await;
    go_available(&sam_tab).await;
    let chatter = chatter_start(&chrome, &app.url("/")).await;
    claim_first(&sam_tab).await;
    chatter.wait_visible("[data-testid=system-note]").await;
    assert!(
        chatter
            .eval::<bool>("sessionStorage.getItem('haven_token') !== null")
            .await
    );

    // Cancelling keeps the chat.
    chatter.click("#end-chat").await;
    chatter.wait_visible("#confirm-end").await;
    chatter.click("#confirm-end-no").await;
    chatter.wait_hidden("#confirm-end").await;
    assert!(chatter.visible("#screen-chat").await);

    chatter.click("#end-chat").await;
    chatter.click("#confirm-end-yes").await;
    chatter.wait_visible("#screen-ended").await;
    chatter
        .wait_text("#ended-reason", "You ended the chat")
        .await;
    assert!(chatter.visible("#clear-history").await);
    assert!(chatter.eval::<bool>("sessionStorage.length === 0").await);

    sam_tab
        .wait_text(
            &format!("{ACTIVE} [data-testid=chat-state]"),
            "left the chat",
        )
        .await;
    assert!(
        sam_tab
            .eval::<bool>(&format!(
                "document.querySelector({}).readOnly",
                js_str(&format!("{ACTIVE} [data-testid=composer]"))
            ))
            .await,
        "the composer closes with the chat"
    );

    chrome.close().await;
    app.shutdown.trigger();
}
