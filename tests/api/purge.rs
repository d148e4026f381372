//! Closed chats are purged on schedule, and nothing brings a purged chat back.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{spawn_app_with, TestApp};
use crate::support::*;

/// A purge round every second, and closed chats kept for one second.
fn purge_every_second(c: &mut haven::Config) {
    c.chat.purge_interval_secs = 1;
    c.chat.retention_after_close_secs = 1;
}

/// Try to resume the chat of `token` on a fresh socket every 300 ms until the answer is
/// `chat_purged`, which must come within [`WAIT`]. Every answer is an error (`what` never
/// resumes); `check` also sees each probe and its answer. Returns the probe told `chat_purged`.
async fn resume_until_purged(
    app: &TestApp,
    token: &str,
    what: &str,
    check: impl Fn(&Client, &Value),
) -> Client {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let mut probe = chatter_socket(app, "probe").await;
        probe
            .send(json!({"type": "resume", "token": token, "last_seq": 0}))
            .await;
        let answer = probe.next().await;
        assert_eq!(answer["type"], "error", "{what} never resumes: {answer}");
        check(&probe, &answer);
        if answer["code"] == "chat_purged" {
            return probe;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the chat was not purged within {WAIT:?} with a 1 s interval and 1 s retention; \
             last answer {answer}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn an_ended_chat_is_purged_after_its_retention_and_its_token_resumes_nothing() {
    let app = spawn_app_with(purge_every_second).await;
    let mut sam = available_advocate(&app, "login-curlew-40", "Advocate Sam").await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "chatter").await;
    chatter.say("c-1", "something private").await;
    sam.end(&chat_id).await;
    assert_eq!(
        chatter.client.expect("ended").await["reason"],
        "advocate_ended"
    );
    let token = chatter.token.clone();

    // Within a few purge rounds the old token answers `chat_purged`, never the transcript.
    let mut probe = resume_until_purged(&app, &token, "an ended chat", |probe, answer| {
        assert!(
            !probe.transcript().contains("something private"),
            "no transcript for a closed chat"
        );
        if answer["code"] != "chat_purged" {
            assert_eq!(answer["code"], "chat_closed", "{answer}");
        }
    })
    .await;
    probe.still_works().await;

    // The advocate cannot act on it any more either.
    sam.client
        .send(json!({"type": "message", "chat_id": chat_id, "id": "a-1", "text": "hello?"}))
        .await;
    sam.client
        .expect_error_in(&["chat_closed", "chat_not_found"])
        .await;
    sam.client.still_works().await;
}

#[tokio::test]
async fn a_chat_the_chatter_left_is_purged_too() {
    let app = spawn_app_with(purge_every_second).await;
    let mut sam = available_advocate(&app, "login-whimbrel-41", "Advocate Sam").await;
    let (mut chatter, _) = claimed_chat(&app, &mut sam, "chatter").await;
    chatter.say("c-1", "bye").await;
    chatter.client.send(json!({"type": "leave"})).await;
    sam.client.expect("chatter_left").await;
    let token = chatter.token.clone();
    resume_until_purged(&app, &token, "a left chat", |_, _| {}).await;
}
