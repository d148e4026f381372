//! Security headers on every response Haven writes, pages answering only GET and HEAD, and
//! origin checks that never trust the Host header.

use std::collections::HashMap;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{spawn_app, spawn_app_with, TestApp};

/// Sends `request` as raw bytes and returns the status and the lower-cased headers.
async fn raw(app: &TestApp, request: &str) -> (u16, HashMap<String, String>) {
    let mut stream = tokio::net::TcpStream::connect(&app.addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap_or(0);
        if read == 0 {
            break;
        }
        response.extend_from_slice(&buf[..read]);
        if response.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&response).to_string();
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers)
}

fn assert_security_headers(what: &str, headers: &HashMap<String, String>) {
    let csp = headers
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP in {headers:?}"));
    for directive in [
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors",
    ] {
        assert!(csp.contains(directive), "{what}: {directive} in {csp}");
    }
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-opener-policy", "same-origin"),
    ] {
        assert_eq!(
            headers.get(name).map(String::as_str),
            Some(value),
            "{what}: {name} in {headers:?}"
        );
    }
    assert!(
        headers.contains_key("permissions-policy"),
        "{what}: {headers:?}"
    );
    assert!(
        headers.contains_key("cross-origin-resource-policy"),
        "{what}: {headers:?}"
    );
}

fn get(app: &TestApp, path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\n{extra}Connection: close\r\n\r\n",
        app.addr
    )
}

#[tokio::test]
async fn every_kind_of_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    let (status, headers) = raw(&app, &get(&app, "/", "")).await;
    assert_eq!(status, 200);
    assert_security_headers("the chat page", &headers);
    assert_eq!(
        headers
            .get("cross-origin-resource-policy")
            .map(String::as_str),
        Some("same-origin")
    );
    assert!(
        !headers.contains_key("strict-transport-security"),
        "no HSTS over plain HTTP"
    );

    // The widget script is loaded by other sites: it alone may be used cross-origin.
    let (status, headers) = raw(&app, &get(&app, "/embed.js", "")).await;
    assert_eq!(status, 200);
    assert_eq!(
        headers
            .get("cross-origin-resource-policy")
            .map(String::as_str),
        Some("cross-origin")
    );

    let (status, headers) = raw(&app, &get(&app, "/no-such-page", "")).await;
    assert_eq!(status, 404);
    assert_security_headers("a 404", &headers);

    for method in ["PUT", "OPTIONS", "TRACE", "DELETE", "POST"] {
        let request = format!(
            "{method} / HTTP/1.1\r\nHost: {}\r\nOrigin: http://{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            app.addr, app.addr
        );
        let (status, headers) = raw(&app, &request).await;
        assert_eq!(status, 405, "{method} / answers 405, never the page");
        assert_eq!(
            headers.get("allow").map(String::as_str),
            Some("GET, HEAD"),
            "{method}"
        );
        assert_security_headers(&format!("{method} /"), &headers);
    }
    let head = format!(
        "HEAD / HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        app.addr
    );
    assert_eq!(raw(&app, &head).await.0, 200);

    // A refused upgrade (no session) and a cross-site one.
    let upgrade = |origin: &str| {
        get(
            &app,
            "/ws/console",
            &format!(
                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: {origin}\r\n"
            ),
        )
        .replacen("Connection: close\r\n", "", 1)
    };
    let (status, headers) = raw(&app, &upgrade(&format!("http://{}", app.addr))).await;
    assert_eq!(status, 401);
    assert_security_headers("a refused upgrade", &headers);
    let (status, headers) = raw(&app, &upgrade("http://evil.example")).await;
    assert_eq!(status, 403);
    assert_security_headers("a cross-site upgrade", &headers);
}

#[tokio::test]
async fn hypers_own_400_and_431_carry_the_security_headers_too() {
    let app = spawn_app().await;
    // Headers larger than hyper reads: it answers 431 without asking Haven's router.
    let huge = format!("X-Filler: {}\r\n", "a".repeat(500_000));
    let (status, headers) = raw(&app, &get(&app, "/", &huge)).await;
    assert_eq!(status, 431);
    assert_security_headers("hyper's 431", &headers);
    assert_eq!(
        headers.get("cache-control"),
        None,
        "the head is hyper's own, with Haven's lines added (no duplicate of a header): {headers:?}"
    );

    let (status, headers) = raw(&app, "NOT A REQUEST\r\n\r\n").await;
    assert_eq!(status, 400);
    assert_security_headers("hyper's 400", &headers);

    // A keep-alive connection whose second request is malformed: the first answer is Haven's
    // own (headers once), the second hyper's (headers added).
    let both = format!(
        "GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\nGARBAGE\r\n\r\n",
        app.addr
    );
    let mut stream = tokio::net::TcpStream::connect(&app.addr).await.unwrap();
    stream.write_all(both.as_bytes()).await.unwrap();
    let mut text = String::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_string(&mut text),
    )
    .await
    .expect("both answers")
    .ok();
    let answers: Vec<&str> = text.split("HTTP/1.1 ").skip(1).collect();
    assert_eq!(answers.len(), 2, "{text}");
    assert!(answers[0].starts_with("200"), "{text}");
    assert!(answers[1].starts_with("400"), "{text}");
    for answer in answers {
        assert_eq!(
            answer
                .to_ascii_lowercase()
                .matches("x-content-type-options")
                .count(),
            1,
            "each answer carries the headers once: {answer}"
        );
    }
}

#[tokio::test]
async fn a_host_spoofed_upgrade_is_refused_on_both_sockets() {
    let app = spawn_app().await;
    for path in ["/ws/chat", "/ws/console"] {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://evil.example\r\n\r\n"
        );
        let (status, headers) = raw(&app, &request).await;
        assert_eq!(status, 403, "{path}: the Host header proves nothing");
        assert_security_headers(path, &headers);
    }
    // Haven's own origin (server.public_origin) still opens the chat socket.
    let request = format!(
        "GET /ws/chat HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://{}\r\n\r\n",
        app.addr, app.addr
    );
    assert_eq!(raw(&app, &request).await.0, 101);
}

#[tokio::test]
async fn a_configured_public_origin_is_the_only_own_origin_and_https_brings_hsts() {
    let app = spawn_app_with(|c| c.server.public_origin = "https://chat.example.org".into()).await;
    let (status, headers) = raw(&app, &get(&app, "/", "")).await;
    assert_eq!(status, 200);
    assert!(
        headers
            .get("strict-transport-security")
            .is_some_and(|v| v.contains("max-age=")),
        "HSTS when served over https: {headers:?}"
    );
    let upgrade = |origin: &str| {
        format!(
            "GET /ws/chat HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: {origin}\r\n\r\n",
            app.addr
        )
    };
    assert_eq!(raw(&app, &upgrade("https://chat.example.org")).await.0, 101);
    // The bound address is no longer Haven's origin, whatever the Host header says.
    assert_eq!(
        raw(&app, &upgrade(&format!("http://{}", app.addr))).await.0,
        403
    );
}
