//! The console through a shift: its own words in English and Spanish (every language file has
//! every key), canned responses in the chat's language, opt-in desktop notifications without
//! text, the banner while chatters are turned away, the supervisor's board acting on chats, a
//! session that expires without losing chats or drafts, a chatter's quick exit shown as a
//! warning, and an evaluator sent to /stats instead of a reconnect loop.

use std::{collections::BTreeSet, path::Path};

use serde_json::{json, Value};

use crate::{
    add_advocate, claim_first, common, console_login, console_login_with, go_available,
    harness::{chromium_available, js_str, Key},
    Chrome, ACTIVE, PASSWORD,
};

/// Keys the console looks up by a computed name (`err_<code>`, `role_<role>`, state keys).
fn dynamic_keys(en: &serde_json::Map<String, Value>) -> BTreeSet<String> {
    en.keys()
        .filter(|k| {
            k.starts_with("err_")
                || k.starts_with("role_")
                || k.starts_with("notify_")
                || k.starts_with("state_")
                || k.starts_with("banner_")
        })
        .cloned()
        .collect()
}

/// Every `t('key')`, `data-i18n="key"` and quoted `'state_…'` in the console's files.
fn keys_used(dir: &Path) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("web/console") {
        let path = entry.unwrap().path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "js" && ext != "html" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for marker in [
            "t('",
            "data-i18n=\"",
            "data-i18n-label=\"",
            "data-i18n-title=\"",
        ] {
            let pieces: Vec<&str> = text.split(marker).collect();
            for (before, piece) in pieces.iter().zip(pieces.iter().skip(1)) {
                // `t('…')` itself, not `createElement('…')` or `setAttribute('…')`.
                let word = before
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
                if marker == "t('" && word {
                    continue;
                }
                let key: String = piece
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !key.is_empty() {
                    used.insert(key);
                }
            }
        }
        for piece in text.split("'state_").skip(1) {
            let key: String = piece
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            used.insert(format!("state_{key}"));
        }
    }
    used
}

#[test]
fn every_console_language_file_has_every_key_the_console_uses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("web/console");
    let read = |lang: &str| -> serde_json::Map<String, Value> {
        let text = std::fs::read_to_string(dir.join(format!("i18n/{lang}.json"))).unwrap();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{lang}.json: {e}"))
    };
    let en = read("en");
    let used = keys_used(&dir);
    let missing: Vec<_> = used.iter().filter(|k| !en.contains_key(*k)).collect();
    assert!(missing.is_empty(), "en.json lacks {missing:?}");
    let dynamic = dynamic_keys(&en);
    let unused: Vec<_> = en
        .keys()
        .filter(|k| !used.contains(*k) && !dynamic.contains(*k))
        .collect();
    assert!(unused.is_empty(), "en.json has unused keys {unused:?}");
    let mut languages = 0;
    for entry in std::fs::read_dir(dir.join("i18n")).unwrap() {
        let path = entry.unwrap().path();
        let lang = path.file_stem().unwrap().to_str().unwrap().to_string();
        let other = read(&lang);
        let lacking: Vec<_> = en.keys().filter(|k| !other.contains_key(*k)).collect();
        let extra: Vec<_> = other.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(
            lacking.is_empty() && extra.is_empty(),
            "{lang}.json lacks {lacking:?}, has extra {extra:?}"
        );
        for (key, value) in &other {
            let text = value.as_str().unwrap_or_default();
            assert!(!text.trim().is_empty(), "{lang}.json: {key} is empty");
            // The same {placeholders} as English.
            let holes = |s: &str| -> BTreeSet<String> {
                s.split('{')
                    .skip(1)
                    .filter_map(|p| p.split_once('}').map(|(h, _)| h.to_string()))
                    .collect()
            };
            assert_eq!(
                holes(text),
                holes(en[key].as_str().unwrap()),
                "{lang}.json: {key} placeholders"
            );
        }
        languages += 1;
    }
    assert!(languages >= 2, "English and Spanish at least");
    // The switch offers each file.
    let i18n = std::fs::read_to_string(dir.join("i18n.js")).unwrap();
    assert!(i18n.contains("es: 'Español'"), "Spanish is in the switch");
}

/// Switch the console's language with its own control.
async fn choose_language(tab: &crate::Tab, lang: &str) {
    let _: bool = tab
        .eval(&format!("(() => {{ const s = document.getElementById('language'); s.value = {}; s.dispatchEvent(new Event('change')); return true; }})()", js_str(lang)))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spanish_console_with_spanish_canned_responses_for_a_spanish_chat() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    add_advocate(&app, "sam");
    let chrome = Chrome::launch().await;
    let tab = chrome.new_context().await;
    tab.goto(&app.url("/console")).await;
    tab.wait_visible("#login-form").await;
    choose_language(&tab, "es").await;
    tab.wait_text("#login-title", "Iniciar sesión").await;
    assert_eq!(
        tab.eval::<String>("document.documentElement.lang").await,
        "es"
    );
    tab.type_into("#username", "sam").await;
    tab.type_into("#password", PASSWORD).await;
    tab.press(Key::Enter).await;
    tab.wait_visible("#app-view").await;
    tab.wait_text("#load", "Chats: 0 de 3").await;
    tab.wait_text("#available-label", "Ausente").await;
    assert_eq!(
        tab.eval::<String>("document.title").await,
        "Consola de Haven"
    );
    tab.click("#available").await;
    tab.wait_text("#available-label", "Disponible").await;

    let mut chatter = app.chatter().await;
    common::send(&mut chatter, json!({"type": "hello", "language": "es"})).await;
    common::next_of_type(&mut chatter, "queued").await;
    tab.wait_text("#queue-list", "esperando").await;
    claim_first(&tab).await;
    common::next_of_type(&mut chatter, "joined").await;
    let panel = tab.text(ACTIVE).await;
    for english in ["Send", "Canned responses", "End chat", "Transfer…", "Reply"] {
        assert!(!panel.contains(english), "English {english:?} in {panel}");
    }
    // Only the Spanish canned responses in a Spanish chat.
    tab.click(&format!("{ACTIVE} [data-testid=canned-button]"))
        .await;
    tab.wait_visible(&format!("{ACTIVE} [data-testid=canned-list]"))
        .await;
    let titles: Vec<String> = tab
        .eval(&format!(
            "[...document.querySelectorAll('{ACTIVE} [data-testid=canned-option] strong')].map(s => s.textContent)"
        ))
        .await;
    assert_eq!(
        titles,
        [
            "Pregunta de seguridad",
            "Saludo",
            "Recordatorio de salida rápida",
            "Despedida"
        ]
    );
    let found = tab.axe_serious("console es").await;
    assert!(found.is_empty(), "{found:#?}");
    // Back to English: the console's words change, the chat stays.
    choose_language(&tab, "en").await;
    tab.wait_text("#load", "Chats: 1 of 3").await;
    tab.wait_text(&format!("{ACTIVE} [data-testid=send]"), "Send")
        .await;
    chrome.close().await;
    app.shutdown.trigger();
}

/// Records every desktop notification the page creates (title and body) before the browser
/// shows it, and lets a test mark the page hidden.
const RECORD_NOTIFICATIONS: &str = r#"
(() => {
  window.__notes = [];
  const Native = window.Notification;
  if (!Native) return;
  window.Notification = class extends Native {
    constructor(title, options) {
      window.__notes.push({ title, body: (options && options.body) || '' });
      super(title, options);
    }
    static get permission() { return Native.permission; }
    static requestPermission(...args) { return Native.requestPermission(...args); }
  };
})();
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_notifications_are_opt_in_and_carry_no_text() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    add_advocate(&app, "sam");
    add_advocate(&app, "ann");
    let chrome = Chrome::launch().await;
    let origin = app.url("");

    // Refused by the person (or the browser): the button says so and is disabled.
    let ann = console_login_with(&chrome, &app, "ann", Some(RECORD_NOTIFICATIONS)).await;
    ann.set_permission("notifications", false, &origin).await;
    ann.click("#notify").await;
    ann.wait_text("#notify", "blocked").await;
    assert!(
        ann.eval::<bool>("document.getElementById('notify').disabled")
            .await
    );

    let sam = console_login_with(&chrome, &app, "sam", Some(RECORD_NOTIFICATIONS)).await;
    assert_eq!(
        sam.text("#notify").await,
        "Desktop notifications: off",
        "off until the advocate asks"
    );
    go_available(&sam).await;
    sam.set_permission("notifications", true, &origin).await;
    sam.click("#notify").await;
    sam.wait(
        "document.getElementById('notify').getAttribute('aria-pressed') === 'true'",
        "notifications on",
    )
    .await;
    sam.wait_text("#notify", "Desktop notifications: on").await;

    // In the foreground: no notification.
    let mut first = app.chatter().await;
    common::send(&mut first, json!({"type": "hello"})).await;
    common::next_of_type(&mut first, "queued").await;
    sam.wait_visible("[data-testid=claim]").await;
    claim_first(&sam).await;
    common::next_of_type(&mut first, "joined").await;
    assert_eq!(sam.eval::<i64>("window.__notes.length").await, 0);

    // Hidden: a new chatter and a new message notify, with a title only.
    let _: bool = sam
        .eval("(Object.defineProperty(document, 'hidden', { configurable: true, get: () => true }), true)")
        .await;
    let mut second = app.chatter().await;
    common::send(&mut second, json!({"type": "hello"})).await;
    common::next_of_type(&mut second, "queued").await;
    sam.wait(
        "window.__notes.length === 1",
        "a notification for the new chatter",
    )
    .await;
    let canary = "Canary secret address 12 Elm Street";
    common::send(
        &mut first,
        json!({"type": "message", "id": "c-1", "text": canary}),
    )
    .await;
    sam.wait(
        "window.__notes.length === 2",
        "a notification for the message",
    )
    .await;
    let notes: Vec<Value> = sam.eval("window.__notes").await;
    assert_eq!(notes[0]["title"], "Haven: a chatter is waiting");
    assert_eq!(notes[1]["title"], "Haven: new message");
    for note in &notes {
        assert_eq!(note["body"], "", "no text in a notification: {note}");
        assert!(!note.to_string().contains("Elm"), "{note}");
    }
    // Turned off again: nothing more.
    let _: bool = sam
        .eval(
            "(delete document.hidden, document.dispatchEvent(new Event('visibilitychange')), true)",
        )
        .await;
    sam.click("#notify").await;
    sam.wait_text("#notify", "Desktop notifications: off").await;
    let _: bool = sam
        .eval("(Object.defineProperty(document, 'hidden', { configurable: true, get: () => true }), true)")
        .await;
    common::send(
        &mut first,
        json!({"type": "message", "id": "c-2", "text": "again"}),
    )
    .await;
    sam.wait(
        "document.title.startsWith('(')",
        "the title badge still counts",
    )
    .await;
    assert_eq!(sam.eval::<i64>("window.__notes.length").await, 2);
    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_reassigns_and_ends_chats_from_the_board() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app_with(|c| c.chat.max_waiting = 1).await;
    add_advocate(&app, "sam");
    app.add_staff("sue", "Supervisor Sue", haven::Role::Supervisor, PASSWORD);
    let chrome = Chrome::launch().await;
    let sam = console_login(&chrome, &app, "sam").await;
    go_available(&sam).await;
    assert!(
        !sam.visible("[data-testid=overview]").await,
        "no board for advocates"
    );

    // The queue is full with one waiting: the available advocate is told chatters are turned away.
    let mut chatter = app.chatter().await;
    common::send(&mut chatter, json!({"type": "hello"})).await;
    common::next_of_type(&mut chatter, "queued").await;
    sam.wait_text("[data-testid=service-banner]", "queue is full")
        .await;
    claim_first(&sam).await;
    common::next_of_type(&mut chatter, "joined").await;
    sam.wait_hidden("[data-testid=service-banner]").await;

    let mut amy = crate::available_advocate(&app, "amy").await;
    let sue = console_login(&chrome, &app, "sue").await;
    sue.wait_visible("[data-testid=overview]").await;
    sue.wait(
        "document.querySelectorAll('[data-testid=board-advocate]').length === 3",
        "both advocates and the supervisor on the board",
    )
    .await;
    let board = sue.text("[data-testid=board-advocates]").await;
    assert!(
        board.contains("Advocate Sam") && board.contains("1 of 3"),
        "{board}"
    );
    sue.wait_visible("[data-testid=board-reassign]").await;
    assert_eq!(
        sue.count("[data-testid=board-read]").await,
        0,
        "reading transcripts is off by default"
    );
    let found = sue.axe_serious("supervisor board").await;
    assert!(found.is_empty(), "{found:#?}");

    // Reassign Sam's chat to Amy.
    sue.click("[data-testid=board-reassign]").await;
    sue.wait_visible("#transfer-dialog").await;
    sue.wait_text("#transfer-title", "Reassign chat").await;
    assert!(
        !sue.visible("#transfer-note-row").await,
        "no note on a reassignment"
    );
    let found = sue.axe_serious("reassign dialog").await;
    assert!(found.is_empty(), "{found:#?}");
    let picked: bool = sue
        .eval("(() => { const s = document.getElementById('transfer-target'); const o = [...s.options].find(o => o.textContent.includes('Advocate amy')); s.value = o.value; return !o.disabled; })()")
        .await;
    assert!(picked, "Amy is available");
    sue.click("#transfer-confirm").await;
    let assigned = common::next_of_type(&mut amy, "assigned").await;
    assert_eq!(assigned["transfer"]["from"], "Advocate Sam");
    sam.wait_text(
        &format!("{ACTIVE} [data-testid=chat-state]"),
        "A supervisor reassigned this chat.",
    )
    .await;
    sue.wait_text("[data-testid=overview-chats]", "Advocate amy")
        .await;

    // And end it.
    sue.click("[data-testid=board-end]").await;
    sue.wait_visible("#end-dialog").await;
    sue.click("#end-confirm").await;
    let ended = common::next_of_type(&mut amy, "ended").await;
    assert_eq!(ended["reason"], "ended_by_supervisor");
    let ended = common::next_of_type(&mut chatter, "ended").await;
    assert_eq!(ended["reason"], "advocate_ended");
    sue.wait_text("[data-testid=overview-chats]", "No active chats.")
        .await;
    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_reads_a_chat_only_where_the_program_allows_it() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app_with(|c| c.supervisors.may_read_transcripts = true).await;
    app.add_staff("sue", "Supervisor Sue", haven::Role::Supervisor, PASSWORD);
    let mut amy = crate::available_advocate(&app, "amy").await;
    let mut chatter = app.chatter().await;
    common::send(&mut chatter, json!({"type": "hello"})).await;
    let queued = common::next_of_type(&mut chatter, "queued").await;
    assert_eq!(queued["position"], 1);
    let queue = common::next_of_type(&mut amy, "queue").await;
    let chat_id = queue["entries"][0]["chat_id"].as_str().unwrap().to_string();
    common::send(&mut amy, json!({"type": "claim", "chat_id": chat_id})).await;
    common::next_of_type(&mut chatter, "joined").await;
    common::send(
        &mut chatter,
        json!({"type": "message", "id": "c-1", "text": "I need a safe place tonight"}),
    )
    .await;
    crate::next_message_with(&mut amy, "I need a safe place tonight").await;

    let chrome = Chrome::launch().await;
    let sue = console_login(&chrome, &app, "sue").await;
    sue.wait_visible("[data-testid=board-read]").await;
    sue.click("[data-testid=board-read]").await;
    sue.wait_visible("#read-dialog").await;
    sue.wait_text("#read-title", "Advocate amy").await;
    sue.wait_text("[data-testid=read-log]", "I need a safe place tonight")
        .await;
    let found = sue.axe_serious("transcript dialog").await;
    assert!(found.is_empty(), "{found:#?}");
    // Refresh shows newer lines.
    common::send(
        &mut amy,
        json!({"type": "message", "chat_id": chat_id, "id": "a-1", "text": "Let us find one together."}),
    )
    .await;
    sue.click("#read-refresh").await;
    sue.wait_text("[data-testid=read-log]", "Let us find one together.")
        .await;
    sue.click("#read-close").await;
    sue.wait_hidden("#read-dialog").await;
    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_keeps_chats_drafts_and_the_open_tab_through_a_new_login() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app_with(|c| {
        c.auth.console_session_check_secs = 1;
        c.chat.resume_grace_secs = 60;
    })
    .await;
    add_advocate(&app, "sam");
    let chrome = Chrome::launch().await;
    let sam = console_login(&chrome, &app, "sam").await;
    go_available(&sam).await;
    let mut chatters = Vec::new();
    for n in 0..2 {
        let mut chatter = app.chatter().await;
        common::send(&mut chatter, json!({"type": "hello"})).await;
        common::next_of_type(&mut chatter, "queued").await;
        claim_first(&sam).await;
        common::next_of_type(&mut chatter, "joined").await;
        common::send(
            &mut chatter,
            json!({"type": "message", "id": format!("c-{n}"), "text": format!("first line {n}")}),
        )
        .await;
        chatters.push(chatter);
    }
    // The first chat is the open one, with a draft.
    sam.click("[data-testid=chat-tab]:nth-child(1)").await;
    sam.wait_text(&format!("{ACTIVE} [data-testid=chat-log]"), "first line 0")
        .await;
    let composer = format!("{ACTIVE} [data-testid=composer]");
    sam.type_into(&composer, "A draft across the login").await;

    // The session disappears from the store, as when it expires.
    let cookie = sam
        .page
        .execute(
            chromiumoxide::cdp::browser_protocol::network::GetCookiesParams::builder()
                .urls(vec![app.url("/console")])
                .build(),
        )
        .await
        .unwrap()
        .result
        .cookies
        .into_iter()
        .find(|c| c.name == "haven_session")
        .expect("session cookie");
    let store = haven::store::Store::open(app.data_dir.path()).unwrap();
    assert!(store.delete_session(&cookie.value).unwrap());
    sam.wait_visible("#login-form").await;
    assert!(sam.visible("[data-testid=login-expired]").await);
    let found = sam.axe_serious("sign in again").await;
    assert!(found.is_empty(), "{found:#?}");
    // While signed out the chatter writes on: the line arrives after the new login.
    common::send(
        &mut chatters[0],
        json!({"type": "message", "id": "c-9", "text": "written while you were away"}),
    )
    .await;
    sam.type_into("#password", PASSWORD).await;
    sam.press(Key::Enter).await;
    sam.wait_visible("#app-view").await;
    sam.wait_text(
        &format!("{ACTIVE} [data-testid=chat-log]"),
        "written while you were away",
    )
    .await;
    assert_eq!(sam.count("[data-testid=chat-tab]").await, 2);
    let draft: String = sam
        .eval(&format!(
            "document.querySelector({}).value",
            js_str(&composer)
        ))
        .await;
    assert_eq!(draft, "A draft across the login");
    assert_eq!(
        sam.eval::<String>("document.querySelector('[role=tab][aria-selected=true]').textContent")
            .await
            .split(' ')
            .take(2)
            .collect::<Vec<_>>()
            .join(" "),
        "Chat 1",
        "the tab that was open is still open"
    );
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    let state = sam
        .text(&format!("{ACTIVE} [data-testid=chat-state]"))
        .await;
    assert!(!state.contains("no longer"), "kept: {state}");
    // Lines in seq order.
    let seqs: Vec<u64> = sam
        .eval(&format!("[...document.querySelectorAll('{ACTIVE} [data-seq]')].map(li => Number(li.dataset.seq))"))
        .await;
    assert!(
        seqs.len() >= 2 && seqs.windows(2).all(|w| w[0] < w[1]),
        "{seqs:?}"
    );
    // The draft goes out.
    sam.click(&composer).await;
    sam.press(Key::Enter).await;
    let line = crate::next_message_with(&mut chatters[0], "A draft across the login").await;
    assert_eq!(line["from"], "advocate");

    // The chatter leaves by Quick exit: a warning, not an ordinary end.
    common::send(
        &mut chatters[0],
        json!({"type": "leave", "reason": "quick_exit"}),
    )
    .await;
    sam.wait_text(
        &format!("{ACTIVE} [data-testid=chat-state]"),
        "left quickly — they may be in danger",
    )
    .await;
    assert!(
        sam.eval::<bool>(&format!(
            "document.querySelector('{ACTIVE} [data-testid=chat-state]').classList.contains('warning')"
        ))
        .await
    );
    let found = sam.axe_serious("quick exit warning").await;
    assert!(found.is_empty(), "{found:#?}");
    chrome.close().await;
    app.shutdown.trigger();
}

/// Counts the WebSockets the page opens.
const COUNT_SOCKETS: &str = r#"
(() => {
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      sessionStorage.setItem('__sockets', String(Number(sessionStorage.getItem('__sockets') || 0) + 1));
      super(...args);
    }
  };
})();
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evaluator_is_sent_to_stats_never_into_a_reconnect_loop() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    app.add_staff("eve", "Evaluator Eve", haven::Role::Evaluator, PASSWORD);
    let chrome = Chrome::launch().await;
    let tab = chrome.new_context().await;
    tab.page
        .evaluate_on_new_document(COUNT_SOCKETS)
        .await
        .unwrap();
    tab.goto(&app.url("/console")).await;
    tab.wait_visible("#login-form").await;
    tab.type_into("#username", "eve").await;
    tab.type_into("#password", PASSWORD).await;
    tab.press(Key::Enter).await;
    tab.wait_url(&app.url("/stats")).await;
    // Signed in, back at /console: straight to /stats again, no socket ever opened.
    tab.goto(&app.url("/console")).await;
    tab.wait_url(&app.url("/stats")).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(tab.url().await.starts_with(&app.url("/stats")));
    let sockets: String = tab
        .eval("String(sessionStorage.getItem('__sockets'))")
        .await;
    assert_eq!(sockets, "null", "the console never opened a socket");
    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_available_advocate_is_told_when_the_service_is_closed() {
    if !chromium_available() {
        return;
    }
    // Open one minute a day at local midnight, with an offset that makes it about noon locally.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let offset = 720 - ((now % 86_400) / 60) as i32;
    let app = common::spawn_app_with(|c| {
        c.service_hours.windows = vec!["mon-sun 00:00-00:01".into()];
        c.service_hours.utc_offset_minutes = offset;
    })
    .await;
    add_advocate(&app, "sam");
    let chrome = Chrome::launch().await;
    let sam = console_login(&chrome, &app, "sam").await;
    assert!(
        !sam.visible("[data-testid=service-banner]").await,
        "away: no banner"
    );
    go_available(&sam).await;
    sam.wait_text("[data-testid=service-banner]", "The service is closed now")
        .await;
    let found = sam.axe_serious("service closed banner").await;
    assert!(found.is_empty(), "{found:#?}");
    choose_language(&sam, "es").await;
    sam.wait_text("[data-testid=service-banner]", "El servicio está cerrado")
        .await;
    sam.click("#available").await;
    sam.wait_hidden("[data-testid=service-banner]").await;
    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_socket_notices_a_silent_dead_connection_and_reconnects() {
    if !chromium_available() {
        return;
    }
    // The browser sees the proxy's origin: Haven is told it is its own.
    let (listener, origin) = crate::harness::CutProxy::listener().await;
    let app = common::spawn_app_with(|c| c.server.public_origin = origin).await;
    let proxy = crate::harness::StallProxy::start_on(listener, app.port);
    let chrome = Chrome::launch().await;
    let tab = chrome.new_context().await;
    tab.goto(&proxy.url("/console")).await;
    tab.wait_visible("#login-form").await;
    // The module on its own, with short timers (the console uses 5 s and 15 s): a chatter
    // socket through the proxy.
    let _: bool = tab
        .eval(
            r#"import('/shared/socket.js').then(({ Socket }) => {
                window.__log = [];
                window.__sock = new Socket('/ws/chat', {
                  onOpen: () => window.__log.push('open'),
                  onFrame: (f) => window.__log.push('frame:' + f.type),
                  onDown: async (info) => { window.__log.push('down:' + (info.dead ? 'dead' : info.code)); return true; },
                }, { pingEveryMs: 200, deadAfterMs: 1000, firstDelayMs: 100 });
                window.__sock.start();
                return true;
              })"#,
        )
        .await;
    tab.wait("window.__log.includes('open')", "the socket open")
        .await;
    let _: bool = tab.eval("window.__sock.send({type: 'hello'})").await;
    tab.wait(
        "window.__log.includes('frame:offline')",
        "frames parsed (nobody on duty: offline)",
    )
    .await;
    let pongs: bool = tab.eval("window.__log.some(e => e === 'frame:pong')").await;
    assert!(!pongs, "the heartbeat's pongs stay inside the module");

    proxy.stall();
    tab.wait(
        "window.__log.includes('down:dead')",
        "the silent connection counted as dead",
    )
    .await;
    tab.wait(
        "window.__log.filter(e => e === 'open').length === 2",
        "a new connection after the back-off",
    )
    .await;
    let log: Vec<String> = tab.eval("window.__log").await;
    let down = log.iter().position(|e| e == "down:dead").unwrap();
    assert_eq!(
        log.iter().skip(down + 1).filter(|e| *e == "open").count(),
        1,
        "{log:?}"
    );
    let _: bool = tab.eval("(window.__sock.stop(), true)").await;
    chrome.close().await;
    app.shutdown.trigger();
}
