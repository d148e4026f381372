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

async fn quick_exit_by(trigger: Trigger, how: &str) {
    let Exit {
        exit,
        exit_url,
        app,
        chrome,
        tab,
    } = exit_setup().await;
    let _advocate = crate::available_advocate(&app, "sam").await;

    tab.goto(&exit.url("/before")).await;
    tab.goto(&app.url("/chat")).await;
    tab.click("#start").await;
    // Queued: the page now holds the resume token and a draft.
    tab.wait_visible("#queue-info").await;
    tab.type_into("#message", "he is home early").await;
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
    assert_left_without_trace(&tab, &app, &exit_url, how).await;

    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_exit_button_replaces_the_page_and_leaves_no_trace() {
    if !chromium_available() {
        return;
    }
    quick_exit_by(Trigger::Button, "button").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_key_quick_exits() {
    if !chromium_available() {
        return;
    }
    quick_exit_by(Trigger::Escape, "Escape").await;
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
