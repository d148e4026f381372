//! The embeddable widget on a program's website (served here from a second local port): one
//! <script> tag adds the button, the button opens the chat page in an iframe panel, and Quick
//! exit inside the iframe leaves the whole host page.

use serde_json::Value;

use crate::{
    available_advocate,
    common::{self, next_of_type},
    harness::{chromium_available, exit_site, js_str, Chrome, SidePages, Tab},
};

/// Wait until the widget's panel shows the chat page (its Start button rendered).
async fn wait_for_chat_page_in_panel(tab: &Tab, chat_prefix: &str) {
    tab.wait_in_frame(
        chat_prefix,
        "document.getElementById('start').getClientRects().length > 0",
        "the chat page in the panel",
    )
    .await;
}

/// Skip the advocate's queue snapshots until one holds `n` entries.
async fn wait_for_queue_of_len(advocate: &mut common::Ws, n: usize) {
    loop {
        let queue = next_of_type(advocate, "queue").await;
        if queue["entries"].as_array().is_some_and(|e| e.len() == n) {
            break;
        }
    }
}

/// Click the element matched by `selector` inside the widget's iframe with a real mouse click.
async fn click_in_widget(host: &Tab, chat_prefix: &str, selector: &str) {
    let sel = crate::harness::js_str(selector);
    host.wait_in_frame(
        chat_prefix,
        &format!("(() => {{ const e = document.querySelector({sel}); return e && e.getClientRects().length > 0; }})()"),
        &format!("{selector} in the widget"),
    )
    .await;
    let inner = host
        .eval_in_frame(
            chat_prefix,
            &format!("(() => {{ const e = document.querySelector({sel}); e.scrollIntoView({{ block: 'center' }}); const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; }})()"),
        )
        .await
        .expect("element box in the frame");
    let frame: (f64, f64) = host
        .eval("(() => { const r = document.getElementById('haven-widget-frame').getBoundingClientRect(); return [r.left, r.top]; })()")
        .await;
    let (x, y) = (
        frame.0 + inner[0].as_f64().unwrap(),
        frame.1 + inner[1].as_f64().unwrap(),
    );
    host.mouse_click(x, y).await;
}

struct Site {
    app: common::TestApp,
    exit: SidePages,
    host: SidePages,
}

/// Haven, the neutral exit site, and the program's website (on its own port, allowed to frame
/// the chat page) with the widget's one tag.
async fn site() -> Site {
    let exit = exit_site().await;
    let host_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host_port = host_listener.local_addr().unwrap().port();
    let host_origin = format!("http://127.0.0.1:{host_port}");
    let (configured_exit, ancestors) = (exit.url("/weather"), host_origin.clone());
    let app = common::spawn_app_with(move |c| {
        c.program.quick_exit_url = configured_exit;
        c.server.frame_ancestors = vec![ancestors];
    })
    .await;
    let host_page = format!(
        "<!doctype html><html lang=\"en\"><head><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Program website</title></head><body>\
         <h1>Our program</h1><p>We are here for you.</p>\
         <script src=\"{}\" data-label=\"Talk to us\" data-color=\"#5b2a86\" data-position=\"left\"></script>\
         </body></html>",
        app.url("/embed.js")
    );
    let host = SidePages::start_on(host_listener, vec![("/", host_page)]).await;
    assert_eq!(host.origin(), host_origin);
    Site { app, exit, host }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn widget_opens_the_chat_in_a_panel_and_quick_exit_leaves_the_host_page() {
    if !chromium_available() {
        return;
    }
    let Site { app, exit, host } = site().await;
    let exit_url = exit.url("/weather");
    let mut advocate = available_advocate(&app, "sam").await;
    let chrome = Chrome::launch().await;
    let tab = chrome.new_context().await;
    tab.goto(&exit.url("/before")).await;
    tab.goto(&host.url("/")).await;

    // The button, as configured by the data attributes.
    tab.wait_visible("#haven-widget-button").await;
    let button: Value = tab
        .eval("(() => { const b = document.getElementById('haven-widget-button'); const r = b.getBoundingClientRect(); return { text: b.textContent, bg: getComputedStyle(b).backgroundColor, left: r.left, expanded: b.getAttribute('aria-expanded') }; })()")
        .await;
    assert_eq!(button["text"], "Talk to us");
    assert_eq!(button["bg"], "rgb(91, 42, 134)");
    assert!(
        button["left"].as_f64().unwrap() < 100.0,
        "data-position=left: {button}"
    );
    assert_eq!(button["expanded"], "false");
    assert_eq!(
        tab.count("iframe").await,
        0,
        "nothing loads from Haven before the click"
    );

    tab.click("#haven-widget-button").await;
    tab.wait_visible("#haven-widget-frame").await;
    let src: String = tab
        .eval("document.getElementById('haven-widget-frame').src")
        .await;
    assert_eq!(
        src,
        app.url("/chat"),
        "the panel shows Haven's chat page, with nothing from the host in the URL"
    );
    let chat_prefix = app.url("/chat");
    wait_for_chat_page_in_panel(&tab, &chat_prefix).await;
    let referrer = tab
        .eval_in_frame(&chat_prefix, "document.referrer")
        .await
        .unwrap();
    assert_eq!(
        referrer, "",
        "the host page's address is not passed to Haven"
    );

    // Start a chat inside the panel.
    click_in_widget(&tab, &chat_prefix, "#start").await;
    tab.wait_in_frame(
        &chat_prefix,
        "!document.getElementById('queue-info').hidden",
        "the chatter queued in the panel",
    )
    .await;
    wait_for_queue_of_len(&mut advocate, 1).await;

    // Quick exit inside the iframe leaves the host page, without a way back to it.
    click_in_widget(&tab, &chat_prefix, "#quick-exit").await;
    tab.wait_url(&exit_url).await;
    tab.wait("document.title === 'Weather'", "the neutral page")
        .await;
    tab.back().await;
    tab.wait_url(&exit.url("/before")).await;

    // The chat's socket was closed: the chatter left the queue.
    wait_for_queue_of_len(&mut advocate, 0).await;

    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_page_leaves_on_the_chat_pages_message_and_ignores_anyone_elses() {
    if !chromium_available() {
        return;
    }
    let Site { app, exit, host } = site().await;
    let chrome = Chrome::launch().await;
    let tab = chrome.new_context().await;
    tab.goto(&host.url("/")).await;
    tab.click("#haven-widget-button").await;
    let chat_prefix = app.url("/chat");
    wait_for_chat_page_in_panel(&tab, &chat_prefix).await;

    // The host page itself (or any other origin) cannot trigger the exit.
    let _: bool = tab
        .eval(&format!(
            "window.postMessage({{ type: 'haven:quick-exit', url: {} }}, '*'), true",
            js_str(&exit.url("/weather"))
        ))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        tab.url().await,
        host.url("/"),
        "a message from the host's own origin is ignored"
    );

    // The chat page's message alone (no click, so no user activation for a top navigation
    // from the iframe) makes embed.js leave the host page.
    tab.eval_in_frame(
        &chat_prefix,
        &format!(
            "window.parent.postMessage({{ type: 'haven:quick-exit', url: {} }}, '*'), true",
            js_str(&exit.url("/weather"))
        ),
    )
    .await
    .unwrap();
    tab.wait_url(&exit.url("/weather")).await;

    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_widget_fills_the_screen_counts_unread_lines_and_exits_from_the_host_page() {
    if !chromium_available() {
        return;
    }
    let Site { app, exit, host } = site().await;
    let exit_url = exit.url("/weather");
    let mut advocate = available_advocate(&app, "sam").await;
    let chrome = Chrome::launch().await;
    let tab = chrome.new_context().await;
    tab.set_viewport(390, 844).await;
    tab.goto(&exit.url("/before")).await;
    tab.goto(&host.url("/")).await;
    tab.click("#haven-widget-button").await;
    let chat_prefix = app.url("/chat");
    wait_for_chat_page_in_panel(&tab, &chat_prefix).await;

    // Full screen, and the launcher is not showing underneath.
    let panel: Value = tab
        .eval("(() => { const r = document.getElementById('haven-widget-panel').getBoundingClientRect(); \
               return { l: r.left, t: r.top, w: r.width, h: r.height, iw: innerWidth, ih: innerHeight, \
                        launcher: document.getElementById('haven-widget-button').getClientRects().length }; })()")
        .await;
    assert_eq!(panel["l"], 0.0, "{panel}");
    assert_eq!(panel["t"], 0.0, "{panel}");
    assert_eq!(panel["w"], panel["iw"], "{panel}");
    assert_eq!(panel["h"], panel["ih"], "{panel}");
    assert_eq!(panel["launcher"], 0, "{panel}");

    // A chat, claimed; then the chatter minimises the panel.
    click_in_widget(&tab, &chat_prefix, "#start").await;
    let chat_id = crate::claim_waiting(&mut advocate).await;
    tab.wait_in_frame(
        &chat_prefix,
        "document.querySelector('[data-testid=system-note]') !== null",
        "the advocate joined",
    )
    .await;
    tab.click("#haven-widget-close").await;
    tab.wait_visible("#haven-widget-button").await;
    assert!(
        tab.visible("#haven-widget-exit").await,
        "Quick exit is offered while minimised"
    );
    assert_eq!(tab.text("#haven-widget-exit").await, "Quick exit");
    assert_eq!(
        tab.eval::<String>("document.getElementById('haven-widget-exit').href")
            .await,
        exit_url,
        "the minimised Quick exit is a real link to the neutral site the chat page named"
    );
    let title: String = tab.eval("document.title").await;
    assert_eq!(title, "Program website");

    // The advocate writes twice: a count on the button and in the title, never the text.
    for (i, text) in ["secret line one", "secret line two"].iter().enumerate() {
        common::send(
            &mut advocate,
            serde_json::json!({"type": "message", "chat_id": chat_id, "id": format!("a-{i}"), "text": text}),
        )
        .await;
    }
    tab.wait(
        "document.getElementById('haven-widget-unread').textContent === '2'",
        "two unread on the launcher",
    )
    .await;
    let (title, button): (String, String) = tab
        .eval("[document.title, document.getElementById('haven-widget-button').textContent]")
        .await;
    assert_eq!(title, "(2) Program website");
    assert!(!title.contains("secret") && !button.contains("secret"));

    // Opening the panel again clears the count.
    tab.click("#haven-widget-button").await;
    tab.wait(
        "document.title === 'Program website' && document.getElementById('haven-widget-unread').textContent === ''",
        "the count cleared",
    )
    .await;
    tab.click("#haven-widget-close").await;
    tab.wait_visible("#haven-widget-button").await;

    // Shift three times on the host page: the chat ends as a quick exit and the page is left.
    let _: bool = tab.eval("document.body.focus(), true").await;
    for _ in 0..3 {
        tab.press(crate::harness::Key::Shift).await;
    }
    tab.wait_url(&exit_url).await;
    let left = next_of_type(&mut advocate, "chatter_left").await;
    assert_eq!(left["reason"], "quick_exit", "{left}");

    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_minimised_widgets_quick_exit_leaves_the_host_page() {
    if !chromium_available() {
        return;
    }
    let Site { app, exit, host } = site().await;
    let chrome = Chrome::launch().await;
    let tab = chrome.new_context().await;
    tab.goto(&host.url("/")).await;
    tab.click("#haven-widget-button").await;
    let chat_prefix = app.url("/chat");
    wait_for_chat_page_in_panel(&tab, &chat_prefix).await;
    tab.click("#haven-widget-close").await;
    tab.click("#haven-widget-exit").await;
    tab.wait_url(&exit.url("/weather")).await;
    chrome.close().await;
    app.shutdown.trigger();
}
