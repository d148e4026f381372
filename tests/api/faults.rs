//! Faults (issue 8): connections that come and go by the thousand, a client that stops reading,
//! a connection dropped in the middle of a frame. Nothing leaks and nobody else notices.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::common::spawn_app_with;
use crate::support::*;

/// Open file descriptors of a process.
pub fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Resident memory of a process, in bytes.
pub fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// One HTTP request on its own connection, read to the end.
async fn healthz_once(port: u16) {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).await.unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
}

/// A free port on loopback for a child's listener (closed again before the child binds it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The child's gauges named in `names`, summed, as its `/metrics` says.
pub async fn gauges(metrics_port: u16, names: &[&str]) -> i64 {
    let text = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .await
        .expect("metrics answer")
        .text()
        .await
        .unwrap();
    names
        .iter()
        .map(|name| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
                .and_then(|n| n.trim().parse::<i64>().ok())
                .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
        })
        .sum()
}

/// The runtime's alive tasks.
async fn alive_tasks(metrics_port: u16) -> i64 {
    gauges(metrics_port, &["haven_runtime_alive_tasks"]).await
}

/// Runs `rounds` connect/disconnect cycles of each socket kind against the binary.
async fn cycles(binary: &Binary, cookie: &str, rounds: usize) {
    let chat_url = binary.ws_url("/ws/chat");
    let console_url = binary.ws_url("/ws/console");
    for i in 0..rounds {
        // A chatter who starts a chat and vanishes.
        let mut chatter = Client::new("cycling chatter", upgrade(&chat_url, &[]).await);
        chatter.send(json!({"type": "hello"})).await;
        chatter.expect("welcome").await;
        drop(chatter.into_inner());
        // A chatter socket that never says anything.
        drop(upgrade(&chat_url, &[]).await);
        // A console that connects and goes.
        let mut console = Client::new(
            "cycling console",
            upgrade(&console_url, &[("cookie", cookie)]).await,
        );
        console.expect("welcome").await;
        drop(console.into_inner());
        // A plain HTTP request.
        healthz_once(binary.port).await;
        if i % 50 == 0 {
            tokio::task::yield_now().await;
        }
    }
}

/// Logs in over HTTP; no client timeout: a password check in a debug build on a busy machine
/// takes a while.
pub async fn login(binary: &Binary, username: &str) -> String {
    let response = reqwest::Client::new()
        .post(binary.url("/api/staff/login"))
        .header("origin", binary.url(""))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    if response.status() != 200 {
        panic!(
            "login of {username}: {} {:?}",
            response.status(),
            response.text().await
        );
    }
    session_cookie(&response)
}

#[tokio::test]
async fn a_thousand_connect_disconnect_cycles_leave_no_tasks_descriptors_or_memory_behind() {
    let metrics_port = free_port();
    let (dir, config_path) = config_dir(
        "",
        &format!(
            "[chat]\nretention_after_close_secs = 1\npurge_interval_secs = 1\n\n\
             [protection]\nwaiting_grace_secs = 1\nnew_chats_per_client_per_minute = 100000\n\
             metrics_bind = \"127.0.0.1:{metrics_port}\"\n"
        ),
        "info",
    );
    staff_add(
        &config_path,
        "login-cycle-1",
        "advocate",
        "Advocate Sam",
        PASSWORD,
    );
    staff_add(
        &config_path,
        "login-cycle-2",
        "advocate",
        "Advocate Alex",
        PASSWORD,
    );
    let binary = Binary::serve(dir, config_path, &[]);
    let pid = binary.child.id();
    let cookie = login(&binary, "login-cycle-1").await;
    // Another staff member's console comes and goes (the same person's would replace Sam's).
    let cycling_cookie = login(&binary, "login-cycle-2").await;
    // An advocate on duty, so that every hello creates a chat.
    let ws = upgrade(&binary.ws_url("/ws/console"), &[("cookie", &cookie)]).await;
    let mut sam = Client::new("advocate on duty", ws);
    sam.expect("welcome").await;
    sam.send(json!({"type": "status", "available": true})).await;

    // Warm up (allocator arenas, the runtime's threads), then measure.
    cycles(&binary, &cycling_cookie, 25).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (fds_before, rss_before) = (fds(pid), rss(pid));
    let tasks_before = alive_tasks(metrics_port).await;
    assert!(tasks_before > 0, "the runtime counts its own tasks");

    // 250 rounds × 4 kinds = 1,000 connect/disconnect cycles.
    cycles(&binary, &cycling_cookie, 250).await;

    // Every socket closes, every dropped chat expires and is purged.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        sam.send(json!({"type": "ping"})).await;
        sam.until("pong", |f| f["type"] == "pong").await;
        let open = fds(pid);
        if open <= fds_before + 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "descriptors grew from {fds_before} to {open} after 1,000 cycles"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after = rss(pid);
    let tasks_after = alive_tasks(metrics_port).await;
    eprintln!(
        "1,000 cycles: fds {fds_before} → {}, RSS {rss_before} → {rss_after}, \
         tasks {tasks_before} → {tasks_after}",
        fds(pid)
    );
    assert!(
        tasks_after <= tasks_before + 3,
        "alive tasks grew from {tasks_before} to {tasks_after}"
    );
    assert!(
        rss_after < rss_before + 8 * 1024 * 1024,
        "resident memory grew from {rss_before} to {rss_after} bytes"
    );
    let output = binary.output();
    assert!(!output.contains("panicked"), "{output}");
}

#[tokio::test]
async fn a_chatter_who_stops_reading_is_dropped_and_both_sides_learn_what_was_lost() {
    let app = spawn_app_with(|c| {
        c.limits.rate_burst = 10_000;
        c.limits.rate_per_sec = 10_000;
        c.chat.max_transcript_bytes = 65_536;
    })
    .await;
    let mut sam = available_advocate(&app, "login-stall-2", "Advocate Sam").await;
    let (chatter, chat_id) = claimed_chat(&app, &mut sam, "stalled phone").await;
    let token = chatter.token.clone();
    // The chatter's page freezes: its socket is kept open but never read again.
    let frozen = chatter.client.into_inner();
    let text = "s".repeat(4000);
    let started = Instant::now();
    let mut told = None;
    // Bursts of 20 lines, each burst's acks read before the next: the advocate keeps reading.
    'flood: for burst in 0..150 {
        for i in 0..20 {
            sam.client
                .send(json!({"type": "message", "chat_id": chat_id, "id": format!("a-{burst}-{i}"), "text": text}))
                .await;
        }
        for i in 0..20 {
            let id = format!("a-{burst}-{i}");
            sam.client
                .until("an ack", |f| f["type"] == "ack" && f["id"] == id.as_str())
                .await;
        }
        if sam
            .client
            .seen
            .iter()
            .any(|f| f["type"] == "chatter_disconnected" && f["chat_id"] == chat_id.as_str())
        {
            told = Some(started.elapsed());
            break 'flood;
        }
    }
    let told = told.expect("the advocate is told that the chatter's connection stalled");
    eprintln!("stalled chatter noticed after {told:?} of writing");
    // The advocate was told that older lines no longer fit the transcript.
    assert!(
        sam.client
            .seen
            .iter()
            .any(|f| f["type"] == "message" && f["key"] == "lines_dropped"),
        "the advocate is told lines were dropped"
    );
    drop(frozen);
    // The chatter comes back from the start: what no longer exists is said, not hidden.
    let mut back = chatter_socket(&app, "back").await;
    back.send(json!({"type": "resume", "token": token, "last_seq": 0}))
        .await;
    back.expect("welcome").await;
    back.until("a lines_dropped note", |f| {
        f["type"] == "message" && f["key"] == "lines_dropped"
    })
    .await;
    sam.client
        .until("chatter_reconnected", |f| {
            f["type"] == "chatter_reconnected"
        })
        .await;
    exchange(
        &mut Chatter {
            client: back,
            token: String::new(),
        },
        &mut sam,
        &chat_id,
        "after-stall",
    )
    .await;
}

#[tokio::test]
async fn a_connection_dropped_mid_frame_disturbs_nobody() {
    let app = spawn_app_with(|_| {}).await;
    let mut sam = available_advocate(&app, "login-midframe-3", "Advocate Sam").await;
    let (mut healthy, healthy_chat) = claimed_chat(&app, &mut sam, "healthy").await;
    let (broken, broken_chat) = claimed_chat(&app, &mut sam, "broken").await;
    let mut ws = broken.client.into_inner();
    // Half a masked text frame: header for 4,096 bytes, the mask, 10 bytes of payload.
    let raw = ws.get_mut();
    let tokio_tungstenite::MaybeTlsStream::Plain(tcp) = raw else {
        panic!("plain TCP expected");
    };
    let mut partial = vec![0x81, 0xFE, 0x10, 0x00, 1, 2, 3, 4];
    partial.extend_from_slice(&[b'x'; 10]);
    tcp.write_all(&partial).await.unwrap();
    drop(ws);
    sam.client
        .until("chatter_disconnected for the broken chat", |f| {
            f["type"] == "chatter_disconnected" && f["chat_id"] == broken_chat.as_str()
        })
        .await;
    exchange(&mut healthy, &mut sam, &healthy_chat, "mid-frame").await;
    // The broken chat can still be resumed within the grace period.
    let mut back = chatter_socket(&app, "broken, back").await;
    back.send(json!({"type": "resume", "token": broken.token, "last_seq": 0}))
        .await;
    assert_eq!(back.expect("welcome").await["resumed"], true);
}
