//! Quick exit: by the button, by Escape and by Shift pressed three times. The page is replaced
//! by the configured neutral site (served here on a second local port), Back does not return
//! to the chat, and Haven's origin keeps no cookie, localStorage or sessionStorage.

use chromiumoxide::cdp::browser_protocol::network::GetCookiesParams;

use crate::{
    common,
    harness::{chromium_available, exit_site, Chrome, Key, SidePages, Tab},
};

enum Trigger {
    Button,
    Escape,
    /// Escape with text in the message box: the first leaves the box, the second exits.
    EscapeTwiceWhileTyping,
    ShiftThreeTimes,
}

/// A neutral site, Haven configured to quick-exit to its `/weather` page, and a fresh tab.
struct Exit {
    exit: SidePages,
    exit_url: String,
    app: common::TestApp,
    chrome: Chrome,
    tab: Tab,
}

async fn exit_setup() -> Exit {
    let exit = exit_site().await;
    let exit_url = exit.url("/weather");
    let configured = exit_url.clone();
    let app = common::spawn_app_with(|c| c.program.quick_exit_url = configured).await;
    let chrome = Chrome::launch().await;
    let tab = chrome.new_context().await;
    Exit {
        exit,
        exit_url,
        app,
        chrome,
        tab,
    }
}

async fn leave(tab: &Tab, trigger: Trigger) {
    match trigger {
        Trigger::Button => tab.click("#quick-exit").await,
        Trigger::Escape => tab.press(Key::Escape).await,
        Trigger::EscapeTwiceWhileTyping => {
            tab.press(Key::Escape).await;
            // A stray Escape while writing does not end the chat.
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            assert!(
                tab.visible("#screen-chat").await,
                "the first Escape keeps the chat"
            );
            assert_eq!(
                tab.eval::<String>("document.getElementById('message').value")
                    .await,
                "he is home early",
                "and the draft"
            );
            assert!(
                tab.eval::<bool>("document.activeElement.id !== 'message'")
                    .await,
                "the first Escape leaves the message box"
            );
            tab.wait_text("#notice", "Escape again").await;
            tab.press(Key::Escape).await;
        }
        Trigger::ShiftThreeTimes => {
            for _ in 0..3 {
                tab.press(Key::Shift).await;
            }
        }
    }
}

async fn assert_left_without_trace(tab: &Tab, app: &common::TestApp, exit_url: &str, how: &str) {
    tab.wait_url(exit_url).await;
    tab.wait(
        "document.readyState === 'complete' && document.title === 'Weather'",
        "the neutral page",
    )
    .await;

    // Back goes to where the person was before the chat, not to Haven.
    let length: i64 = tab.eval("history.length").await;
    let before_url = exit_url.replace("/weather", "/before");
    tab.back().await;
    tab.wait_url(&before_url).await;
    assert!(
        length <= 3,
        "{how}: history holds at most the blank tab, the page before and the neutral page, got {length}"
    );
    tab.back().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !tab.url().await.starts_with(&app.url("/")),
        "{how}: going back twice still does not reach the chat"
    );

    // Nothing left for Haven's origin: no cookie...
    let cookies = tab
        .page
        .execute(
            GetCookiesParams::builder()
                .urls(vec![
                    app.url("/"),
                    app.url("/chat"),
                    app.url("/api/public/config"),
                ])
                .build(),
        )
        .await
        .expect("cookies readable")
        .result
        .cookies;
    assert!(
        cookies.is_empty(),
        "{how}: no cookie for Haven, found {cookies:?}"
    );
    // ...and no storage (the tab's sessionStorage for Haven is read back from Haven's origin,
    // on a page that runs no script of ours).
    tab.goto(&app.url("/healthz")).await;
    let storage: (i64, i64) = tab
        .eval("[sessionStorage.length, localStorage.length]")
        .await;
    assert_eq!(
        storage,
        (0, 0),
        "{how}: sessionStorage and localStorage are empty"
    );
}

async fn quick_exit_by(trigger: Trigger, how: &str, draft: bool) {
    let Exit {
        exit,
        exit_url,
        app,
        chrome,
        tab,
    } = exit_setup().await;
    let mut advocate = crate::available_advocate(&app, "sam").await;

    tab.goto(&exit.url("/before")).await;
    tab.goto(&app.url("/chat")).await;
    tab.click("#start").await;
    // Queued: the page now holds the resume token and a draft.
    tab.wait_visible("#queue-info").await;
    let chat_id = crate::claim_waiting(&mut advocate).await;
    tab.wait_visible("[data-testid=system-note]").await;
    if draft {
        tab.type_into("#message", "he is home early").await;
    }
    assert!(
        tab.eval::<bool>("sessionStorage.getItem('haven_token') !== null")
            .await
    );
    assert_eq!(
        tab.eval::<String>("document.getElementById('quick-exit').href")
            .await,
        exit_url,
        "the button is a real link to the neutral site even without script"
    );

    leave(&tab, trigger).await;
    // The advocate learns that the chatter left in a hurry, and nothing more.
    let left = common::next_of_type(&mut advocate, "chatter_left").await;
    assert_eq!(
        left,
        serde_json::json!({"type": "chatter_left", "chat_id": chat_id, "reason": "quick_exit"}),
        "{how}"
    );
    assert_left_without_trace(&tab, &app, &exit_url, how).await;

    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_exit_button_replaces_the_page_and_leaves_no_trace() {
    if !chromium_available() {
        return;
    }
    quick_exit_by(Trigger::Button, "button", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_key_quick_exits() {
    if !chromium_available() {
        return;
    }
    quick_exit_by(Trigger::Escape, "Escape", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_while_typing_first_leaves_the_box_and_a_second_exits() {
    if !chromium_available() {
        return;
    }
    quick_exit_by(Trigger::EscapeTwiceWhileTyping, "Escape twice", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_exit_is_a_plain_link_to_the_neutral_site_before_any_script_runs() {
    if !chromium_available() {
        return;
    }
    // Haven serves a copy of web/ without chat.js: the page as it is before its script loads
    // (or when a network or a filter blocks it).
    let web = tempfile::tempdir().unwrap();
    copy_dir(
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("web"),
        web.path(),
    );
    std::fs::remove_file(web.path().join("chat/chat.js")).unwrap();
    let exit = exit_site().await;
    let exit_url = exit.url("/weather");
    let (configured, dir) = (exit_url.clone(), web.path().to_string_lossy().to_string());
    let app = common::spawn_app_with(move |c| {
        c.program.quick_exit_url = configured;
        c.server.web_dir = dir;
    })
    .await;
    let chrome = Chrome::launch().await;
    let tab = chrome.new_context().await;
    tab.goto(&app.url("/chat")).await;
    tab.wait_visible("#quick-exit").await;
    assert_eq!(
        tab.eval::<String>("document.getElementById('quick-exit').href")
            .await,
        exit_url,
        "the served HTML links to the neutral site"
    );
    assert!(tab.visible("#screen-loading").await, "no script has run");
    tab.click("#quick-exit").await;
    tab.wait_url(&exit_url).await;
    tab.wait(
        "document.readyState === 'complete' && document.title === 'Weather'",
        "the neutral page",
    )
    .await;
    chrome.close().await;
    app.shutdown.trigger();
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shift_three_times_quick_exits_but_typing_capitals_does_not() {
    if !chromium_available() {
        return;
    }
    let Exit {
        exit,
        exit_url,
        app,
        chrome,
        tab,
    } = exit_setup().await;
    tab.goto(&exit.url("/before")).await;
    tab.goto(&app.url("/chat")).await;
    tab.wait_visible("#start").await;

    // Shift, a letter, Shift, a letter, Shift: writing with capitals is not an exit.
    let _: bool = tab.eval("document.activeElement.blur(), true").await;
    for _ in 0..3 {
        tab.press(Key::Shift).await;
        tab.type_text("x").await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        tab.url().await.starts_with(&app.url("/")),
        "still on the chat page"
    );

    leave(&tab, Trigger::ShiftThreeTimes).await;
    assert_left_without_trace(&tab, &app, &exit_url, "Shift x3").await;
    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_restored_from_back_forward_cache_shows_nothing() {
    if !chromium_available() {
        return;
    }
    // The neutral site (`_exit`) serves until the end of the test.
    let Exit {
        exit: _exit,
        exit_url,
        app,
        chrome,
        tab,
    } = exit_setup().await;
    tab.goto(&app.url("/chat")).await;
    tab.wait_visible("#start").await;
    // What the browser fires when it shows the page again from its back/forward cache.
    let blank: bool = tab
        .eval("window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true })), document.body.childElementCount === 0")
        .await;
    assert!(blank, "the restored page is blanked at once");
    tab.wait_url(&exit_url).await;
    chrome.close().await;
    app.shutdown.trigger();
}
