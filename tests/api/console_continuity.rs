//! An advocate's staff session that ends without a logout (it expired, or was removed) closes
//! the console with `session_expired` but keeps the advocate's chats for the resume grace: the
//! chatter sees nothing but the typing indicator clearing, and signing in again brings the
//! chats back with their history. An explicit logout still hands the chats back at once.

use std::time::Duration;

use haven::Role;
use serde_json::json;

use crate::common::{spawn_app_with, TestApp};
use crate::support::*;

/// Removes a staff session from the store, as its expiry would (the store is the only way in).
fn remove_session(app: &TestApp, cookie: &str) {
    let token = cookie.split_once('=').map_or(cookie, |(_, t)| t);
    let store = haven::store::Store::open(app.data_dir.path()).expect("store opens");
    assert!(
        store.delete_session(token).expect("session deleted"),
        "the session existed"
    );
}

#[tokio::test]
async fn an_expired_session_keeps_the_chats_through_a_new_login() {
    let app = spawn_app_with(|c| {
        c.auth.console_session_check_secs = 1;
        c.chat.resume_grace_secs = 60;
    })
    .await;
    let mut sam = available_advocate(&app, "sam", "Advocate Sam").await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "c1").await;
    exchange(&mut chatter, &mut sam, &chat_id, "before").await;
    sam.client
        .send(json!({"type": "typing", "chat_id": chat_id, "on": true}))
        .await;
    chatter
        .client
        .until("typing on", |f| f["type"] == "typing" && f["on"] == true)
        .await;

    remove_session(&app, &sam.cookie);
    sam.client.expect_error("session_expired").await;
    let ending = sam.client.ended(Duration::from_secs(5)).await;
    assert_eq!(ending.code(), Some(4001), "{ending:?}");
    // The chatter's "typing…" clears at once; nothing else changes for them.
    chatter
        .client
        .until("typing off", |f| f["type"] == "typing" && f["on"] == false)
        .await;
    let seen = chatter.client.still_works().await;
    assert!(
        seen.iter().all(|f| f["key"] != "advocate_disconnected"),
        "the chat was not handed back: {seen:?}"
    );
    // While Sam is away the chatter keeps writing.
    chatter.say("c-away", "are you still there?").await;

    let cookie = app.login("sam", PASSWORD).await;
    let mut sam = connect_staff(&app, "sam", "Advocate Sam", &cookie).await;
    let assigned = sam.assigned(&chat_id).await;
    let history = assigned["history"].as_array().unwrap();
    let texts: Vec<&str> = history.iter().filter_map(|m| m["text"].as_str()).collect();
    assert!(
        texts.contains(&"from chatter before") && texts.contains(&"are you still there?"),
        "{texts:?}"
    );
    let seqs: Vec<u64> = history.iter().filter_map(|m| m["seq"].as_u64()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "history in seq order: {seqs:?}"
    );
    exchange(&mut chatter, &mut sam, &chat_id, "after").await;
    assert!(
        !chatter
            .client
            .transcript()
            .contains("Your advocate was disconnected"),
        "the chatter never saw the advocate lost"
    );
    app.shutdown.trigger();
}

#[tokio::test]
async fn without_a_new_login_the_chats_go_back_to_the_queue_after_the_grace() {
    let app = spawn_app_with(|c| {
        c.auth.console_session_check_secs = 1;
        c.chat.resume_grace_secs = 1;
    })
    .await;
    let mut sam = available_advocate(&app, "sam", "Advocate Sam").await;
    let mut sue = staff(&app, "sue", "Supervisor Sue", Role::Supervisor).await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "c1").await;
    remove_session(&app, &sam.cookie);
    sam.client.expect_error("session_expired").await;
    chatter
        .client
        .until_within(Duration::from_secs(15), "the hand-back line", |f| {
            f["type"] == "message" && f["key"] == "advocate_disconnected"
        })
        .await;
    chatter.client.expect("queued").await;
    sue.client
        .until("the chat back in the queue", |f| {
            f["type"] == "queue"
                && f["entries"].as_array().is_some_and(|e| {
                    e.iter()
                        .any(|e| e["chat_id"] == chat_id.as_str() && e["transferred"] == true)
                })
        })
        .await;
    app.shutdown.trigger();
}

#[tokio::test]
async fn a_logout_hands_the_chats_back_at_once() {
    let app = spawn_app_with(|c| c.chat.resume_grace_secs = 60).await;
    let mut sam = available_advocate(&app, "sam", "Advocate Sam").await;
    let (mut chatter, _chat_id) = claimed_chat(&app, &mut sam, "c1").await;
    let response = logout(&app, &sam.cookie).await;
    assert_eq!(response.status(), 204);
    sam.client.expect_error("session_expired").await;
    chatter
        .client
        .until("the hand-back line", |f| {
            f["type"] == "message" && f["key"] == "advocate_disconnected"
        })
        .await;
    app.shutdown.trigger();
}
