//! The advocate console on its own: login errors, a lost claim race, several chats as tabs with
//! unread counts, the session ending without losing drafts, the title badge, the supervisor's
//! board, and logout.

use chromiumoxide::cdp::browser_protocol::network::GetCookiesParams;
use serde_json::json;

use crate::{
    add_advocate, common, console_login, console_login_with, go_available,
    harness::{chromium_available, js_str, Chrome, CutProxy, Key},
    ACTIVE, PASSWORD,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_shows_a_clear_error_and_the_right_one_signs_in() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    add_advocate(&app, "sam");
    let chrome = Chrome::launch().await;
    let tab = chrome.new_context().await;
    tab.goto(&app.url("/console")).await;
    tab.wait_visible("#login-form").await;

    // Empty form: said so, nothing sent.
    tab.click("#login-submit").await;
    tab.wait_text("#login-error", "Enter your user name and password")
        .await;

    tab.type_into("#username", "sam").await;
    tab.type_into("#password", "not the password").await;
    tab.click("#login-submit").await;
    tab.wait_text("#login-error", "Wrong user name or password.")
        .await;
    assert_eq!(
        tab.eval::<String>("document.getElementById('login-error').getAttribute('role')")
            .await,
        "alert",
        "screen readers hear the error"
    );
    assert!(tab.visible("#login-form").await);
    assert!(!tab.visible("#app-view").await);

    let _: bool = tab
        .eval("document.getElementById('password').value = '', true")
        .await;
    tab.type_into("#password", PASSWORD).await;
    tab.press(Key::Enter).await;
    tab.wait_visible("#app-view").await;
    tab.wait_text("#me-name", "Advocate Sam").await;
    tab.wait_text("#load", "0 of 3").await;
    assert!(!tab.visible("#login-error").await);
    assert!(
        !tab.visible("[data-testid=overview]").await,
        "advocates do not see the overview"
    );

    // Logout brings back the login form and ends the session.
    tab.click("#logout").await;
    tab.wait_visible("#login-form").await;
    let status = reqwest::Client::new()
        .get(app.url("/api/staff/me"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
    let _ = tab.page.reload().await;
    tab.wait_visible("#login-form").await;

    chrome.close().await;
    app.shutdown.trigger();
}

/// Test instrumentation injected before the console's scripts: while `__holdQueue` is true the
/// page does not see `queue` snapshots, so an entry stays on screen after another advocate took
/// it, exactly as when two advocates click at the same moment. It also counts alert tones.
const HOLD_QUEUE: &str = r#"
(() => {
  const Native = window.WebSocket;
  window.__holdQueue = false;
  window.WebSocket = class extends Native {
    set onmessage(handler) {
      super.onmessage = (event) => {
        if (window.__holdQueue) {
          try { if (JSON.parse(event.data).type === 'queue') return; } catch (_) {}
        }
        return handler && handler(event);
      };
    }
    get onmessage() { return super.onmessage; }
  };
  // Count the console's alert tones.
  window.__beeps = 0;
  const oscillator = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    window.__beeps += 1;
    return oscillator.call(this);
  };
})();
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tabs_unread_counts_lost_claim_and_session_expiry_keep_drafts() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    add_advocate(&app, "sam");
    app.add_staff("sue", "Supervisor Sue", haven::Role::Supervisor, PASSWORD);
    let chrome = Chrome::launch().await;
    let sam = console_login_with(&chrome, &app, "sam", Some(HOLD_QUEUE)).await;
    go_available(&sam).await;

    // Three chatters on plain WebSocket clients.
    let mut first = app.chatter().await;
    common::send(
        &mut first,
        json!({"type": "hello", "language": "es", "intake": {"age_range": "25-34"}}),
    )
    .await;
    common::next_of_type(&mut first, "queued").await;
    let mut second = app.chatter().await;
    common::send(&mut second, json!({"type": "hello", "language": "en"})).await;
    common::next_of_type(&mut second, "queued").await;
    let mut third = app.chatter().await;
    common::send(&mut third, json!({"type": "hello", "language": "en"})).await;
    common::next_of_type(&mut third, "queued").await;

    sam.wait(
        "document.querySelectorAll('[data-testid=queue-entry]').length === 3",
        "three waiting chatters",
    )
    .await;
    sam.wait_text("#queue-count", "3").await;
    let entry = sam.text("[data-testid=queue-entry]").await;
    assert!(
        entry.contains("es") && entry.contains("25-34"),
        "language and intake shown: {entry}"
    );
    assert!(entry.contains("waiting"), "waiting time shown: {entry}");

    // A claim that loses the race says so.
    let mut rival = app.advocate("rival").await;
    common::send(&mut rival, json!({"type": "status", "available": true})).await;
    let queue = loop {
        let q = common::next_of_type(&mut rival, "queue").await;
        if q["entries"].as_array().is_some_and(|e| e.len() == 3) {
            break q;
        }
    };
    let first_id = queue["entries"][0]["chat_id"].as_str().unwrap().to_string();
    let _: bool = sam.eval("window.__holdQueue = true").await;
    common::send(&mut rival, json!({"type": "claim", "chat_id": first_id})).await;
    common::next_of_type(&mut rival, "assigned").await;
    common::next_of_type(&mut first, "joined").await;
    sam.click(&format!(
        "[data-testid=claim][data-chat-id={}]",
        js_str(&first_id)
    ))
    .await;
    sam.wait_text("#queue-notice", "Another advocate took this chat.")
        .await;
    assert_eq!(sam.count("[data-testid=chat-tab]").await, 0);
    let _: bool = sam.eval("(window.__holdQueue = false, true)").await;

    // Sam takes the other two: two tabs.
    for (n, chatter) in [(1usize, &mut second), (2, &mut third)] {
        let id = queue["entries"][n]["chat_id"].as_str().unwrap();
        sam.js_click(&format!("[data-testid=claim][data-chat-id={}]", js_str(id)))
            .await;
        common::next_of_type(chatter, "joined").await;
        sam.wait(
            &format!("document.querySelectorAll('[data-testid=chat-tab]').length === {n}"),
            "the claimed chat's tab",
        )
        .await;
    }
    sam.wait_hidden("[data-testid=queue-notice]").await;
    sam.wait_text("#load", "2 of 3").await;
    assert_eq!(sam.count("[data-testid=chat-tab]").await, 2);

    // The chatter of the tab not shown writes: an unread count on that tab.
    let shown: String = sam
        .eval("document.querySelector('[role=tab][aria-selected=true]').textContent")
        .await;
    let (quiet, quiet_tab, quiet_id) = if shown.starts_with("Chat 2") {
        (
            &mut second,
            1,
            queue["entries"][1]["chat_id"].as_str().unwrap(),
        )
    } else {
        (
            &mut third,
            2,
            queue["entries"][2]["chat_id"].as_str().unwrap(),
        )
    };
    common::send(
        quiet,
        json!({"type": "message", "id": "c-1", "text": "are you there?"}),
    )
    .await;
    let badge = format!("[data-testid=chat-tab]:nth-child({quiet_tab}) [data-testid=unread]");
    sam.wait_text(&badge, "1").await;
    sam.click(&format!("[data-testid=chat-tab]:nth-child({quiet_tab})"))
        .await;
    sam.wait_hidden(&badge).await;
    sam.wait_text(
        &format!("{ACTIVE} [data-testid=chat-log]"),
        "are you there?",
    )
    .await;
    // Its chatter types: the indicator shows in that chat.
    common::send(quiet, json!({"type": "typing", "on": true})).await;
    sam.wait_visible(&format!("{ACTIVE} [data-testid=chat-typing]"))
        .await;
    common::send(quiet, json!({"type": "typing", "on": false})).await;
    sam.wait_hidden(&format!("{ACTIVE} [data-testid=chat-typing]"))
        .await;

    // In the background, a new message badges the title.
    let _: bool = sam
        .eval("(Object.defineProperty(document, 'hidden', { configurable: true, get: () => true }), true)")
        .await;
    common::send(
        quiet,
        json!({"type": "message", "id": "c-2", "text": "hello?"}),
    )
    .await;
    sam.wait("document.title === '(1) Haven console'", "the title badge")
        .await;
    sam.wait("window.__beeps === 1", "one alert tone").await;
    // Muted: the badge still counts, no tone.
    let _: bool = sam
        .eval("document.getElementById('sound').click(), true")
        .await;
    common::send(
        quiet,
        json!({"type": "message", "id": "c-3", "text": "still there?"}),
    )
    .await;
    sam.wait(
        "document.title === '(2) Haven console'",
        "the title badge counting",
    )
    .await;
    assert_eq!(sam.eval::<i64>("window.__beeps").await, 1, "muted: no tone");
    let _: bool = sam
        .eval(
            "(delete document.hidden, document.dispatchEvent(new Event('visibilitychange')), true)",
        )
        .await;
    sam.wait("document.title === 'Haven console'", "the badge cleared")
        .await;

    // A draft in progress survives the session ending.
    let composer = format!("{ACTIVE} [data-testid=composer]");
    sam.type_into(&composer, "Draft I have not sent yet").await;
    let cookie = sam
        .page
        .execute(
            GetCookiesParams::builder()
                .urls(vec![app.url("/console")])
                .build(),
        )
        .await
        .unwrap()
        .result
        .cookies
        .into_iter()
        .find(|c| c.name == "haven_session")
        .expect("the console's session cookie");
    assert!(cookie.http_only, "the session cookie is HttpOnly");
    let logout = reqwest::Client::new()
        .post(app.url("/api/staff/logout"))
        .header("origin", app.url(""))
        .header("cookie", format!("haven_session={}", cookie.value))
        .send()
        .await
        .unwrap();
    assert!(logout.status().is_success());
    sam.wait_visible("#login-form").await;
    assert!(sam.visible("[data-testid=login-expired]").await);
    assert_eq!(
        sam.eval::<String>("document.getElementById('username').value")
            .await,
        "sam"
    );
    sam.type_into("#password", PASSWORD).await;
    sam.press(Key::Enter).await;
    sam.wait_visible("#app-view").await;
    assert_eq!(
        sam.count("[data-testid=chat-tab]").await,
        2,
        "the chats are still there"
    );
    let draft: String = sam
        .eval(&format!(
            "document.querySelector({}).value",
            js_str(&composer)
        ))
        .await;
    assert_eq!(draft, "Draft I have not sent yet");
    // Haven gave the chats back to the queue when the session ended: the console says so, and
    // taking the chat again reopens it with the draft, ready to send.
    sam.wait_text(
        &format!("{ACTIVE} [data-testid=chat-state]"),
        "no longer assigned to you",
    )
    .await;
    go_available(&sam).await;
    sam.js_click(&format!(
        "[data-testid=claim][data-chat-id={}]",
        js_str(quiet_id)
    ))
    .await;
    sam.wait(
        &format!("!document.querySelector({}).readOnly", js_str(&composer)),
        "the chat reopened",
    )
    .await;
    assert_eq!(
        sam.count("[data-testid=chat-tab]").await,
        2,
        "the same tab, not a new one"
    );
    sam.click(&composer).await;
    sam.press(Key::Enter).await;
    sam.wait(&format!("[...document.querySelectorAll('{ACTIVE} .msg.mine')].some(li => li.dataset.state === 'sent' && li.textContent.includes('Draft I have not'))"), "the draft delivered after signing in again").await;
    let line = crate::next_message_with(quiet, "Draft I have not sent yet").await;
    assert_eq!(line["from"], "advocate");

    // A supervisor sees every active chat and the queue lengths, read-only.
    let sue = console_login(&chrome, &app, "sue").await;
    sue.wait_visible("[data-testid=overview]").await;
    sue.wait(
        "document.querySelectorAll('[data-testid=overview-chats] tr').length === 2",
        "two active chats in the overview",
    )
    .await;
    let overview = sue.text("[data-testid=overview]").await;
    assert!(
        overview.contains("Advocate Sam") && overview.contains("Advocate rival"),
        "{overview}"
    );
    assert!(
        overview.contains("General support: 1 waiting"),
        "{overview}"
    );
    assert_eq!(
        sue.count("[data-testid=board-end]").await,
        2,
        "the supervisor can end each active chat"
    );
    assert_eq!(sue.count("[data-testid=board-reassign]").await, 2);
    let board = sue.text("[data-testid=board-advocates]").await;
    assert!(
        board.contains("Advocate Sam") && board.contains("Advocate rival"),
        "{board}"
    );

    // Sam hands the chat to the member organization's queue with a note.
    sam.click(&format!("{ACTIVE} [data-testid=transfer-button]"))
        .await;
    sam.wait_visible("#transfer-dialog").await;
    let _: bool = sam
        .eval("(() => { const s = document.getElementById('transfer-target'); s.value = 'q:referrals'; return s.value === 'q:referrals'; })()")
        .await;
    sam.type_into("#transfer-note", "Lives in the north county")
        .await;
    sam.click("#transfer-confirm").await;
    sam.wait_text(&format!("{ACTIVE} [data-testid=chat-state]"), "transferred")
        .await;
    let queued = common::next_of_type(quiet, "queued").await;
    assert_eq!(queued["queue"], "referrals");
    sue.wait_text(
        "[data-testid=overview-queues]",
        "Member organization referrals: 1 waiting",
    )
    .await;
    // Other chats may wait ahead of it (a chat handed back goes to the front): any entry.
    sam.wait(
        "[...document.querySelectorAll('[data-testid=queue-entry]')].some((e) => e.textContent.includes('Member organization referrals'))",
        "the transferred chat in the referrals queue",
    )
    .await;
    assert!(sam
        .text("[data-testid=queue-list]")
        .await
        .contains("Transferred"));

    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_console_takes_over_and_the_first_says_so() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    add_advocate(&app, "sam");
    let chrome = Chrome::launch().await;
    let first = console_login(&chrome, &app, "sam").await;
    let second = console_login(&chrome, &app, "sam").await;
    first
        .wait_text("#conn-banner", "opened in another window")
        .await;
    assert!(second.visible("#app-view").await);
    assert!(!second.visible("#conn-banner").await);
    // The first does not fight back on its own; the person can take the console back.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(
        !second.visible("#conn-banner").await,
        "no automatic tug of war"
    );
    first.click("#take-over").await;
    second
        .wait_text("#conn-banner", "opened in another window")
        .await;
    first.wait_hidden("#conn-banner").await;
    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_reconnects_by_itself_when_its_connection_drops() {
    if !chromium_available() {
        return;
    }
    // The browser sees Haven at the proxy's origin.
    let (proxy_listener, proxy_origin) = CutProxy::listener().await;
    let app = common::spawn_app_with(|c| c.server.public_origin = proxy_origin).await;
    add_advocate(&app, "sam");
    let proxy = CutProxy::start_on(proxy_listener, app.port);
    let chrome = Chrome::launch().await;
    let sam = chrome.new_context().await;
    sam.goto(&proxy.url("/console")).await;
    sam.type_into("#username", "sam").await;
    sam.type_into("#password", PASSWORD).await;
    sam.press(Key::Enter).await;
    sam.wait_visible("#app-view").await;
    go_available(&sam).await;

    let mut chatter = app.chatter().await;
    common::send(&mut chatter, json!({"type": "hello"})).await;
    common::next_of_type(&mut chatter, "queued").await;
    sam.js_click("[data-testid=claim]").await;
    common::next_of_type(&mut chatter, "joined").await;
    sam.wait_visible("[data-testid=chat-tab]").await;
    let composer = format!("{ACTIVE} [data-testid=composer]");
    sam.type_into(&composer, "half-written").await;

    proxy.cut();
    sam.wait_text("#conn-banner", "Reconnecting").await;
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    proxy.restore();
    sam.wait_hidden("#conn-banner").await;
    assert!(
        sam.visible("#app-view").await,
        "no login needed: the session is still valid"
    );
    // The chat came back to this console (re-assigned), with the draft, and works.
    sam.wait(&format!("document.querySelector({}).value === 'half-written' && !document.querySelector({}).readOnly", js_str(&composer), js_str(&composer)), "the chat still open with its draft").await;
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    assert!(
        !sam.text(&format!("{ACTIVE} [data-testid=chat-state]"))
            .await
            .contains("no longer"),
        "the chat was re-assigned after the reconnect"
    );
    sam.click(&composer).await;
    sam.press(Key::Enter).await;
    let line = crate::next_message_with(&mut chatter, "half-written").await;
    assert_eq!(line["from"], "advocate");

    chrome.close().await;
    app.shutdown.trigger();
}
