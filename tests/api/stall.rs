//! A chatter whose connection stalls without closing (a phone that lost its network): the
//! advocate hears `chatter_stalled` within a second or two of writing to them, and
//! `chatter_reconnected` when the connection answers again; a chatter who reads is never
//! reported.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use tokio::time::Instant;

use crate::common::{spawn_app, Ws};
use crate::support::*;

/// Reads (and so answers pings on) a chatter's socket in the background until told to stop;
/// gives the socket back.
fn keep_reading(
    mut ws: Ws,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Ws>,
) {
    let (stop, mut stopped) = tokio::sync::oneshot::channel();
    let reader = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stopped => return ws,
                frame = ws.next() => assert!(matches!(frame, Some(Ok(_))), "chatter socket ended: {frame:?}"),
            }
        }
    });
    (stop, reader)
}

fn is_stall_news(frame: &serde_json::Value, chat_id: &str) -> bool {
    (frame["type"] == "chatter_stalled" || frame["type"] == "chatter_reconnected")
        && frame["chat_id"] == chat_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_advocate_hears_at_once_that_the_chatter_stalled_and_when_it_recovers() {
    let app = spawn_app().await;
    let mut advocate = available_advocate(&app, "login-heron-301", "Advocate Robin").await;
    let (chatter, chat_id) = claimed_chat(&app, &mut advocate, "stalling chatter").await;

    // A chatter who reads: three seconds of lines (longer than the stall notice) raise nothing.
    let name = chatter.client.name.clone();
    let (stop, reader) = keep_reading(chatter.client.into_inner());
    for i in 0..15 {
        advocate
            .say(
                &chat_id,
                &format!("a-live-{i}"),
                &format!("still there? {i}"),
            )
            .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.send(()).unwrap();
    let ws = reader.await.unwrap();
    assert!(
        !advocate
            .client
            .seen
            .iter()
            .any(|f| is_stall_news(f, &chat_id)),
        "a chatter who reads was reported stalled:\n{}",
        advocate.client.transcript()
    );

    // The chatter's connection stalls: nothing reads it any more. The advocate's next line
    // carries a probe that goes unanswered.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let written = Instant::now();
    advocate
        .say(&chat_id, "a-into-the-void", "are you safe to talk?")
        .await;
    let stalled = advocate
        .client
        .until("`chatter_stalled`", |f| is_stall_news(f, &chat_id))
        .await;
    let noticed = written.elapsed();
    assert_eq!(stalled["type"], "chatter_stalled", "{stalled}");
    // `protection.stall_notice_ms` is 1,500 by default, and probes are spaced by 500 ms; the
    // rest is slack for a loaded machine.
    assert!(
        noticed <= Duration::from_millis(3_500),
        "the stall was noticed only after {noticed:?}"
    );

    // The connection comes back: the chatter reads the line and the advocate hears so.
    let mut chatter = Client::new(name.clone(), ws);
    chatter
        .until("the line written during the stall", |f| {
            f["type"] == "message" && f["text"] == "are you safe to talk?"
        })
        .await;
    // Reading on answers the probe that followed the line.
    let (stop, reader) = keep_reading(chatter.into_inner());
    let back = advocate
        .client
        .until("`chatter_reconnected`", |f| is_stall_news(f, &chat_id))
        .await;
    assert_eq!(back["type"], "chatter_reconnected", "{back}");
    stop.send(()).unwrap();
    let mut chatter = Client::new(name, reader.await.unwrap());

    // And the chat goes on both ways.
    chatter
        .send(json!({"type": "message", "id": "c-after", "text": "yes, go on"}))
        .await;
    advocate.hears(&chat_id, "yes, go on").await;
}
