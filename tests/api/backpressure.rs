//! A client that does not read is dropped; it never stalls the hub or the other chats. Idle
//! sockets are closed.

use std::time::Duration;

use serde_json::json;
use tokio_tungstenite::{
    tungstenite::{client::IntoClientRequest, http::HeaderValue},
    MaybeTlsStream,
};

use crate::common::{spawn_app_with, TestApp, Ws};
use crate::support::*;

const BIG: usize = 32 * 1024;

fn flood_config(c: &mut haven::Config) {
    c.limits.outbound_queue_frames = 4;
    c.chat.max_message_bytes = BIG;
    // Keep `assigned` (the whole history in one frame) well under the write buffer.
    c.chat.max_transcript_bytes = 2 * BIG;
    // Sending fast is the point here; the rate limit is tested elsewhere.
    c.limits.rate_burst = 1_000_000;
    c.limits.rate_per_sec = 1_000_000;
}

/// A WebSocket over a TCP socket with a tiny receive buffer, so that a client that stops reading
/// fills up quickly.
async fn tiny_socket(app: &TestApp, path: &str, cookie: Option<&str>) -> Ws {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket
        .connect(app.addr.parse().unwrap())
        .await
        .expect("tcp connect");
    let mut request = format!("ws://{}{path}", app.addr)
        .into_client_request()
        .unwrap();
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert("cookie", HeaderValue::from_str(cookie).unwrap());
    }
    let (ws, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream))
        .await
        .expect("upgrade");
    ws
}

/// Every 50th round of a flood: proof that the healthy chat still flows meanwhile.
async fn flows_now_and_then(
    round: usize,
    chatter: &mut Chatter,
    advocate: &mut Staff,
    chat_id: &str,
) {
    if round % 50 == 0 {
        exchange(chatter, advocate, chat_id, &format!("during-{round}")).await;
    }
}

/// The socket of a client that stopped reading ends (after whatever was already in flight);
/// if its close frame gets through, it is 1013 `slow_consumer`.
async fn ends_as_slow_consumer(client: &mut Client) {
    let ending = client.ended(Duration::from_secs(60)).await;
    if let Some(code) = ending.code() {
        assert_eq!(code, 1013, "slow_consumer closes with 1013: {ending:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chatter_who_stops_reading_is_dropped_and_other_chats_keep_flowing() {
    let app = spawn_app_with(flood_config).await;
    let mut sam = available_advocate(&app, "login-loon-100", "Advocate Sam").await;
    let mut alex = available_advocate(&app, "login-grebe-101", "Advocate Alex").await;

    // The slow chatter says hello and is claimed, then never reads again.
    let tag = format!("slow-{}", uuid::Uuid::new_v4().simple());
    let mut slow = Client::new("slow chatter", tiny_socket(&app, "/ws/chat", None).await);
    let token = say_hello(&mut slow, json!({"intake": {"tag": tag}})).await;
    slow.expect("queued").await;
    let slow_chat = sam.chat_id_tagged(&tag).await;
    sam.claim(&slow_chat).await;

    // A healthy chat with another advocate.
    let (mut healthy, healthy_chat) = claimed_chat(&app, &mut alex, "healthy chatter").await;

    // Flood the slow chatter until the hub gives up on them.
    let text = "x".repeat(BIG);
    let mut last_acked = 0;
    let mut dropped = false;
    for i in 0..1500 {
        last_acked = sam.say(&slow_chat, &format!("flood-{i}"), &text).await;
        if sam
            .client
            .seen
            .iter()
            .any(|f| f["type"] == "chatter_disconnected" && f["chat_id"] == slow_chat.as_str())
        {
            dropped = true;
            break;
        }
        flows_now_and_then(i, &mut healthy, &mut alex, &healthy_chat).await;
    }
    if !dropped {
        // The server may take a while to notice (a blocked write times out); it must notice.
        sam.client
            .until_within(
                Duration::from_secs(60),
                "`chatter_disconnected` of the slow chatter after ~48 MiB unread",
                |f| f["type"] == "chatter_disconnected" && f["chat_id"] == slow_chat.as_str(),
            )
            .await;
    }
    exchange(&mut healthy, &mut alex, &healthy_chat, "after-flood").await;

    // The slow chatter's socket ends (after whatever was already in flight).
    ends_as_slow_consumer(&mut slow).await;

    // And they may resume.
    let mut back = chatter_socket(&app, "resumed slow chatter").await;
    back.send(json!({"type": "resume", "token": token, "last_seq": last_acked}))
        .await;
    let welcome = back.expect("welcome").await;
    assert_eq!(welcome["resumed"], true, "{welcome}");
    sam.client.expect("chatter_reconnected").await;
    back.send(json!({"type": "message", "id": "c-back", "text": "back again"}))
        .await;
    back.until("ack", |f| f["type"] == "ack" && f["id"] == "c-back")
        .await;
    sam.hears(&slow_chat, "back again").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_that_stops_reading_is_dropped_and_other_chats_keep_flowing() {
    let app = spawn_app_with(flood_config).await;
    haven::store::Store::open(app.data_dir.path())
        .unwrap()
        .add_staff(
            "login-murre-102",
            "Advocate Slow",
            haven::Role::Advocate,
            PASSWORD,
        )
        .unwrap();
    let cookie = app.login("login-murre-102", PASSWORD).await;
    let mut slow = Client::new(
        "slow console",
        tiny_socket(&app, "/ws/console", Some(&cookie)).await,
    );
    slow.expect("welcome").await;
    slow.send(json!({"type": "status", "available": true}))
        .await;
    slow.until("status", |f| {
        f["type"] == "status" && f["available"] == true
    })
    .await;
    let (mut flooder, tag) = tagged_hello(&app, "flooding chatter").await;
    flooder.client.expect("queued").await;
    let chat_id = slow.queue_entry_tagged(&tag).await["chat_id"]
        .as_str()
        .unwrap()
        .to_string();
    slow.send(json!({"type": "claim", "chat_id": chat_id}))
        .await;
    slow.until("assigned", |f| f["type"] == "assigned").await;
    flooder.client.expect("joined").await;

    let mut alex = available_advocate(&app, "login-puffin-103", "Advocate Alex").await;
    let (mut healthy, healthy_chat) = claimed_chat(&app, &mut alex, "healthy chatter").await;

    // The chatter floods; the console never reads. Every ack must still come back.
    let text = "y".repeat(BIG);
    for i in 0..1000 {
        flooder.say(&format!("flood-{i}"), &text).await;
        flows_now_and_then(i, &mut healthy, &mut alex, &healthy_chat).await;
    }
    exchange(&mut healthy, &mut alex, &healthy_chat, "after-flood").await;

    // ~32 MiB later the console has been dropped: reading drains what was in flight, then ends.
    ends_as_slow_consumer(&mut slow).await;
    // The advocate can come back and has the chat.
    let ws = app.console(&cookie).await;
    let mut again = Client::new("console again", ws);
    again.expect("welcome").await;
    again
        .until("the chat back", |f| {
            f["type"] == "assigned" && f["chat_id"] == chat_id.as_str()
        })
        .await;
}

#[tokio::test]
async fn an_idle_socket_is_closed_but_a_live_one_is_kept() {
    let app = spawn_app_with(|c| c.limits.idle_timeout_secs = 2).await;
    let mut silent = chatter_socket(&app, "silent").await;
    let mut live = chatter_socket(&app, "live").await;
    // The live client reads (and so answers the server's pings) for three idle periods.
    let until = tokio::time::Instant::now() + Duration::from_secs(6);
    while tokio::time::Instant::now() < until {
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        if let Some(frame) = live.try_next(left).await {
            panic!("nothing was asked, yet the live client got {frame}");
        }
    }
    live.still_works().await;
    // The silent one neither read nor answered: it is gone. (Its close code, 1001, cannot
    // always be seen: reading first answers the queued pings, which may hit the closed socket.)
    let ending = silent.ended(WAIT).await;
    if let Some(code) = ending.code() {
        assert_eq!(code, 1001, "an idle socket closes with 1001: {ending:?}");
    }
}

#[tokio::test]
async fn chatter_connections_beyond_the_limit_are_refused_until_one_closes() {
    let app = spawn_app_with(|c| c.limits.max_chatter_connections = 2).await;
    let url = format!("ws://{}/ws/chat", app.addr);
    let mut first = chatter_socket(&app, "first").await;
    let mut second = chatter_socket(&app, "second").await;
    first.still_works().await;
    second.still_works().await;
    let (status, body) = refused_upgrade(&url, &[]).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "server_busy");
    // Staff consoles do not count against the chatter limit.
    let mut sam = staff(&app, "login-auk-104", "Advocate Sam", haven::Role::Advocate).await;
    sam.client.still_works().await;
    // When one chatter goes, there is room again (the server notices the close soon after).
    drop(first.into_inner());
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio_tungstenite::connect_async(url.as_str()).await {
            Ok((ws, _)) => {
                Client::new("third", ws).still_works().await;
                break;
            }
            Err(e) => assert!(
                tokio::time::Instant::now() < deadline,
                "no room after a chatter left: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
