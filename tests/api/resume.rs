//! Dropped sockets: chatters resume with their token and miss nothing; advocates get their chats
//! back; the grace period ends chats whose people do not return.

use serde_json::{json, Value};

use crate::common::{spawn_app, spawn_app_with};
use crate::support::*;

/// The highest `seq` a chatter has seen (messages and acks).
fn last_seq(client: &Client) -> u64 {
    client
        .seen
        .iter()
        .filter(|f| f["type"] == "message" || f["type"] == "ack")
        .filter_map(|f| f["seq"].as_u64())
        .max()
        .unwrap_or(0)
}

/// Open a new chatter socket and send `resume`; returns the socket and the `welcome`.
async fn resume(app: &crate::common::TestApp, token: &str, last_seq: u64) -> (Client, Value) {
    let mut client = chatter_socket(app, "resumed chatter").await;
    client
        .send(json!({"type": "resume", "v": 1, "token": token, "last_seq": last_seq}))
        .await;
    let welcome = client.next().await;
    (client, welcome)
}

#[tokio::test]
async fn a_chatter_who_drops_and_resumes_gets_every_missed_message_once_and_in_order() {
    let app = spawn_app().await;
    let mut sam = available_advocate(&app, "login-petrel-30", "Advocate Sam").await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "chatter").await;
    let acked = chatter.say("c-1", "before the drop").await;
    sam.hears(&chat_id, "before the drop").await;
    sam.say(&chat_id, "a-0", "seen before the drop").await;
    chatter.hears("seen before the drop").await;
    let seen = last_seq(&chatter.client);
    let token = chatter.token.clone();

    // The socket drops without a goodbye (no close frame, no leave).
    drop(chatter.client.into_inner());
    let gone = sam
        .client
        .until("`chatter_disconnected`", |f| {
            f["type"] == "chatter_disconnected"
        })
        .await;
    assert_eq!(gone["chat_id"], chat_id.as_str());

    // The advocate keeps writing while the chatter is away.
    let missed = ["missed one", "missed two", "missed three"];
    let mut missed_seqs = Vec::new();
    for (i, text) in missed.iter().enumerate() {
        missed_seqs.push(sam.say(&chat_id, &format!("a-{}", i + 1), text).await);
    }
    assert!(
        missed_seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "{missed_seqs:?}"
    );

    // Resume: welcome (resumed), then joined, then exactly the missed lines in order.
    let (mut back, welcome) = resume(&app, &token, seen).await;
    assert_eq!(
        welcome["type"], "welcome",
        "the first answer to resume is welcome"
    );
    assert_eq!(welcome["resumed"], true, "{welcome}");
    assert_eq!(welcome["v"], 1);
    let next = back.next().await;
    assert_eq!(
        next["type"], "joined",
        "resume: welcome, then joined; got {next}"
    );
    assert_eq!(next["advocate"], "Advocate Sam");
    let back_again = sam
        .client
        .until("`chatter_reconnected`", |f| {
            f["type"] == "chatter_reconnected"
        })
        .await;
    assert_eq!(back_again["chat_id"], chat_id.as_str());

    // A message of the chatter's own is the barrier: everything replayed comes before its ack.
    back.send(json!({"type": "message", "id": "c-2", "text": "I'm back"}))
        .await;
    back.until("`ack` of c-2", |f| f["type"] == "ack" && f["id"] == "c-2")
        .await;
    let replayed: Vec<&Value> = back
        .seen
        .iter()
        .filter(|f| f["type"] == "message")
        .collect();
    let replayed_seqs: Vec<u64> = replayed
        .iter()
        .map(|f| f["seq"].as_u64().unwrap())
        .collect();
    assert!(
        replayed_seqs.iter().all(|s| *s > seen),
        "only lines after last_seq {seen} are replayed: {replayed_seqs:?}"
    );
    assert!(
        replayed_seqs.windows(2).all(|w| w[0] < w[1]),
        "in order, each once: {replayed_seqs:?}"
    );
    let advocate_lines: Vec<(&str, u64)> = replayed
        .iter()
        .filter(|f| f["from"] == "advocate")
        .map(|f| (f["text"].as_str().unwrap(), f["seq"].as_u64().unwrap()))
        .collect();
    let expected: Vec<(&str, u64)> = missed.iter().copied().zip(missed_seqs.clone()).collect();
    assert_eq!(
        advocate_lines, expected,
        "every missed line exactly once, in order"
    );
    sam.hears(&chat_id, "I'm back").await;

    // Re-sending an id that was acked before the drop is acknowledged again, not duplicated.
    back.send(json!({"type": "message", "id": "c-1", "text": "before the drop"}))
        .await;
    let again = back
        .until("the repeated `ack` of c-1", |f| {
            f["type"] == "ack" && f["id"] == "c-1"
        })
        .await;
    assert_eq!(again["seq"], acked, "the same id keeps its seq: {again}");
    back.send(json!({"type": "message", "id": "c-3", "text": "after the repeat"}))
        .await;
    sam.hears(&chat_id, "after the repeat").await;
    let copies = sam
        .client
        .seen
        .iter()
        .filter(|f| f["type"] == "message" && f["text"] == "before the drop")
        .count();
    assert_eq!(copies, 1, "a re-sent message id is not delivered twice");

    // And the chat goes on both ways.
    sam.say(&chat_id, "a-9", "glad you're back").await;
    back.until("the advocate's next line", |f| {
        f["text"] == "glad you're back"
    })
    .await;
}

#[tokio::test]
async fn a_resume_with_last_seq_zero_replays_the_whole_transcript_once() {
    let app = spawn_app().await;
    let mut sam = available_advocate(&app, "login-shag-31", "Advocate Sam").await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "chatter").await;
    chatter.say("c-1", "one").await;
    sam.say(&chat_id, "a-1", "two").await;
    chatter.hears("two").await;
    let token = chatter.token.clone();
    drop(chatter.client.into_inner());
    sam.client.expect("chatter_disconnected").await;

    let (mut back, welcome) = resume(&app, &token, 0).await;
    assert_eq!(welcome["resumed"], true, "{welcome}");
    back.send(json!({"type": "message", "id": "c-2", "text": "three"}))
        .await;
    let ack = back
        .until("`ack` of c-2", |f| f["type"] == "ack" && f["id"] == "c-2")
        .await;
    let barrier = ack["seq"].as_u64().unwrap();
    // Lines before the new one are the replay (the server may also echo the new line itself).
    let texts: Vec<&str> = back
        .seen
        .iter()
        .filter(|f| f["type"] == "message" && f["from"] != "system")
        .filter(|f| f["seq"].as_u64().is_some_and(|s| s < barrier))
        .filter_map(|f| f["text"].as_str())
        .collect();
    assert_eq!(
        texts,
        ["one", "two"],
        "the whole transcript, once, in order"
    );
}

#[tokio::test]
async fn a_chatter_who_does_not_return_in_time_is_reported_as_left_and_cannot_resume() {
    let app = spawn_app_with(|c| c.chat.resume_grace_secs = 1).await;
    let mut sam = available_advocate(&app, "login-gannet-32", "Advocate Sam").await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "chatter").await;
    chatter.say("c-1", "hello").await;
    let token = chatter.token.clone();
    drop(chatter.client.into_inner());
    sam.client.expect("chatter_disconnected").await;
    let left = sam
        .client
        .until("`chatter_left` after the grace period", |f| {
            f["type"] == "chatter_left"
        })
        .await;
    assert_eq!(left["chat_id"], chat_id.as_str());
    assert_eq!(left["reason"], "timed_out");

    // The token no longer resumes anything; the socket stays usable for a new chat.
    let mut late = chatter_socket(&app, "late chatter").await;
    late.send(json!({"type": "resume", "token": token, "last_seq": 0}))
        .await;
    late.expect_error_in(&["chat_purged", "chat_closed"]).await;
    assert!(
        late.seen
            .iter()
            .all(|f| f["type"] != "welcome" && f["type"] != "message"),
        "a late resume gets nothing of the old chat: {}",
        late.transcript()
    );
    late.send(json!({"type": "hello"})).await;
    let welcome = late.expect("welcome").await;
    assert_eq!(welcome["resumed"], false);
    assert_ne!(welcome["token"], token.as_str());

    // The advocate can no longer write into the closed chat.
    sam.client
        .send(json!({"type": "message", "chat_id": chat_id, "id": "a-x", "text": "still there?"}))
        .await;
    sam.client.expect_error("chat_closed").await;
}

#[tokio::test]
async fn a_resume_with_a_token_that_never_existed_is_refused() {
    let app = spawn_app().await;
    let mut chatter = chatter_socket(&app, "guesser").await;
    chatter
        .send(json!({"type": "resume", "token": "00000000000000000000000000000000", "last_seq": 0}))
        .await;
    chatter.expect_error("chat_purged").await;
    chatter.still_works().await;
}

#[tokio::test]
async fn an_advocate_who_reconnects_gets_their_chats_back() {
    let app = spawn_app().await;
    let mut sam = available_advocate(&app, "login-skua-33", "Advocate Sam").await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "chatter").await;
    chatter.say("c-1", "are you there?").await;
    sam.hears(&chat_id, "are you there?").await;

    // The console drops; the chatter writes meanwhile.
    let cookie = sam.cookie.clone();
    drop(sam.client.into_inner());
    chatter.say("c-2", "written while you were away").await;

    let mut again = connect_staff(&app, &sam.username, &sam.display_name, &cookie).await;
    let assigned = again.assigned(&chat_id).await;
    let texts: Vec<&str> = assigned["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert!(
        texts.contains(&"are you there?") && texts.contains(&"written while you were away"),
        "the history holds everything, including what came while away: {texts:?}"
    );
    assert_eq!(assigned["chatter_connected"], true);
    exchange(&mut chatter, &mut again, &chat_id, "after-reconnect").await;
}

#[tokio::test]
async fn a_second_login_replaces_the_first_console_and_takes_the_chats() {
    let app = spawn_app().await;
    let mut sam = available_advocate(&app, "login-fulmar-34", "Advocate Sam").await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "chatter").await;

    let cookie = app.login(&sam.username, PASSWORD).await;
    assert_ne!(cookie, sam.cookie, "a new login is a new session");
    let mut second = connect_staff(&app, &sam.username, &sam.display_name, &cookie).await;
    second.assigned(&chat_id).await;

    sam.client.expect_error("replaced").await;
    let ending = sam.client.ended(WAIT).await;
    assert_eq!(
        ending.code(),
        Some(4000),
        "replaced closes with 4000: {ending:?}"
    );

    exchange(&mut chatter, &mut second, &chat_id, "after-replace").await;
}

#[tokio::test]
async fn chats_of_an_advocate_who_does_not_return_go_back_to_the_front_of_the_queue() {
    let app = spawn_app_with(|c| c.chat.resume_grace_secs = 1).await;
    let mut sam = available_advocate(&app, "login-eider-35", "Advocate Sam").await;
    // Someone has been waiting since before this chat began: the chat still goes first.
    let (mut waiting, tag) = tagged_hello(&app, "waiting").await;
    waiting.client.expect("queued").await;
    let waiting_id = sam.chat_id_tagged(&tag).await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "chatter").await;
    let mut alex = staff(
        &app,
        "login-scoter-36",
        "Advocate Alex",
        haven::Role::Advocate,
    )
    .await;

    drop(sam.client.into_inner());
    // After the grace period the chatter is told and waits again, ahead of the other one.
    chatter
        .client
        .until("a system line about the advocate leaving", |f| {
            f["type"] == "message" && f["from"] == "system"
        })
        .await;
    let queued = chatter.client.expect("queued").await;
    assert_eq!(
        queued["position"], 1,
        "back at the front of the queue: {queued}"
    );
    alex.set_available(true).await;
    let entries = alex.queue_of_len(2).await;
    assert_eq!(entries[0]["chat_id"], chat_id.as_str(), "{entries:?}");
    assert_eq!(entries[1]["chat_id"], waiting_id.as_str(), "{entries:?}");
    let assigned = alex.claim(&chat_id).await;
    assert!(!assigned["history"].as_array().unwrap().is_empty());
    exchange(&mut chatter, &mut alex, &chat_id, "new-advocate").await;
}

#[tokio::test]
async fn a_resume_after_a_long_chat_replays_all_of_it_without_dropping_the_chatter() {
    // Default queue (64 frames) and transcript (500 lines); only the rate is raised so that
    // the chat can be long quickly.
    let app = spawn_app_with(|c| {
        c.limits.rate_burst = 1000;
        c.limits.rate_per_sec = 1000;
    })
    .await;
    let mut sam = available_advocate(&app, "login-tattler-37", "Advocate Sam").await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "chatter").await;
    for i in 0..50 {
        chatter
            .say(&format!("c-{i}"), &format!("chatter line {i}"))
            .await;
        sam.say(&chat_id, &format!("a-{i}"), &format!("advocate line {i}"))
            .await;
    }
    chatter.hears("advocate line 49").await;
    let token = chatter.token.clone();
    // The page reloads and has lost its last seq: it asks for everything.
    drop(chatter.client.into_inner());
    sam.client.expect("chatter_disconnected").await;
    let (mut back, welcome) = resume(&app, &token, 0).await;
    assert_eq!(welcome["resumed"], true, "{welcome}");
    back.send(json!({"type": "message", "id": "c-after", "text": "still here"}))
        .await;
    let ack = back
        .until("`ack` after a replay of 100 lines", |f| {
            f["type"] == "ack" && f["id"] == "c-after"
        })
        .await;
    let barrier = ack["seq"].as_u64().unwrap();
    let replayed = back
        .seen
        .iter()
        .filter(|f| f["type"] == "message" && f["seq"].as_u64().is_some_and(|s| s < barrier))
        .count();
    assert_eq!(replayed, 100, "every line of the chat, once");
    sam.hears(&chat_id, "still here").await;
}

#[tokio::test]
async fn a_waiting_chatter_who_resumes_keeps_their_place_in_line() {
    let app = spawn_app().await;
    let mut sam = available_advocate(&app, "login-noddy-38", "Advocate Sam").await;
    let (mut first, first_tag) = tagged_hello(&app, "first").await;
    assert_eq!(first.client.expect("queued").await["position"], 1);
    let (mut second, second_tag) = tagged_hello(&app, "second").await;
    assert_eq!(second.client.expect("queued").await["position"], 2);
    let first_id = sam.chat_id_tagged(&first_tag).await;
    let token = first.token.clone();
    drop(first.client.into_inner());

    let (mut back, welcome) = resume(&app, &token, 0).await;
    assert_eq!(welcome["resumed"], true, "{welcome}");
    let next = back.next().await;
    assert_eq!(
        next["type"], "queued",
        "resume while waiting: welcome, then queued; got {next}"
    );
    assert_eq!(next["position"], 1, "still first in line");
    let entries = sam.queue_of_len(2).await;
    assert_eq!(entries[0]["intake"]["tag"], first_tag.as_str());
    assert_eq!(entries[1]["intake"]["tag"], second_tag.as_str());
    sam.claim(&first_id).await;
    assert_eq!(back.expect("joined").await["advocate"], "Advocate Sam");
    let _ = second.client.still_works().await;
}

#[tokio::test]
async fn a_waiting_chatter_who_does_not_return_leaves_the_queue() {
    // A waiting chatter's place is kept for `protection.waiting_grace_secs`, not for the
    // in-chat grace (here two minutes): a dropped `hello` holds no place for long.
    let app = spawn_app_with(|c| {
        c.protection.waiting_grace_secs = 1;
        c.chat.resume_grace_secs = 120;
    })
    .await;
    let mut sam = available_advocate(&app, "login-courser-39", "Advocate Sam").await;
    let (mut gone, tag) = tagged_hello(&app, "gone").await;
    gone.client.expect("queued").await;
    let (mut stays, stays_tag) = tagged_hello(&app, "stays").await;
    assert_eq!(stays.client.expect("queued").await["position"], 2);
    sam.entry_tagged(&tag).await;
    drop(gone.client.into_inner());
    let entries = sam
        .client
        .until("the queue without the chatter who left", |f| {
            f["type"] == "queue"
                && f["entries"]
                    .as_array()
                    .is_some_and(|e| e.len() == 1 && e[0]["intake"]["tag"] == stays_tag.as_str())
        })
        .await;
    assert_eq!(entries["entries"].as_array().unwrap().len(), 1);
    let moved = stays
        .client
        .until("position 1", |f| {
            f["type"] == "queued" && f["position"] == 1
        })
        .await;
    assert_eq!(moved["queue"], "general");
}

#[tokio::test]
async fn a_resume_while_waiting_sends_welcome_then_queued_then_the_messages() {
    let app = spawn_app().await;
    let _sam = available_advocate(&app, "login-order-40", "Advocate Sam").await;
    let mut chatter = hello(&app, "waiting writer", json!({})).await;
    chatter.client.expect("queued").await;
    chatter.say("c-1", "written while waiting").await;
    let token = chatter.token.clone();
    drop(chatter.client.into_inner());
    let (mut back, welcome) = resume(&app, &token, 0).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    let queued = back.next().await;
    assert_eq!(queued["type"], "queued", "then `queued`: {queued}");
    let message = back.next().await;
    assert_eq!(message["type"], "message", "then the messages: {message}");
    assert_eq!(message["text"], "written while waiting");
}

#[tokio::test]
async fn a_resume_rotates_the_token_and_the_old_one_resumes_nothing() {
    let app = spawn_app().await;
    let mut sam = available_advocate(&app, "login-rotate-41", "Advocate Sam").await;
    let (chatter, _chat_id) = claimed_chat(&app, &mut sam, "chatter").await;
    let old = chatter.token.clone();
    drop(chatter.client.into_inner());
    let (_back, welcome) = resume(&app, &old, 0).await;
    let new = welcome["token"].as_str().expect("a token").to_string();
    assert_ne!(new, old, "the token seen once is replaced");
    // A copy of the old token, replayed later, resumes nothing.
    let mut thief = chatter_socket(&app, "replay").await;
    thief
        .send(json!({"type": "resume", "token": old, "last_seq": 0}))
        .await;
    thief.expect_error("chat_purged").await;
}

#[tokio::test]
async fn a_second_socket_resuming_a_live_chat_replaces_the_first_with_a_frame() {
    let app = spawn_app().await;
    let mut sam = available_advocate(&app, "login-twice-42", "Advocate Sam").await;
    let (mut first, chat_id) = claimed_chat(&app, &mut sam, "first tab").await;
    let (mut second, welcome) = resume(&app, &first.token, 0).await;
    assert_eq!(welcome["resumed"], true, "{welcome}");
    let error = first.client.expect_error("replaced").await;
    assert!(error["message"].is_string(), "{error}");
    assert_eq!(first.client.ended(WAIT).await.code(), Some(4000));
    sam.say(&chat_id, "a-1", "to the new tab").await;
    second
        .until("the advocate's line", |f| f["text"] == "to the new tab")
        .await;
}
