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
    for reason in ["no_advocates", "outside_hours", "queue_full"] {
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
async fn spanish_tab(chrome: &Chrome) -> crate::harness::Tab {
    let tab = chrome.new_context().await;
    let agent: String = tab.eval("navigator.userAgent").await;
    tab.page
        .execute(
            SetUserAgentOverrideParams::builder()
                .user_agent(agent)
                .accept_language("es-MX,es;q=0.9")
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
        json!({"type": "transfer", "chat_id": chat_id, "to_queue": "referrals"}),
    )
    .await;
    tab.wait_text("#log", "Le estamos transfiriendo a otro equipo")
        .await;
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
