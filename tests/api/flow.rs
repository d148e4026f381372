//! The whole story of a chat, from hello to logout, through real sockets.

use std::collections::BTreeSet;

use haven::Role;
use serde_json::{json, Value};

use crate::common::spawn_app;
use crate::support::*;

/// The keys of a frame, for "carries nothing else" assertions.
fn keys(frame: &Value) -> BTreeSet<String> {
    frame
        .as_object()
        .unwrap_or_else(|| panic!("a JSON object: {frame}"))
        .keys()
        .cloned()
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn a_chatter_is_helped_from_hello_to_goodbye_and_the_advocate_logs_out() {
    let app = spawn_app().await;
    // Login names share nothing with display names, so a leak of either is visible.
    let mut sam = available_advocate(&app, "login-kestrel-7f3a", "Advocate Sam").await;
    let mut alex = available_advocate(&app, "login-heron-19bc", "Advocate Alex").await;

    // Hello: welcome with a resume token, then queued at position 1.
    let mut client = chatter_socket(&app, "chatter").await;
    client
        .send(
            json!({"type": "hello", "v": 1, "queue": "general", "language": "en",
                     "intake": {"age_range": "25-34", "heard_from": "friend"}}),
        )
        .await;
    let welcome = client.next().await;
    assert_eq!(
        welcome["type"], "welcome",
        "the first answer to hello is welcome"
    );
    assert_eq!(welcome["v"], 1);
    assert_eq!(welcome["resumed"], false);
    assert_eq!(welcome["grace_secs"], 120);
    let token = welcome["token"].as_str().expect("token").to_string();
    assert!(
        token.len() >= 22,
        "a resume token carries at least 128 bits: {token:?}"
    );
    let queued = client.next().await;
    assert_eq!(queued["type"], "queued", "welcome is followed by queued");
    let mut chatter = Chatter {
        client,
        token: token.clone(),
    };
    assert_eq!(queued["queue"], "general");
    assert_eq!(queued["position"], 1);
    assert!(
        queued["estimate_secs"].is_null(),
        "no recent waits on a fresh server, so no estimate: {queued}"
    );

    // The advocate sees the chatter in the queue snapshot, with what they chose to share.
    let entries = sam.queue_of_len(1).await;
    let entry = &entries[0];
    let chat_id = entry["chat_id"].as_str().expect("chat_id").to_string();
    assert_eq!(entry["queue"], "general");
    assert_eq!(entry["language"], "en");
    assert_eq!(entry["intake"]["age_range"], "25-34");
    assert_eq!(entry["transferred"], false);
    assert!(entry["waiting_since"].is_u64(), "{entry}");
    // A second token for a second chatter is different (unguessable, not a counter).
    let mut other = hello(&app, "other chatter", json!({})).await;
    assert_ne!(other.token, token, "every chat gets its own token");
    other.client.send(json!({"type": "leave"})).await;
    sam.queue_of_len(1).await;

    // Claim: the advocate gets the chat with its (empty) history; the chatter sees only the
    // display name.
    sam.client
        .send(json!({"type": "claim", "chat_id": chat_id}))
        .await;
    let assigned = sam.assigned(&chat_id).await;
    assert_eq!(assigned["queue"], "general");
    assert_eq!(assigned["language"], "en");
    assert_eq!(assigned["intake"]["heard_from"], "friend");
    assert_eq!(assigned["history"], json!([]), "nothing said yet");
    assert_eq!(assigned["chatter_connected"], true);
    assert!(assigned["transfer"].is_null(), "{assigned}");
    let joined = chatter.client.expect("joined").await;
    assert_eq!(joined["advocate"], "Advocate Sam");
    assert_eq!(keys(&joined), set(&["type", "advocate"]), "{joined}");

    // Messages both ways: ack echoes the client id, seq increases by one per line.
    chatter
        .client
        .send(json!({"type": "message", "id": "c-1", "text": "Hi, I need some help"}))
        .await;
    let ack = chatter.client.expect("ack").await;
    assert_eq!(ack["id"], "c-1");
    let s1 = ack["seq"].as_u64().expect("seq");
    assert!(ack["at"].is_u64());
    let line = sam.hears(&chat_id, "Hi, I need some help").await;
    assert_eq!(line["from"], "chatter");
    assert_eq!(line["seq"], s1);
    assert!(line["at"].is_u64());

    let s2 = sam.say(&chat_id, "a-1", "Hello, I'm here to listen.").await;
    assert_eq!(s2, s1 + 1, "seq increases by one per chat");
    let line = chatter.hears("Hello, I'm here to listen.").await;
    assert_eq!(line["from"], "advocate");
    assert_eq!(line["seq"], s2);
    assert!(line["at"].is_u64());
    let s3 = chatter.say("c-2", "Thank you").await;
    assert_eq!(s3, s2 + 1);
    sam.hears(&chat_id, "Thank you").await;

    // Typing both ways carries only the flag, never a draft.
    for on in [true, false] {
        chatter
            .client
            .send(json!({"type": "typing", "on": on}))
            .await;
        let typing = sam
            .client
            .until("chatter typing", |f| f["type"] == "typing" && f["on"] == on)
            .await;
        assert_eq!(typing["chat_id"], chat_id.as_str());
        assert_eq!(keys(&typing), set(&["type", "chat_id", "on"]), "{typing}");

        sam.client
            .send(json!({"type": "typing", "chat_id": chat_id, "on": on}))
            .await;
        let typing = chatter
            .client
            .until("advocate typing", |f| {
                f["type"] == "typing" && f["on"] == on
            })
            .await;
        assert_eq!(keys(&typing), set(&["type", "on"]), "{typing}");
    }

    // Transfer to another advocate, with an internal note.
    let note = "Internal: asked about shelter in Hartford";
    sam.client
        .send(json!({"type": "transfer", "chat_id": chat_id, "to_advocate": alex.id, "note": note}))
        .await;
    let assigned = alex.assigned(&chat_id).await;
    let history = assigned["history"].as_array().expect("history").clone();
    let texts: Vec<&str> = history.iter().filter_map(|m| m["text"].as_str()).collect();
    for said in [
        "Hi, I need some help",
        "Hello, I'm here to listen.",
        "Thank you",
    ] {
        assert!(
            texts.contains(&said),
            "the new advocate sees {said:?}: {history:?}"
        );
    }
    for m in &history {
        assert!(
            m["seq"].is_u64() && m["at"].is_u64() && m["from"].is_string(),
            "{m}"
        );
    }
    assert_eq!(assigned["transfer"]["from"], "Advocate Sam", "{assigned}");
    assert_eq!(assigned["transfer"]["note"], note, "{assigned}");
    let ended = sam
        .client
        .until("`ended` transferred", |f| f["type"] == "ended")
        .await;
    assert_eq!(ended["chat_id"], chat_id.as_str());
    assert_eq!(ended["reason"], "transferred");
    let system = chatter
        .client
        .until("a system line about the transfer", |f| {
            f["type"] == "message" && f["from"] == "system"
        })
        .await;
    assert!(system["text"].as_str().is_some_and(|t| !t.is_empty()));
    let joined = chatter.client.expect("joined").await;
    assert_eq!(joined["advocate"], "Advocate Alex");

    // Messages flow with the new advocate.
    let s = alex
        .say(&chat_id, "a-2", "Hi, I'm Alex, I can help with shelter.")
        .await;
    assert!(s > s3, "seq keeps increasing across a transfer");
    chatter
        .hears("Hi, I'm Alex, I can help with shelter.")
        .await;
    chatter.say("c-3", "ok").await;
    alex.hears(&chat_id, "ok").await;

    // Transfer to the referrals queue: the chatter waits again, flagged as transferred.
    let note2 = "Internal: referral to member org";
    alex.client
        .send(
            json!({"type": "transfer", "chat_id": chat_id, "to_queue": "referrals", "note": note2}),
        )
        .await;
    let ended = alex
        .client
        .until("`ended` transferred", |f| f["type"] == "ended")
        .await;
    assert_eq!(ended["reason"], "transferred");
    chatter
        .client
        .until("a system line about the referral", |f| {
            f["type"] == "message" && f["from"] == "system"
        })
        .await;
    let queued = chatter.client.expect("queued").await;
    assert_eq!(queued["queue"], "referrals");
    assert_eq!(queued["position"], 1);
    let entry = sam
        .client
        .until("the referral in the queue", |f| {
            f["type"] == "queue"
                && f["entries"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|e| e["chat_id"] == chat_id.as_str()))
        })
        .await["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["chat_id"] == chat_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["queue"], "referrals");
    assert_eq!(entry["transferred"], true);
    let assigned = sam.claim(&chat_id).await;
    assert_eq!(assigned["transfer"]["from"], "Advocate Alex", "{assigned}");
    assert_eq!(assigned["transfer"]["note"], note2, "{assigned}");
    assert!(
        assigned["history"]
            .as_array()
            .is_some_and(|h| h.iter().any(|m| m["text"] == "ok")),
        "{assigned}"
    );
    chatter.client.expect("joined").await;

    // End by the advocate.
    sam.end(&chat_id).await;
    let ended = chatter.client.expect("ended").await;
    assert_eq!(ended["reason"], "advocate_ended");

    // Nothing the chatter ever received names a login, a staff id, or an internal note.
    let everything = chatter.client.transcript();
    for secret in [
        sam.username.as_str(),
        alex.username.as_str(),
        sam.id.as_str(),
        alex.id.as_str(),
        note,
        note2,
        "Internal",
    ] {
        assert!(
            !everything.contains(secret),
            "the chatter must never see {secret:?}; they saw:\n{everything}"
        );
    }

    // A second chatter leaves by themself: the advocate is told.
    let (mut leaver, chat2) = claimed_chat(&app, &mut sam, "leaver").await;
    leaver.client.send(json!({"type": "leave"})).await;
    let ended = leaver.client.expect("ended").await;
    assert_eq!(ended["reason"], "chatter_left", "{ended}");
    let left = sam
        .client
        .until("`chatter_left`", |f| f["type"] == "chatter_left")
        .await;
    assert_eq!(left["chat_id"], chat2.as_str());
    assert_eq!(left["reason"], "left");

    // Logout: 204, the session is gone, and the console socket is closed.
    let response = logout(&app, &sam.cookie).await;
    assert_eq!(response.status(), 204);
    let response = me(&app, &sam.cookie).await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "not_logged_in");
    let ending = sam.client.ended(WAIT).await;
    assert_eq!(
        ending.code(),
        Some(4001),
        "logout closes the console with 4001 session_expired: {ending:?}"
    );
    // The other advocate is untouched.
    alex.client.still_works().await;
}

#[tokio::test]
async fn the_console_welcome_describes_the_advocate_and_the_program() {
    let app = spawn_app().await;
    let mut sam = staff(&app, "login-wren-01", "Advocate Sam", Role::Advocate).await;
    let welcome = sam.client.seen[0].clone();
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(welcome["v"], 1);
    assert_eq!(welcome["me"]["role"], "advocate");
    assert_eq!(
        welcome["available"], false,
        "nobody is available before saying so"
    );
    assert_eq!(welcome["capacity"], 3);
    assert_eq!(queue_ids(&welcome), ["general", "referrals"]);
    assert_eq!(welcome["queues"][0]["name"], "General support");
    assert_eq!(welcome["queues"][0]["languages"], json!(["en", "es"]));
    let canned = welcome["canned"].as_array().expect("canned");
    assert_eq!(canned.len(), 8, "four in English, four in Spanish");
    assert_eq!(canned[0]["language"], "en");
    assert_eq!(canned[0]["title"], "Safety check");
    assert!(welcome.to_string().len() < 64 * 1024);
    assert!(
        !welcome.to_string().contains(PASSWORD),
        "no password in the welcome"
    );
    sam.set_available(true).await;
    sam.client.still_works().await;
}

#[tokio::test]
async fn queue_positions_move_up_as_chatters_ahead_are_claimed() {
    let app = spawn_app().await;
    let mut sam = available_advocate(&app, "login-finch-02", "Advocate Sam").await;
    let mut first = hello(&app, "first", json!({})).await;
    assert_eq!(first.client.expect("queued").await["position"], 1);
    let first_id = sam.queue_of_len(1).await[0]["chat_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut second = hello(&app, "second", json!({})).await;
    assert_eq!(second.client.expect("queued").await["position"], 2);
    let mut third = hello(&app, "third", json!({})).await;
    assert_eq!(third.client.expect("queued").await["position"], 3);

    // Oldest first in the snapshot.
    let entries = sam.queue_of_len(3).await;
    assert_eq!(entries[0]["chat_id"], first_id.as_str());
    let waits: Vec<u64> = entries
        .iter()
        .map(|e| e["waiting_since"].as_u64().unwrap())
        .collect();
    assert!(
        waits.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {waits:?}"
    );

    sam.claim(&first_id).await;
    first.client.expect("joined").await;
    let moved = second.client.expect("queued").await;
    assert_eq!(moved["position"], 1, "the second moves up");
    let moved = third.client.expect("queued").await;
    assert_eq!(moved["position"], 2, "the third moves up");
}

#[tokio::test]
async fn supervisors_see_an_overview_of_chats_and_queues() {
    let app = spawn_app().await;
    let mut boss = staff(&app, "login-osprey-03", "Supervisor Kim", Role::Supervisor).await;
    let mut sam = available_advocate(&app, "login-lark-04", "Advocate Sam").await;
    let mut chatter = hello(&app, "chatter", json!({})).await;
    chatter.client.expect("queued").await;
    boss.client
        .until("overview with one waiting", |f| {
            f["type"] == "overview"
                && f["queues"]
                    .as_array()
                    .is_some_and(|q| q.iter().any(|q| q["id"] == "general" && q["waiting"] == 1))
        })
        .await;
    let chat_id = sam.queue_of_len(1).await[0]["chat_id"]
        .as_str()
        .unwrap()
        .to_string();
    sam.claim(&chat_id).await;
    let overview = boss
        .client
        .until("overview with the chat", |f| {
            f["type"] == "overview"
                && f["chats"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["chat_id"] == chat_id.as_str()))
        })
        .await;
    let chat = overview["chats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["chat_id"] == chat_id.as_str())
        .unwrap();
    assert_eq!(chat["queue"], "general");
    assert!(chat["since"].is_u64(), "{chat}");
    // The overview is read-only and about chats, never their content.
    chatter.say("c-1", "a private sentence").await;
    sam.hears(&chat_id, "a private sentence").await;
    boss.client.still_works().await;
    assert!(
        !boss.client.transcript().contains("a private sentence"),
        "a supervisor's overview carries no message text"
    );
    // Advocates do not get the overview.
    sam.client.still_works().await;
    assert!(
        sam.client.seen.iter().all(|f| f["type"] != "overview"),
        "overview is for supervisors and admins only"
    );
}

#[tokio::test]
async fn consoles_see_who_is_on_duty_as_transfer_targets() {
    let app = spawn_app().await;
    let mut sam = available_advocate(&app, "login-crane-05", "Advocate Sam").await;
    let alex = available_advocate(&app, "login-egret-06", "Advocate Alex").await;
    let advocates = sam
        .client
        .until("advocates snapshot with Alex available", |f| {
            f["type"] == "advocates"
                && f["advocates"].as_array().is_some_and(|a| {
                    a.iter()
                        .any(|a| a["id"] == alex.id.as_str() && a["available"] == true)
                })
        })
        .await;
    let entry = advocates["advocates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == alex.id.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["display_name"], "Advocate Alex");
    assert_eq!(entry["load"], 0);
    assert_eq!(entry["capacity"], 3);
}

#[tokio::test]
async fn transfers_that_cannot_happen_are_refused_and_the_chat_stays() {
    let app = spawn_app().await;
    let mut sam = available_advocate(&app, "login-plover-07", "Advocate Sam").await;
    let away = staff(&app, "login-rail-08", "Advocate Away", Role::Advocate).await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "chatter").await;

    // Neither target, both targets, or yourself.
    sam.client
        .send(json!({"type": "transfer", "chat_id": chat_id}))
        .await;
    sam.client.expect_error("invalid_transfer").await;
    sam.client
        .send(json!({"type": "transfer", "chat_id": chat_id, "to_advocate": away.id, "to_queue": "referrals"}))
        .await;
    sam.client.expect_error("invalid_transfer").await;
    sam.client
        .send(json!({"type": "transfer", "chat_id": chat_id, "to_advocate": sam.id}))
        .await;
    sam.client.expect_error("invalid_transfer").await;
    // An advocate who is not available.
    sam.client
        .send(json!({"type": "transfer", "chat_id": chat_id, "to_advocate": away.id}))
        .await;
    sam.client.expect_error("target_unavailable").await;
    // A note over 1000 characters (the doc names no code for it; either of these is clear).
    sam.client
        .send(json!({"type": "transfer", "chat_id": chat_id, "to_queue": "referrals", "note": "é".repeat(1001)}))
        .await;
    sam.client
        .expect_error_in(&["message_too_long", "invalid_frame"])
        .await;
    // A queue that does not exist.
    sam.client
        .send(json!({"type": "transfer", "chat_id": chat_id, "to_queue": "nowhere"}))
        .await;
    sam.client.expect_error("unknown_queue").await;

    // The chat is still Sam's and still flows; the chatter saw no transfer line.
    exchange(&mut chatter, &mut sam, &chat_id, "after-bad-transfers").await;
    assert!(
        chatter
            .client
            .seen
            .iter()
            .all(|f| !(f["type"] == "message" && f["from"] == "system")),
        "a refused transfer shows the chatter nothing: {}",
        chatter.client.transcript()
    );
}

#[tokio::test]
async fn a_transcript_keeps_only_its_newest_lines_within_the_configured_bounds() {
    let app = crate::common::spawn_app_with(|c| {
        c.chat.max_transcript_messages = 5;
        c.limits.rate_burst = 1000;
        c.limits.rate_per_sec = 1000;
    })
    .await;
    let mut sam = available_advocate(&app, "login-swift-09", "Advocate Sam").await;
    let mut alex = available_advocate(&app, "login-martin-10", "Advocate Alex").await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "chatter").await;
    let mut last = 0;
    for i in 0..8 {
        last = chatter.say(&format!("c-{i}"), &format!("line {i}")).await;
    }
    sam.hears(&chat_id, "line 7").await;
    sam.client
        .send(json!({"type": "transfer", "chat_id": chat_id, "to_advocate": alex.id}))
        .await;
    let assigned = alex.assigned(&chat_id).await;
    let history = assigned["history"].as_array().unwrap();
    assert!(
        history.len() <= 5,
        "at most chat.max_transcript_messages lines are kept: {history:?}"
    );
    let texts: Vec<&str> = history.iter().filter_map(|m| m["text"].as_str()).collect();
    assert!(
        texts.contains(&"line 7"),
        "the newest line is kept: {texts:?}"
    );
    assert!(
        !texts.contains(&"line 0"),
        "the oldest line is dropped: {texts:?}"
    );
    let seqs: Vec<u64> = history.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order: {seqs:?}");
    assert!(
        seqs.iter().all(|s| *s >= last.saturating_sub(5)),
        "{seqs:?}"
    );
}

#[tokio::test]
async fn ping_is_answered_on_both_sockets() {
    let app = spawn_app().await;
    let mut sam = staff(&app, "login-tern-11", "Advocate Sam", Role::Advocate).await;
    sam.client.still_works().await;
    let mut chatter = chatter_socket(&app, "chatter").await;
    // Before hello, too.
    chatter.still_works().await;
}

#[tokio::test]
async fn a_long_transcript_is_handed_over_whole_on_transfer() {
    // Default limits (a transcript may hold 256 KiB), except the rate: 40 long lines quickly.
    let app = crate::common::spawn_app_with(|c| {
        c.limits.rate_burst = 1000;
        c.limits.rate_per_sec = 1000;
    })
    .await;
    let mut sam = available_advocate(&app, "login-brant-12", "Advocate Sam").await;
    let mut alex = available_advocate(&app, "login-scaup-13", "Advocate Alex").await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "chatter").await;
    // 40 lines of 4000 bytes: 160 KB of history, within the 256 KiB transcript bound.
    for i in 0..40 {
        chatter
            .say(&format!("c-{i}"), &format!("{i:02}{}", "w".repeat(3998)))
            .await;
    }
    sam.client
        .send(json!({"type": "transfer", "chat_id": chat_id, "to_advocate": alex.id}))
        .await;
    let assigned = alex.assigned(&chat_id).await;
    let history = assigned["history"].as_array().unwrap();
    let chatter_lines: Vec<&str> = history
        .iter()
        .filter(|m| m["from"] == "chatter")
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(
        chatter_lines.len(),
        40,
        "the whole history reaches the new advocate"
    );
    assert!(chatter_lines[0].starts_with("00") && chatter_lines[39].starts_with("39"));
    assert_eq!(
        history.last().unwrap()["from"],
        "system",
        "the transfer's system line closes the history"
    );
    exchange(&mut chatter, &mut alex, &chat_id, "after-long-transfer").await;
}

#[tokio::test]
async fn what_a_chatter_writes_while_waiting_is_in_the_history_the_advocate_gets() {
    let app = spawn_app().await;
    let mut sam = available_advocate(&app, "login-smew-14", "Advocate Sam").await;
    let (mut chatter, tag) = tagged_hello(&app, "chatter").await;
    chatter.client.expect("queued").await;
    let seq = chatter.say("c-early", "I don't have much time").await;
    let chat_id = sam.chat_id_tagged(&tag).await;
    let assigned = sam.claim(&chat_id).await;
    let history = assigned["history"].as_array().unwrap();
    assert!(
        history.iter().any(|m| m["seq"] == seq
            && m["from"] == "chatter"
            && m["text"] == "I don't have much time"),
        "{assigned}"
    );
    chatter.client.expect("joined").await;
    // A second hello or a resume on a socket with a chat is refused.
    chatter.client.send(json!({"type": "hello"})).await;
    chatter.client.expect_error("already_started").await;
    chatter
        .client
        .send(json!({"type": "resume", "token": chatter.token, "last_seq": 0}))
        .await;
    chatter.client.expect_error("already_started").await;
    exchange(&mut chatter, &mut sam, &chat_id, "after-already-started").await;
}

#[tokio::test]
async fn a_transfer_to_an_advocate_who_is_full_is_refused() {
    let app = crate::common::spawn_app_with(|c| c.chat.max_chats_per_advocate = 1).await;
    let mut sam = available_advocate(&app, "login-sanderling-15", "Advocate Sam").await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "sam's chatter").await;
    let mut alex = available_advocate(&app, "login-dotterel-16", "Advocate Alex").await;
    let (_other, _) = claimed_chat(&app, &mut alex, "alex's chatter").await;
    sam.client
        .send(json!({"type": "transfer", "chat_id": chat_id, "to_advocate": alex.id}))
        .await;
    sam.client.expect_error("target_unavailable").await;
    exchange(&mut chatter, &mut sam, &chat_id, "after-refused").await;
}
