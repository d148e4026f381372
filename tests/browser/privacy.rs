//! Traceless: through a whole chat the chatter page asks nothing of any origin but Haven's own
//! (every request and WebSocket the browser made is recorded from its network events), sets no
//! cookie and uses no localStorage or IndexedDB; its pages carry the headers that keep them out
//! of caches and other sites.

use std::sync::{Arc, Mutex};

use chromiumoxide::cdp::browser_protocol::network::{
    EventRequestWillBeSent, EventWebSocketCreated, GetCookiesParams,
};
use futures_util::StreamExt;
use serde_json::json;

use crate::{
    common::{self, next_of_type, send},
    harness::{chromium_available, Chrome, Key},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chatter_page_talks_only_to_haven_and_stores_nothing_but_the_token() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app().await;
    let origin = app.url("");
    let chrome = Chrome::launch().await;
    let tab = chrome.new_context().await;

    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut requests = tab
        .page
        .event_listener::<EventRequestWillBeSent>()
        .await
        .expect("request events");
    let mut sockets = tab
        .page
        .event_listener::<EventWebSocketCreated>()
        .await
        .expect("websocket events");
    let (s1, s2) = (seen.clone(), seen.clone());
    let collect_requests = tokio::spawn(async move {
        while let Some(event) = requests.next().await {
            s1.lock().unwrap().push(event.request.url.clone());
        }
    });
    let collect_sockets = tokio::spawn(async move {
        while let Some(event) = sockets.next().await {
            s2.lock().unwrap().push(event.url.clone());
        }
    });

    // A whole chat, the advocate on a plain WebSocket client.
    let mut advocate = app.advocate("sam").await;
    send(&mut advocate, json!({"type": "status", "available": true})).await;
    tab.goto(&app.url("/chat")).await;
    tab.click("#start").await;
    tab.wait_visible("#queue-info").await;
    let queue = loop {
        let frame = next_of_type(&mut advocate, "queue").await;
        if frame["entries"].as_array().is_some_and(|e| !e.is_empty()) {
            break frame;
        }
    };
    let chat_id = queue["entries"][0]["chat_id"].as_str().unwrap().to_string();
    send(&mut advocate, json!({"type": "claim", "chat_id": chat_id})).await;
    next_of_type(&mut advocate, "assigned").await;
    send(&mut advocate, json!({"type": "message", "chat_id": chat_id, "id": "a-1", "text": "Hello from the advocate"})).await;
    tab.wait_text("#log", "Hello from the advocate").await;
    tab.type_into("#message", "Hello from the chatter").await;
    tab.press(Key::Enter).await;
    let line = crate::next_message_with(&mut advocate, "Hello from the chatter").await;
    assert_eq!(line["from"], "chatter");
    // Switch language too: the strings come from Haven as well.
    let _: bool = tab
        .eval("(() => { const s = document.getElementById('language'); s.value = 'es'; s.dispatchEvent(new Event('change')); return true; })()")
        .await;
    tab.wait_text("#send", "Enviar").await;
    assert_eq!(
        tab.eval::<String>("document.documentElement.lang").await,
        "es"
    );

    // Storage: only the resume token, only in sessionStorage.
    let keys: Vec<String> = tab.eval("Object.keys(sessionStorage)").await;
    assert_eq!(keys, vec!["haven_token".to_string()]);
    assert_eq!(tab.eval::<i64>("localStorage.length").await, 0);
    let databases: Vec<serde_json::Value> = tab.eval("indexedDB.databases()").await;
    assert!(databases.is_empty(), "no IndexedDB: {databases:?}");
    assert_eq!(tab.eval::<String>("document.cookie").await, "");
    let cookies = tab
        .page
        .execute(GetCookiesParams::builder().urls(vec![app.url("/")]).build())
        .await
        .expect("cookies")
        .result
        .cookies;
    assert!(
        cookies.is_empty(),
        "the chatter page sets no cookie: {cookies:?}"
    );

    collect_requests.abort();
    collect_sockets.abort();
    let seen = seen.lock().unwrap().clone();
    let ws_origin = origin.replacen("http://", "ws://", 1);
    assert!(
        seen.iter()
            .any(|u| u.starts_with(&format!("{ws_origin}/ws/chat"))),
        "the chat socket was recorded: {seen:?}"
    );
    assert!(
        seen.iter().any(|u| u.ends_with("/chat/chat.js")),
        "requests were recorded: {seen:?}"
    );
    let foreign: Vec<&String> = seen
        .iter()
        .filter(|u| {
            !(u.starts_with(&format!("{origin}/"))
                || u.starts_with(&format!("{ws_origin}/"))
                || u.starts_with("data:")
                || u.starts_with("about:"))
        })
        .collect();
    assert!(foreign.is_empty(), "requests to other origins: {foreign:?}");

    chrome.close().await;
    app.shutdown.trigger();
}

#[tokio::test]
async fn chatter_page_headers_keep_it_out_of_caches_and_frames() {
    // No browser needed: what Haven sends with the chatter page and its files.
    let app = common::spawn_app_with(|c| {
        c.server.frame_ancestors = vec!["https://program.example".into()]
    })
    .await;
    let client = reqwest::Client::new();
    let mut total = 0usize;
    for path in [
        "/chat",
        "/chat/chat.js",
        "/chat/proof.js",
        "/chat/chat.css",
        "/chat/i18n/en.json",
        "/shared/socket.js",
        "/chat/forms.js",
        "/chat/forms.css",
    ] {
        let response = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        // The shared socket module is a script, which frame-ancestors does not govern.
        assert!(
            path.starts_with("/shared/")
                || csp.contains("frame-ancestors 'self' https://program.example"),
            "{path}: {csp}"
        );
        total += response.bytes().await.unwrap().len();
    }
    // The whole page (HTML + the scripts + CSS + the largest language file), with its voluntary
    // forms (forms.js, forms.css), stays under its 60 KB budget before compression.
    let en = total;
    for lang in ["es"] {
        let url = app.url(&format!("/chat/i18n/{lang}.json"));
        let other = client.get(url).send().await.unwrap().bytes().await.unwrap();
        let en_len = client
            .get(app.url("/chat/i18n/en.json"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .len();
        total = total.max(en - en_len + other.len());
    }
    eprintln!(
        "chatter page weight: {total} bytes (HTML+JS+socket.js+forms+CSS+largest language file, uncompressed)"
    );
    assert!(total < 60 * 1024, "chatter page weighs {total} bytes");

    let console = client.get(app.url("/console")).send().await.unwrap();
    let csp = console.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "the console is never framed: {csp}"
    );

    // No inline script or style anywhere in the pages (the CSP would block them).
    for path in ["/chat", "/console"] {
        let html = client
            .get(app.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!html.contains("<style"), "{path} has no inline <style>");
        assert!(!html.contains(" style="), "{path} has no style attribute");
        let handler = html.match_indices(" on").any(|(i, _)| {
            let rest = &html[i + 3..];
            let name = rest.chars().take_while(char::is_ascii_alphabetic).count();
            name > 0 && rest[name..].starts_with('=')
        });
        assert!(!handler, "{path} has no inline on* handler");
        for script in html.split("<script").skip(1) {
            assert!(
                script.contains(" src=\""),
                "{path}: every <script> loads a file"
            );
        }
    }
    app.shutdown.trigger();
}
