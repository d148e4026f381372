//! Memory after an attack (issue 8): once an attack is over and the purge has run, the real
//! binary's resident memory comes back to within a few MB of where it started. On glibc's
//! allocator, and without the hub's maps giving back their room (src/hub/capacity.rs), it
//! stayed near its peak for good.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::faults::{free_port, gauges, login, rss};
use crate::support::*;

/// How far above its starting point the resident memory may settle: "a few MB".
const SETTLED_WITHIN: u64 = 8 * 1024 * 1024;
/// Staff who log in during the attack: each password check takes Argon2's 19 MiB block.
const LOGINS: usize = 4;
/// Attacking connections at once, and the hellos each one makes.
const ATTACKERS: usize = 40;
const HELLOS_EACH: usize = 60;

/// The gauges of the child's `/metrics` that say a chat is still in memory.
async fn chats_in_memory(metrics_port: u16) -> i64 {
    let names = [
        "haven_chats_waiting",
        "haven_chats_active",
        "haven_chats_closed_awaiting_purge",
    ];
    gauges(metrics_port, &names).await
}

/// One attacker: hellos that each leave six 4,000-character lines in the queue and drop.
async fn hellos_that_drop(chat_url: String, hellos: usize) {
    let line = "x".repeat(4_000);
    for i in 0..hellos {
        let mut chatter = Client::new("attacking hello", upgrade(&chat_url, &[]).await);
        chatter.send(json!({"type": "hello"})).await;
        chatter.expect("welcome").await;
        for n in 0..6 {
            chatter
                .send(json!({"type": "message", "id": format!("m{i}-{n}"), "text": line}))
                .await;
        }
        chatter.expect("ack").await;
        drop(chatter.into_inner());
    }
}

#[tokio::test]
async fn resident_memory_comes_back_after_an_attack_once_the_purge_has_run() {
    let metrics_port = free_port();
    let (dir, config_path) = config_dir(
        "",
        &format!(
            "[chat]\nauto_assign = false\nmax_waiting = 10000\nretention_after_close_secs = 5\n\
             purge_interval_secs = 1\n\n\
             [protection]\nwaiting_grace_secs = 3\nnew_chats_per_client_per_minute = 1000000\n\
             max_sockets_per_client = 100000\nmax_connections_per_client = 100000\n\
             metrics_bind = \"127.0.0.1:{metrics_port}\"\n"
        ),
        "info",
    );
    for n in 0..LOGINS {
        let name = format!("recovery-{n}");
        staff_add(&config_path, &name, "advocate", "Advocate Sam", PASSWORD);
    }
    let binary = Binary::serve(dir, config_path, &[]);
    let pid = binary.child.id();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let started = rss(pid);

    // Staff log in (each check in its own blocking thread), one goes on duty so that the
    // attacking hellos wait in the line, and the attack runs.
    let mut cookies = Vec::new();
    for n in 0..LOGINS {
        cookies.push(login(&binary, &format!("recovery-{n}")).await);
    }
    let ws = upgrade(&binary.ws_url("/ws/console"), &[("cookie", &cookies[0])]).await;
    let mut sam = Client::new("advocate on duty", ws);
    sam.expect("welcome").await;
    sam.send(json!({"type": "status", "available": true})).await;
    let attackers: Vec<_> = (0..ATTACKERS)
        .map(|_| tokio::spawn(hellos_that_drop(binary.ws_url("/ws/chat"), HELLOS_EACH)))
        .collect();
    // The highest resident memory while the attack runs and its chats wait for the purge.
    let mut peak = 0;
    while !attackers.iter().all(|a| a.is_finished()) {
        peak = peak.max(rss(pid));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for attacker in attackers {
        attacker.await.expect("attacker finished");
    }
    peak = peak.max(rss(pid));

    // The dropped chatters' grace runs out, their chats close and are purged.
    let deadline = Instant::now() + Duration::from_secs(30);
    while chats_in_memory(metrics_port).await > 0 {
        peak = peak.max(rss(pid));
        assert!(
            Instant::now() < deadline,
            "chats still in memory after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Freed pages decay back to the system within ~10 s (jemalloc's default).
    let deadline = Instant::now() + Duration::from_secs(30);
    let settled = loop {
        sam.send(json!({"type": "ping"})).await;
        sam.until("pong", |f| f["type"] == "pong").await;
        let now = rss(pid);
        if now <= started + SETTLED_WITHIN || Instant::now() > deadline {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    assert!(
        peak > started + 2 * SETTLED_WITHIN,
        "the attack did not cost memory ({:.1} → {:.1} MiB): this test shows nothing",
        mib(started),
        mib(peak)
    );
    eprintln!(
        "resident memory: {:.1} MiB at start, {:.1} MiB after {LOGINS} logins and {} dropped \
         hellos, {:.1} MiB after the purge",
        mib(started),
        mib(peak),
        ATTACKERS * HELLOS_EACH,
        mib(settled)
    );
    assert!(
        settled <= started + SETTLED_WITHIN,
        "resident memory {:.1} MiB at start, {:.1} MiB at the peak, still {:.1} MiB after the \
         purge",
        mib(started),
        mib(peak),
        mib(settled)
    );
    let output = binary.output();
    assert!(!output.contains("panicked"), "{output}");
}
