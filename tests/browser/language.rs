//! Languages: the chatter page follows the browser's language, has a visible switch, and every
//! language file holds every string the page uses (a program adds a language by adding a file
//! under web/chat/i18n/ and listing it in `program.languages`).

use std::{collections::BTreeSet, path::PathBuf};

use chromiumoxide::cdp::browser_protocol::network::SetUserAgentOverrideParams;
use serde_json::{json, Value};

use crate::{
    common,
    harness::{chromium_available, Chrome},
};

fn web(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("web")
        .join(path)
}

fn keys_of(file: &std::path::Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let json: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", file.display()));
    json.as_object()
        .unwrap_or_else(|| panic!("{} is not an object", file.display()))
        .iter()
        .map(|(k, v)| {
            assert!(v.is_string(), "{}: {k} is not a string", file.display());
            k.clone()
        })
        .collect()
}

/// Keys named in the page: `data-i18n="key"` in the HTML, and in the script the first
/// string literals in every call to `t(`, `endChat(` and `addSystem(` (after the first argument
/// of `setT(` and `setState(`), plus the keys
/// built from protocol values (`offline_<reason>`, `ended_<reason>`).
fn keys_used() -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let html = std::fs::read_to_string(web("chat/index.html")).unwrap();
    for part in html.split("data-i18n=\"").skip(1) {
        used.insert(part.split('"').next().unwrap().to_string());
    }
    let js = std::fs::read_to_string(web("chat/chat.js")).unwrap();
    // The server's system notes map to strings in one table.
    let notes = js
        .split("const SYSTEM_NOTES = {")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .expect("chat.js maps the server's system notes");
    for (i, literal) in notes.split('\'').enumerate() {
        if i % 2 == 1 {
            used.insert(literal.to_string());
        }
    }
    for function in ["t", "setT", "setState", "endChat", "addSystem"] {
        let call = format!("{function}(");
        for (at, _) in js.match_indices(&call) {
            let before = js[..at].chars().next_back().unwrap_or(' ');
            if before.is_ascii_alphanumeric() || before == '_' || before == '.' {
                continue; // another function whose name ends the same way
            }
            if js[..at].ends_with("function ") {
                continue; // the definition
            }
            let mut args = &js[at + call.len()..];
            if function == "setT" || function == "setState" {
                // The key is the second argument: skip the element.
                args = &args[args.find(',').map_or(args.len(), |c| c + 1)..];
            }
            let args = &args[..args.find(')').unwrap_or(args.len())];
            // Every literal in the arguments (a key may be chosen with `a ? 'x' : 'y'`).
            for (i, literal) in args.split('\'').enumerate() {
                if i % 2 == 1 && !literal.contains('$') {
                    used.insert(literal.to_string());
                }
            }
        }
    }
    for reason in ["no_advocates", "outside_hours", "queue_full", "busy"] {
        used.insert(format!("offline_{reason}"));
    }
    for reason in ["advocate_ended", "chatter_left", "server_closing"] {
        used.insert(format!("ended_{reason}"));
    }
    used
}

#[test]
fn every_language_file_has_every_string_the_page_uses() {
    let english = keys_of(&web("chat/i18n/en.json"));
    let used = keys_used();
    assert!(used.len() > 40, "the scan finds the page's keys: {used:?}");
    let missing: Vec<_> = used.difference(&english).collect();
    assert!(
        missing.is_empty(),
        "keys used but missing in en.json: {missing:?}"
    );
    let unused: Vec<_> = english.difference(&used).collect();
    assert!(
        unused.is_empty(),
        "keys in en.json that nothing uses: {unused:?}"
    );

    let dir = web("chat/i18n");
    let mut languages = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        languages += 1;
        let keys = keys_of(&path);
        assert_eq!(
            keys,
            english,
            "{} has exactly the keys of en.json",
            path.display()
        );
    }
    assert!(languages >= 2, "English and Spanish at least");
    // The configured languages all have a file.
    for lang in haven::Config::embedded_defaults().program.languages {
        assert!(
            dir.join(format!("{lang}.json")).exists(),
            "no strings for {lang}"
        );
    }
}

/// A tab whose browser asks for Spanish.
pub async fn spanish_tab(chrome: &Chrome) -> crate::harness::Tab {
    tab_in(chrome, "es-MX,es;q=0.9").await
}

/// A tab whose browser asks for `accept_language`.
async fn tab_in(chrome: &Chrome, accept_language: &str) -> crate::harness::Tab {
    let tab = chrome.new_context().await;
    let agent: String = tab.eval("navigator.userAgent").await;
    tab.page
        .execute(
            SetUserAgentOverrideParams::builder()
                .user_agent(agent)
                .accept_language(accept_language)
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    tab
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_follows_the_browser_language_and_the_switch_changes_it() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    let chrome = Chrome::launch().await;
    let tab = spanish_tab(&chrome).await;
    tab.goto(&app.url("/chat")).await;
    tab.wait_text("#start", "Iniciar el chat").await;
    assert_eq!(
        tab.eval::<String>("document.documentElement.lang").await,
        "es"
    );
    assert_eq!(
        tab.eval::<String>("document.getElementById('language').value")
            .await,
        "es"
    );
    assert_eq!(tab.text("#quick-exit").await, "Salida rápida");
    let options: Vec<String> = tab
        .eval("[...document.getElementById('language').options].map(o => o.textContent)")
        .await;
    assert_eq!(
        options,
        vec!["English", "Español"],
        "each language named in itself"
    );

    // The visible switch.
    tab.click("#language").await;
    let _: bool = tab
        .eval("(() => { const s = document.getElementById('language'); s.value = 'en'; s.dispatchEvent(new Event('change')); return true; })()")
        .await;
    tab.wait_text("#start", "Start chat").await;
    assert_eq!(
        tab.eval::<String>("document.documentElement.lang").await,
        "en"
    );
    assert_eq!(tab.text("#quick-exit").await, "Quick exit");
    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spanish_chatter_reads_havens_own_notes_in_spanish() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    let mut advocate = app.advocate("sam").await;
    common::send(&mut advocate, json!({"type": "status", "available": true})).await;
    let chrome = Chrome::launch().await;
    let tab = spanish_tab(&chrome).await;
    tab.goto(&app.url("/chat")).await;
    tab.wait_text("#start", "Iniciar el chat").await;
    tab.click("#start").await;
    let chat_id = loop {
        let queue = common::next_of_type(&mut advocate, "queue").await;
        if let Some(entry) = queue["entries"].as_array().and_then(|e| e.first()) {
            break entry["chat_id"].as_str().unwrap().to_owned();
        }
    };
    common::send(&mut advocate, json!({"type": "claim", "chat_id": chat_id})).await;
    common::next_of_type(&mut advocate, "assigned").await;
    common::send(
        &mut advocate,
        json!({"type": "typing", "chat_id": chat_id, "on": true}),
    )
    .await;
    tab.wait_visible("#typing").await;
    common::send(
        &mut advocate,
        json!({"type": "transfer", "chat_id": chat_id, "to_queue": "referrals"}),
    )
    .await;
    tab.wait_text("#log", "Le estamos transfiriendo a otro equipo")
        .await;
    assert!(
        !tab.visible("#typing").await,
        "back in the queue, nobody is typing any more"
    );
    let lines = tab.texts("#log li").await;
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("You are being transferred")),
        "the English text is replaced, not shown beside: {lines:?}"
    );
    chrome.close().await;
    app.shutdown.trigger();
}

fn strings_of(lang: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(web(&format!("chat/i18n/{lang}.json"))).unwrap())
        .unwrap()
}

/// What must never show on the page in `lang`: every string of the page and of the program's
/// configured texts in the default language that differs from its `lang` one (split at
/// `{placeholders}`).
fn default_language_needles(lang: &str) -> Vec<String> {
    let config = haven::Config::embedded_defaults();
    let default = config.program.languages[0].as_str();
    let read = |lang: &str| -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(web(&format!("chat/i18n/{lang}.json"))).unwrap(),
        )
        .unwrap()
    };
    let (en, es) = (read(default), read(lang));
    let mut pairs: Vec<(String, String)> = en
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                v.as_str().unwrap().to_owned(),
                es[k].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let (english, spanish) = (
        config.program.text_for(default, &config.queues),
        config.program.text_for(lang, &config.queues),
    );
    let (english, spanish) = (
        serde_json::to_value(english).unwrap(),
        serde_json::to_value(spanish).unwrap(),
    );
    for key in [
        "program_name",
        "page_title",
        "emergency",
        "hotline_phone",
        "hotline_text",
        "offline_note",
        "mandated_reporting",
    ] {
        pairs.push((
            english[key].as_str().unwrap().to_owned(),
            spanish[key].as_str().unwrap().to_owned(),
        ));
    }
    let mut needles = Vec::new();
    for (en, es) in pairs {
        if en == es {
            continue; // the same word in both (a name, a number)
        }
        for part in en.split(['{', '}']).step_by(2) {
            let part = part.trim();
            if part.chars().count() >= 4 {
                needles.push(part.to_owned());
            }
        }
    }
    needles
}

async fn no_english(tab: &crate::harness::Tab, needles: &[String], screen: &str) {
    let text: String = tab
        .eval("document.title + '\\n' + document.body.innerText")
        .await;
    // The advocate's own display name is theirs, not the page's.
    let text = text.replace("Advocate sam", "");
    let found: Vec<_> = needles
        .iter()
        .filter(|n| text.contains(n.as_str()))
        .collect();
    assert!(
        found.is_empty(),
        "{screen}: the default language's strings on this page: {found:?}\n---\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_configured_language_is_itself_on_every_screen_including_the_programs_texts() {
    if !chromium_available() {
        return;
    }
    let config = haven::Config::embedded_defaults();
    let others = &config.program.languages[1..];
    assert!(!others.is_empty(), "Spanish at least");
    for lang in others {
        one_language_on_every_screen(lang).await;
    }
}

async fn one_language_on_every_screen(lang: &str) {
    let needles = default_language_needles(lang);
    assert!(needles.len() > 50, "{needles:?}");
    let config = haven::Config::embedded_defaults();
    let own = config.program.text_for(lang, &config.queues);
    let strings = strings_of(lang);
    // The token is kept on leaving so that the resume screen can be checked too.
    let app = common::spawn_app_with(|c| c.chatter_page.forget_on_pagehide = false).await;
    let chrome = Chrome::launch().await;
    let tab = tab_in(&chrome, lang).await;
    tab.goto(&app.url("/chat")).await;
    tab.wait_text("#start", strings["start"].as_str().unwrap())
        .await;

    // Start, with the details open.
    tab.click("#start-details summary").await;
    tab.wait_visible("#mandated-reporting").await;
    no_english(&tab, &needles, "start").await;
    for (what, text) in [
        ("emergency", &own.emergency),
        ("mandated reporting", &own.mandated_reporting),
        ("hotline text", &own.hotline_text),
    ] {
        tab.wait_text("main", text).await;
        assert!(!text.is_empty(), "{what}");
    }
    assert_eq!(tab.eval::<String>("document.title").await, own.page_title);

    // Nobody available: the offline screen.
    tab.click("#start").await;
    tab.wait_visible("#screen-offline").await;
    tab.wait_text("#screen-offline", &own.offline_note).await;
    no_english(&tab, &needles, "offline").await;

    // Queued, then chatting with the advocate typing.
    let mut advocate = crate::available_advocate(&app, "sam").await;
    tab.click("#retry-chat").await;
    tab.wait_visible("#queue-info").await;
    no_english(&tab, &needles, "queued").await;
    let chat_id = crate::claim_waiting(&mut advocate).await;
    common::send(
        &mut advocate,
        json!({"type": "message", "chat_id": chat_id, "id": "a-1", "text": "Hola"}),
    )
    .await;
    common::send(
        &mut advocate,
        json!({"type": "typing", "chat_id": chat_id, "on": true}),
    )
    .await;
    tab.wait_visible("#typing").await;
    tab.type_into("#message", "hola").await;
    tab.press(crate::harness::Key::Enter).await;
    tab.wait(
        "document.querySelector('#log [data-from=chatter]')?.dataset.state === 'sent'",
        "sent",
    )
    .await;
    no_english(&tab, &needles, "chatting").await;

    // A second Escape-to-exit hint while typing.
    tab.type_into("#message", "borrador").await;
    tab.press(crate::harness::Key::Escape).await;
    tab.wait_visible("#notice").await;
    no_english(&tab, &needles, "Escape hint").await;

    // Back on the page later: the resume screen.
    tab.goto(&app.url("/healthz")).await;
    tab.back().await;
    tab.wait_visible("#screen-resume").await;
    no_english(&tab, &needles, "resume").await;
    tab.click("#resume-continue").await;
    tab.wait_text("#log", "Hola").await;

    // Ending: the confirmation, then the ended screen.
    tab.click("#end-chat").await;
    tab.wait_visible("#confirm-end").await;
    no_english(&tab, &needles, "confirm end").await;
    tab.click("#confirm-end-yes").await;
    tab.wait_visible("#screen-ended").await;
    no_english(&tab, &needles, "ended").await;
    chrome.close().await;
    app.shutdown.trigger();
}
