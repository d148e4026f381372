//! Issue 8: each attack on loopback, bounded in time. The attacker connects from 127.0.0.2 and
//! the real people from 127.0.0.1, so that they are different clients to Haven (as they would
//! be on the internet). During every attack a real chatter is queued and joined, an advocate
//! logs in and chats, and `/healthz` answers within 100 ms.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use haven::{Application, Config, Role};
use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};
use tokio_tungstenite::{
    tungstenite::{
        protocol::frame::{
            coding::{Data, OpCode},
            Frame,
        },
        Error as WsError, Message,
    },
    MaybeTlsStream,
};

use crate::common::{spawn_app, spawn_app_with, test_config, TestApp, Ws};
use crate::support::*;

/// The attacker's address: another loopback address, another client.
const ATTACKER: &str = "127.0.0.2";

/// Haven on a random port with `tweak`, and its `/metrics` listener on another.
async fn spawn_with_metrics(tweak: impl FnOnce(&mut Config)) -> (TestApp, u16) {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(data_dir.path());
    config.protection.metrics_bind = "127.0.0.1:0".into();
    tweak(&mut config);
    let app = Application::build(config).await.expect("server starts");
    let port = app.port();
    let metrics_port = app.metrics_port().expect("metrics listener");
    let shutdown = app.shutdown_handle();
    let task = tokio::spawn(async move {
        app.run_until_stopped().await.expect("server runs");
    });
    let app = TestApp {
        port,
        addr: format!("127.0.0.1:{port}"),
        data_dir,
        shutdown,
        task,
    };
    (app, metrics_port)
}

async fn tcp_from(app: &TestApp, source: &str) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(format!("{source}:0").parse().unwrap())?;
    socket.connect(app.addr.parse().unwrap()).await
}

/// A chatter WebSocket from `source`, or the HTTP status that refused it.
async fn ws_from(app: &TestApp, source: &str) -> Result<Ws, u16> {
    let tcp = tcp_from(app, source).await.map_err(|_| 0u16)?;
    match tokio_tungstenite::client_async(
        format!("ws://{}/ws/chat", app.addr),
        MaybeTlsStream::Plain(tcp),
    )
    .await
    {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(response)) => Err(response.status().as_u16()),
        Err(_) => Err(0),
    }
}

async fn attacker_socket(app: &TestApp, name: &str) -> Client {
    let ws = ws_from(app, ATTACKER)
        .await
        .unwrap_or_else(|status| panic!("{name}: upgrade refused ({status})"));
    Client::new(name, ws)
}

/// `/healthz` answers 200 within 100 ms. The machine running the tests is shared with other
/// builds, so a slow answer is retried twice before it counts as a failure.
async fn healthz_is_fast(app: &TestApp) {
    let client = http();
    let mut slowest = Duration::ZERO;
    for _ in 0..3 {
        let started = Instant::now();
        let response = client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("healthz");
        let took = started.elapsed();
        assert_eq!(response.status(), 200);
        if took < Duration::from_millis(100) {
            return;
        }
        slowest = slowest.max(took);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("/healthz took {slowest:?} three times in a row");
}

/// The service still works for real people: health, an advocate logging in, a chatter queued,
/// claimed, and a message each way.
async fn real_people_are_served(app: &TestApp, round: &str) {
    healthz_is_fast(app).await;
    let mut sam =
        available_advocate(app, &format!("login-{round}"), &format!("Advocate {round}")).await;
    let (mut chatter, chat_id) =
        claimed_chat(app, &mut sam, &format!("real chatter {round}")).await;
    exchange(&mut chatter, &mut sam, &chat_id, round).await;
    sam.end(&chat_id).await;
}

/// Whether the server closed this raw connection (EOF or reset) within `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

async fn metrics_text(port: u16) -> String {
    http()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .unwrap()
}

/// The value of a metric line such as `haven_rejected_total{reason="hello_timeout"} 3`.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
}

#[tokio::test]
async fn silent_connections_and_slow_loris_are_closed_and_others_served() {
    let (app, metrics_port) = spawn_with_metrics(|c| {
        c.protection.header_read_timeout_secs = 1;
        c.protection.max_connections_per_client = 100;
    })
    .await;
    // 150 silent connections and 50 that dribble a header, from one client.
    let mut silent = Vec::new();
    for _ in 0..150 {
        if let Ok(stream) = tcp_from(&app, ATTACKER).await {
            silent.push(stream);
        }
    }
    let mut loris = Vec::new();
    for _ in 0..50 {
        if let Ok(mut stream) = tcp_from(&app, ATTACKER).await {
            let _ = stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                .await;
            loris.push(stream);
        }
    }
    let dribble = tokio::spawn(async move {
        for _ in 0..20 {
            for stream in loris.iter_mut() {
                let _ = stream.write_all(b"X-Slow: 1\r\n").await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        loris
    });
    real_people_are_served(&app, "loris").await;
    let mut loris = dribble.await.unwrap();
    // Beyond the client's 100 connections they were refused at once; the rest were closed
    // after the 1 s header-read timeout, however slowly they kept writing.
    for stream in silent.iter_mut().chain(loris.iter_mut()) {
        assert!(
            closed_within(stream, Duration::from_secs(5)).await,
            "a silent or slow-loris connection is still open"
        );
    }
    let text = metrics_text(metrics_port).await;
    assert!(
        metric(
            &text,
            r#"haven_rejected_total{reason="connections_per_client"}"#
        ) >= 100.0,
        "{text}"
    );
    healthz_is_fast(&app).await;
}

#[tokio::test]
async fn sockets_that_never_say_hello_are_closed() {
    let app = spawn_app_with(|c| c.protection.hello_timeout_secs = 1).await;
    let mut idle = Vec::new();
    for i in 0..20 {
        idle.push(attacker_socket(&app, &format!("idle {i}")).await);
    }
    real_people_are_served(&app, "idle").await;
    for socket in idle.iter_mut() {
        // Reading answers the server's pings: the socket is alive, it just never starts.
        let ending = socket.ended(WAIT).await;
        match ending {
            Ending::Close(Some((1008, reason))) => assert_eq!(reason, "hello_timeout"),
            other => panic!("expected close 1008 hello_timeout, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn dropped_hellos_do_not_fill_the_queue() {
    let app = spawn_app_with(|c| {
        c.chat.max_waiting = 10;
        c.protection.waiting_grace_secs = 1;
    })
    .await;
    let mut sam = available_advocate(&app, "login-filler-1", "Advocate Sam").await;
    // 30 hellos whose sockets drop at once: more than every waiting place.
    for i in 0..30 {
        let mut bot = attacker_socket(&app, &format!("bot {i}")).await;
        bot.send(json!({"type": "hello"})).await;
        bot.expect("welcome").await;
        drop(bot.into_inner());
    }
    // A real chatter arriving right away is queued (dropped waiters do not count) and joined.
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "real chatter").await;
    exchange(&mut chatter, &mut sam, &chat_id, "after-fill").await;
    // After the short grace the dropped hellos are gone from the queue.
    sam.client
        .until_within(Duration::from_secs(5), "an empty queue", |f| {
            f["type"] == "queue" && f["entries"].as_array().is_some_and(Vec::is_empty)
        })
        .await;
    real_people_are_served(&app, "fill").await;
}

#[tokio::test]
async fn a_hello_without_the_pages_next_frame_loses_its_place() {
    let app = spawn_app_with(|c| c.protection.followup_timeout_secs = 1).await;
    let mut sam = available_advocate(&app, "login-quiet-2", "Advocate Sam").await;
    let mut bot = attacker_socket(&app, "quiet bot").await;
    bot.send(json!({"type": "hello", "intake": {"tag": "quiet-bot"}}))
        .await;
    bot.expect("welcome").await;
    sam.client.queue_entry_tagged("quiet-bot").await;
    match bot.ended(WAIT).await {
        Ending::Close(Some((1008, reason))) => assert_eq!(reason, "abandoned"),
        other => panic!("expected close 1008 abandoned, got {other:?}"),
    }
    sam.client
        .until("the queue without the bot", |f| {
            f["type"] == "queue" && f["entries"].as_array().is_some_and(Vec::is_empty)
        })
        .await;
    // A page that pings after its hello keeps its place past the follow-up time.
    let (mut real, tag) = tagged_hello(&app, "real").await;
    real.client.expect("queued").await;
    real.client.send(json!({"type": "ping"})).await;
    real.client.expect("pong").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let chat_id = sam.chat_id_tagged(&tag).await;
    sam.claim(&chat_id).await;
    real.client.expect("joined").await;
}

#[tokio::test]
async fn one_client_gets_its_share_of_sockets_and_new_chats() {
    let app = spawn_app_with(|c| {
        c.protection.max_sockets_per_client = 3;
        c.protection.new_chats_per_client_per_minute = 3;
    })
    .await;
    let _sam = available_advocate(&app, "login-share-3", "Advocate Sam").await;
    let mut sockets = Vec::new();
    for i in 0..3 {
        sockets.push(attacker_socket(&app, &format!("socket {i}")).await);
    }
    let refused = ws_from(&app, ATTACKER).await.err();
    assert_eq!(
        refused,
        Some(503),
        "a fourth socket from one client is refused"
    );
    // New chats: three, then `offline` with reason `busy` (and the hotline contacts).
    let bot = &mut sockets[0];
    for _ in 0..3 {
        bot.send(json!({"type": "hello"})).await;
        bot.expect("welcome").await;
        bot.send(json!({"type": "leave"})).await;
        bot.expect("ended").await;
    }
    bot.send(json!({"type": "hello"})).await;
    let offline = bot.expect("offline").await;
    assert_eq!(offline["reason"], "busy", "{offline}");
    assert!(offline["contacts"]["phone"].is_string(), "{offline}");
    // Someone else is not affected by that client's limits.
    real_people_are_served(&app, "share").await;
    // A socket that closes gives its place back.
    drop(sockets.pop().unwrap().into_inner());
    let deadline = Instant::now() + WAIT;
    while ws_from(&app, ATTACKER).await.is_err() {
        assert!(Instant::now() < deadline, "no socket back after one closed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_ping_flood_is_closed_and_others_served() {
    let app = spawn_app().await;
    let mut ws = ws_from(&app, ATTACKER).await.expect("upgrade");
    let started = Instant::now();
    // WebSocket-level pings, sent without reading: each costs a rate-limit token.
    let mut sent = 0;
    for _ in 0..5000 {
        if ws.send(Message::Ping(vec![1, 2, 3].into())).await.is_err() {
            break;
        }
        sent += 1;
    }
    let mut code = None;
    while let Ok(Some(message)) = tokio::time::timeout(WAIT, ws.next()).await {
        match message {
            Ok(Message::Close(Some(frame))) => {
                code = Some(u16::from(frame.code));
                break;
            }
            Ok(_) => continue,
            Err(e) => {
                panic!("the flood ended without a readable close frame: {e} after {sent} pings")
            }
        }
    }
    assert_eq!(code, Some(1008), "a ping flood closes with 1008");
    assert!(
        started.elapsed() < WAIT,
        "closed in {:?}",
        started.elapsed()
    );
    real_people_are_served(&app, "pings").await;
}

#[tokio::test]
async fn oversized_and_non_utf8_frames_get_readable_close_codes() {
    let app = spawn_app().await;
    // A frame over `limits.ws_max_message_bytes`, sent in full: the client reads 1009.
    let mut big = ws_from(&app, ATTACKER).await.expect("upgrade");
    let _ = big.send(Message::text("x".repeat(200_000))).await;
    let mut ending = Client::new("oversized", big);
    match ending.ended(WAIT).await {
        Ending::Close(Some((1009, reason))) => assert_eq!(reason, "frame_too_large"),
        other => panic!("expected a readable close 1009, got {other:?}"),
    }
    // A text frame that is not UTF-8: 1007 (RFC 6455 §8.1).
    let mut bad = ws_from(&app, ATTACKER).await.expect("upgrade");
    let frame = Frame::message(vec![0xC3, 0x28, 0xFF], OpCode::Data(Data::Text), true);
    bad.send(Message::Frame(frame)).await.expect("send");
    match Client::new("not utf-8", bad).ended(WAIT).await {
        Ending::Close(Some((1007, _))) => {}
        other => panic!("expected close 1007, got {other:?}"),
    }
    real_people_are_served(&app, "frames").await;
}

#[tokio::test]
async fn a_rate_limited_message_is_named_with_a_retry_delay() {
    let app = spawn_app_with(|c| {
        c.limits.rate_burst = 3;
        c.limits.rate_per_sec = 2;
    })
    .await;
    let mut sam = available_advocate(&app, "login-retry-4", "Advocate Sam").await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "fast typist").await;
    for i in 0..6 {
        chatter
            .client
            .send(json!({"type": "message", "id": format!("m-{i}"), "text": "hi"}))
            .await;
    }
    // Every dropped message is named, with when to try again.
    let mut dropped = Vec::new();
    while let Some(frame) = chatter.client.try_next(Duration::from_secs(1)).await {
        if frame["type"] == "error" {
            assert_eq!(frame["code"], "rate_limited", "{frame}");
            let retry = frame["retry_after_ms"].as_u64().expect("retry_after_ms");
            assert!((1..=1000).contains(&retry), "{frame}");
            dropped.push(frame["id"].as_str().expect("the message id").to_string());
        }
    }
    assert!(
        !dropped.is_empty(),
        "six frames at once exceed a burst of three"
    );
    // Re-sent at the advertised pace, each is stored once and reaches the advocate.
    for id in &dropped {
        tokio::time::sleep(Duration::from_millis(600)).await;
        chatter
            .client
            .send(json!({"type": "message", "id": id, "text": format!("again {id}")}))
            .await;
        chatter
            .client
            .until("the ack of the re-sent message", |f| {
                f["type"] == "ack" && f["id"] == id.as_str()
            })
            .await;
        sam.hears(&chat_id, &format!("again {id}")).await;
    }
}

#[tokio::test]
async fn memory_stays_within_the_budget_closed_chats_go_first_then_busy() {
    let budget = 150_000;
    let (app, metrics_port) = spawn_with_metrics(|c| {
        c.chat.max_transcript_bytes = 65_536;
        c.protection.transcript_memory_budget_bytes = budget;
        c.limits.rate_burst = 100;
    })
    .await;
    let mut sam = available_advocate(&app, "login-budget-5", "Advocate Sam").await;
    let line = "w".repeat(4000);
    // Fills a claimed chat with 60 KB from the chatter.
    async fn fill(chatter: &mut Chatter, line: &str, tag: &str) {
        for i in 0..15 {
            chatter.say(&format!("{tag}-{i}"), line).await;
        }
    }
    let (mut a, chat_a) = claimed_chat(&app, &mut sam, "chatter a").await;
    fill(&mut a, &line, "a").await;
    sam.end(&chat_a).await;
    let (mut b, chat_b) = claimed_chat(&app, &mut sam, "chatter b").await;
    fill(&mut b, &line, "b").await;
    sam.end(&chat_b).await;
    // Two closed chats (120 KB): a third chat needs room for a full transcript, so the
    // oldest closed chat is purged early; its token no longer resumes.
    let (mut c, chat_c) = claimed_chat(&app, &mut sam, "chatter c").await;
    let mut again = chatter_socket(&app, "a again").await;
    again
        .send(json!({"type": "resume", "token": a.token, "last_seq": 0}))
        .await;
    again.expect_error("chat_purged").await;
    fill(&mut c, &line, "c").await;
    let (mut d, _chat_d) = claimed_chat(&app, &mut sam, "chatter d").await;
    fill(&mut d, &line, "d").await;
    // Two live chats fill the budget: a new chat is refused with `busy`, the live ones go on.
    let mut e = chatter_socket(&app, "chatter e").await;
    e.send(json!({"type": "hello"})).await;
    assert_eq!(e.expect("offline").await["reason"], "busy");
    c.say("c-still", "still here").await;
    sam.hears(&chat_c, "still here").await;
    let text = metrics_text(metrics_port).await;
    assert!(
        metric(&text, "haven_transcript_bytes") <= budget as f64,
        "{text}"
    );
    assert!(metric(&text, "haven_chats_purged_total") >= 2.0, "{text}");
    assert_eq!(
        metric(&text, r#"haven_rejected_total{reason="memory_budget"}"#),
        1.0,
        "{text}"
    );
}

#[tokio::test]
async fn metrics_count_and_never_identify() {
    let (app, metrics_port) = spawn_with_metrics(|c| c.protection.hello_timeout_secs = 1).await;
    let name = canary("advocate-name");
    let mut sam = available_advocate(&app, "login-metrics-6", &name).await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "chatter").await;
    let secret = canary("message");
    chatter.say("m-1", &secret).await;
    sam.hears(&chat_id, &secret).await;
    let mut idle = attacker_socket(&app, "idle").await;
    idle.ended(WAIT).await;
    let text = metrics_text(metrics_port).await;
    assert_eq!(metric(&text, "haven_chats_active"), 1.0, "{text}");
    assert!(metric(&text, "haven_chatter_sockets") >= 1.0, "{text}");
    assert!(metric(&text, "haven_resident_memory_bytes") > 1e6, "{text}");
    assert!(
        metric(&text, r#"haven_rejected_total{reason="hello_timeout"}"#) >= 1.0,
        "{text}"
    );
    for private in [
        name.as_str(),
        secret.as_str(),
        chatter.token.as_str(),
        chat_id.as_str(),
        "127.0.0.",
        "login-metrics",
    ] {
        assert!(!text.contains(private), "metrics hold {private}:\n{text}");
    }
    // Only the separate address serves them.
    let main = http().get(app.url("/metrics")).send().await.unwrap();
    assert_ne!(main.status(), 200);
}

/// A console that Haven closes itself (logout ends its session) is counted out of the open
/// sockets: its writer finishes first, and the connection's bookkeeping still runs.
#[tokio::test]
async fn a_console_closed_by_haven_leaves_the_open_socket_gauges() {
    let (app, metrics_port) = spawn_with_metrics(|_| {}).await;
    let mut sam = staff(&app, "login-gauge-7", "Advocate Sam", Role::Advocate).await;
    let text = metrics_text(metrics_port).await;
    assert_eq!(metric(&text, "haven_console_sockets"), 1.0, "{text}");
    assert_eq!(logout(&app, &sam.cookie).await.status(), 204);
    sam.client.expect_error("session_expired").await;
    assert_eq!(sam.client.ended(WAIT).await.code(), Some(4001));
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let text = metrics_text(metrics_port).await;
        if metric(&text, "haven_console_sockets") == 0.0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed console is still counted:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_trusted_proxy_header_counts_only_from_the_proxy() {
    let app = spawn_app_with(|c| {
        c.protection.max_sockets_per_client = 1;
        c.protection.trusted_proxies = vec!["127.0.0.2".parse().unwrap()];
    })
    .await;
    let url = format!("ws://{}/ws/chat", app.addr);
    // Through the proxy (127.0.0.2), two clients by the header are two clients.
    let via = |client: &'static str| {
        let app_addr = app.addr.clone();
        async move {
            let tcp = TcpSocket::new_v4().unwrap();
            tcp.bind(format!("{ATTACKER}:0").parse().unwrap()).unwrap();
            let tcp = tcp.connect(app_addr.parse().unwrap()).await.unwrap();
            let mut request =
                tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                    format!("ws://{app_addr}/ws/chat"),
                )
                .unwrap();
            request
                .headers_mut()
                .insert("x-forwarded-for", client.parse().unwrap());
            tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(tcp)).await
        }
    };
    let _one = via("198.51.100.1")
        .await
        .expect("first client via the proxy");
    let _two = via("198.51.100.2")
        .await
        .expect("second client via the proxy");
    assert!(via("198.51.100.1").await.is_err(), "same client twice");
    // Directly (127.0.0.1, not a proxy), the header is ignored: the peer is the client.
    let _direct = upgrade(&url, &[("x-forwarded-for", "198.51.100.9")]).await;
    let (status, _) = refused_upgrade(&url, &[("x-forwarded-for", "198.51.100.10")]).await;
    assert_eq!(status, 503);
}
