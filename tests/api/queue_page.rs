//! A long line: every console gets the oldest waiters and the total, never the whole line
//! (a full list of thousands passed the write limit and silently dropped every console).

use serde_json::json;

use crate::common::spawn_app_with;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consoles_get_the_oldest_hundred_waiters_and_how_many_wait_in_all() {
    let app = spawn_app_with(|c| {
        c.chat.max_waiting = 500;
        c.protection.new_chats_per_client_per_minute = 1_000;
        c.protection.max_sockets_per_client = 500;
    })
    .await;
    let mut sam = available_advocate(&app, "sam", "Advocate Sam").await;
    let mut chatters = Vec::new();
    for i in 0..150 {
        chatters.push(hello(&app, &format!("chatter {i}"), json!({})).await);
    }
    let queue = sam
        .client
        .until("a snapshot of the whole line", |f| {
            f["type"] == "queue" && f["total"] == 150
        })
        .await;
    let entries = queue["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 100, "a page, not the line");
    let since: Vec<u64> = entries
        .iter()
        .map(|e| e["waiting_since"].as_u64().unwrap())
        .collect();
    assert!(since.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    // The oldest is claimable from the page, and the count follows.
    let oldest = entries[0]["chat_id"].as_str().unwrap().to_owned();
    sam.claim(&oldest).await;
    sam.client
        .until("one fewer waiting", |f| {
            f["type"] == "queue"
                && f["total"] == 149
                && f["entries"].as_array().unwrap().len() == 100
        })
        .await;
    drop(chatters);
    app.shutdown.trigger();
}
