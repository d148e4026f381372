//! Bad input gets a clear, stable error; the connection survives unless it is abusive; and every
//! other chat keeps flowing meanwhile.

use std::time::Duration;

use haven::Role;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::common::{spawn_app, spawn_app_with, TestApp};
use crate::support::*;

/// A healthy chat that runs beside the misbehaving client, to prove it keeps flowing.
struct Bystanders {
    chatter: Chatter,
    advocate: Staff,
    chat_id: String,
    round: usize,
}

impl Bystanders {
    async fn new(app: &TestApp) -> Bystanders {
        let mut advocate = available_advocate(app, "login-bystander", "Advocate Calm").await;
        let (chatter, chat_id) = claimed_chat(app, &mut advocate, "bystander chatter").await;
        Bystanders {
            chatter,
            advocate,
            chat_id,
            round: 0,
        }
    }

    async fn still_flowing(&mut self) {
        self.round += 1;
        let tag = format!("bystander-{}", self.round);
        exchange(&mut self.chatter, &mut self.advocate, &self.chat_id, &tag).await;
    }
}

#[tokio::test]
async fn a_chatter_sending_garbage_gets_clear_errors_and_keeps_the_connection() {
    // Many frames from one socket: the rate limit is tested on its own below.
    let app = spawn_app_with(|c| {
        c.limits.rate_burst = 1000;
        c.limits.rate_per_sec = 1000;
    })
    .await;
    let mut calm = Bystanders::new(&app).await;
    let mut bad = chatter_socket(&app, "bad chatter").await;

    // Before any chat exists.
    bad.send_raw(Message::text("{this is not json")).await;
    bad.expect_error("malformed_json").await;
    bad.still_works().await;
    bad.send_raw(Message::text("[1, 2, 3]")).await;
    bad.expect_error("malformed_json").await;
    bad.send_raw(Message::text("\"hello\"")).await;
    bad.expect_error("malformed_json").await;
    bad.still_works().await;
    calm.still_flowing().await;

    bad.send(json!({"type": "explode"})).await;
    bad.expect_error("unknown_type").await;
    bad.send(json!({"no_type": true})).await;
    bad.expect_error_in(&["invalid_frame", "unknown_type"])
        .await;
    // A console frame type is not a chatter frame type.
    bad.send(json!({"type": "claim", "chat_id": "0b6f2f7e-7d1e-4c53-9d0e-5f1f8a7f2c11"}))
        .await;
    bad.expect_error("unknown_type").await;
    bad.still_works().await;

    bad.send_raw(Message::binary(vec![1u8, 2, 3])).await;
    bad.expect_error("binary_not_supported").await;
    bad.still_works().await;

    bad.send(json!({"type": "message", "id": "c-0", "text": "too early"}))
        .await;
    bad.expect_error("not_started").await;
    bad.send(json!({"type": "typing", "on": true})).await;
    bad.expect_error("not_started").await;
    bad.send(json!({"type": "leave"})).await;
    bad.expect_error("not_started").await;
    bad.send(json!({"type": "resume"})).await;
    bad.expect_error("invalid_frame").await;
    bad.send(json!({"type": "hello", "v": 3})).await;
    bad.expect_error("unsupported_version").await;
    bad.send(json!({"type": "hello", "queue": "no-such-queue"}))
        .await;
    bad.expect_error("unknown_queue").await;
    bad.send(json!({"type": "hello", "intake": "not an object"}))
        .await;
    bad.expect_error("invalid_frame").await;
    // Intake: at most 20 flat answers, values up to 200 characters.
    let too_many: serde_json::Map<String, serde_json::Value> =
        (0..21).map(|i| (format!("q{i}"), json!("a"))).collect();
    bad.send(json!({"type": "hello", "intake": too_many})).await;
    bad.expect_error("invalid_frame").await;
    bad.send(json!({"type": "hello", "intake": {"nested": {"a": 1}}}))
        .await;
    bad.expect_error("invalid_frame").await;
    bad.send(json!({"type": "hello", "intake": {"list": [1, 2]}}))
        .await;
    bad.expect_error("invalid_frame").await;
    bad.send(json!({"type": "hello", "intake": {"long": "é".repeat(201)}}))
        .await;
    bad.expect_error("invalid_frame").await;
    bad.send(json!({"type": "hello", "intake": {"k".repeat(41): "a"}}))
        .await;
    bad.expect_error("invalid_frame").await;
    bad.still_works().await;
    calm.still_flowing().await;

    // Now a real chat: hello works after all of that.
    bad.send(json!({"type": "hello"})).await;
    bad.expect("welcome").await;
    bad.expect("queued").await;
    bad.send(json!({"type": "hello"})).await;
    bad.expect_error("already_started").await;
    // Typing before an advocate joined is ignored: no error, nothing else.
    bad.send(json!({"type": "typing", "on": true})).await;
    let before_pong = bad.still_works().await;
    assert!(
        before_pong.is_empty(),
        "typing while waiting is ignored: {before_pong:?}"
    );
    // A message before an advocate joined is fine.
    bad.send(json!({"type": "message", "id": "early", "text": "is anyone there?"}))
        .await;
    bad.until("`ack` of the early message", |f| {
        f["type"] == "ack" && f["id"] == "early"
    })
    .await;

    // Missing and mistyped fields.
    bad.send(json!({"type": "message", "text": "no id"})).await;
    bad.expect_error("invalid_frame").await;
    bad.send(json!({"type": "message", "id": "c-1"})).await;
    bad.expect_error("invalid_frame").await;
    bad.send(json!({"type": "message", "id": 7, "text": "numeric id"}))
        .await;
    bad.expect_error("invalid_frame").await;
    bad.send(json!({"type": "typing", "on": "yes"})).await;
    bad.expect_error("invalid_frame").await;
    bad.send(json!({"type": "message", "id": "", "text": "empty id"}))
        .await;
    bad.expect_error("invalid_frame").await;
    bad.send(json!({"type": "message", "id": "x".repeat(65), "text": "long id"}))
        .await;
    bad.expect_error("invalid_frame").await;
    bad.still_works().await;
    calm.still_flowing().await;

    // Unknown fields are ignored.
    bad.send(json!({"type": "ping", "extra": {"nested": [1, 2]}}))
        .await;
    bad.expect("pong").await;
    calm.still_flowing().await;
}

#[tokio::test]
async fn message_text_is_limited_in_bytes_with_the_limit_itself_allowed() {
    let app = spawn_app().await;
    let mut sam = available_advocate(&app, "login-ruff-60", "Advocate Sam").await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "chatter").await;

    // Exactly 4096 bytes is fine, from either side.
    let exactly = "a".repeat(4096);
    chatter.say("c-max", &exactly).await;
    sam.hears(&chat_id, &exactly).await;
    sam.say(&chat_id, "a-max", &exactly).await;
    chatter.hears(&exactly).await;
    // 2048 two-byte characters are 4096 bytes: fine. One more is 4098 bytes: too long.
    let accents = "é".repeat(2048);
    chatter.say("c-accents", &accents).await;

    for (id, text) in [
        ("c-long", "a".repeat(4097)),
        ("c-long-utf8", "é".repeat(2049)),
        ("c-empty", String::new()),
    ] {
        chatter
            .client
            .send(json!({"type": "message", "id": id, "text": text}))
            .await;
        let error = chatter.client.expect_error("message_too_long").await;
        assert_eq!(error["id"], id, "the error names the message: {error}");
        sam.client
            .send(json!({"type": "message", "chat_id": chat_id, "id": format!("a-{id}"), "text": text}))
            .await;
        let error = sam.client.expect_error("message_too_long").await;
        assert_eq!(error["id"], format!("a-{id}"), "{error}");
    }
    // Nothing too long reached the other side, and both still chat.
    exchange(&mut chatter, &mut sam, &chat_id, "after-long").await;
    assert!(
        sam.client
            .seen
            .iter()
            .all(|f| f["text"].as_str().is_none_or(|t| t.len() <= 4096)),
        "no over-long text was relayed"
    );
}

#[tokio::test]
async fn a_frame_over_the_socket_limit_closes_that_socket_only() {
    let app = spawn_app().await;
    let mut calm = Bystanders::new(&app).await;
    let big = "x".repeat(70_000);

    let mut bad = chatter_socket(&app, "huge chatter").await;
    bad.send(json!({"type": "hello"})).await;
    bad.expect("welcome").await;
    bad.send(json!({"type": "message", "id": "c-1", "text": big}))
        .await;
    let ending = bad.ended(WAIT).await;
    assert_eq!(
        ending.code(),
        Some(1009),
        "frame_too_large closes with 1009: {ending:?}"
    );
    calm.still_flowing().await;

    let mut sam = staff(&app, "login-stint-61", "Advocate Sam", Role::Advocate).await;
    sam.client
        .send(json!({"type": "message", "chat_id": calm.chat_id, "id": "a-1", "text": big}))
        .await;
    let ending = sam.client.ended(WAIT).await;
    assert_eq!(ending.code(), Some(1009), "{ending:?}");
    calm.still_flowing().await;
}

#[tokio::test]
async fn a_flood_is_rate_limited_and_repeated_floods_close_the_socket() {
    let app = spawn_app().await;
    let mut calm = Bystanders::new(&app).await;

    // One burst beyond the bucket: some frames are refused, the socket survives.
    let mut noisy = chatter_socket(&app, "noisy chatter").await;
    for _ in 0..30 {
        noisy.send(json!({"type": "ping"})).await;
    }
    noisy.expect_error("rate_limited").await;
    calm.still_flowing().await;
    // After a pause it works again (retry while the bucket refills; never assert speed).
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        noisy.send(json!({"type": "ping"})).await;
        let answer = noisy
            .until("pong or rate_limited", |f| {
                f["type"] == "pong" || f["type"] == "error"
            })
            .await;
        if answer["type"] == "pong" {
            break;
        }
        assert_eq!(answer["code"], "rate_limited", "{answer}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the bucket never refilled"
        );
    }

    // A flood that keeps going is abusive: the socket is closed with 1008.
    // Frames go one at a time, each answer read before the next frame, so that nothing unread
    // is left in the server's buffer when it closes.
    let mut abusive = chatter_socket(&app, "abusive chatter").await;
    let mut closed = None;
    for _ in 0..2000 {
        if let Err(e) = abusive.send_fallible(json!({"type": "ping"})).await {
            panic!("the socket failed before a close frame arrived: {e}");
        }
        if let Err(ending) = abusive.next_or_end().await {
            closed = Some(ending);
            break;
        }
    }
    let ending = closed.expect("2000 frames in a flood close the socket");
    assert_eq!(
        ending.code(),
        Some(1008),
        "an abusive flood closes with 1008: {ending:?}"
    );
    assert!(
        abusive
            .seen
            .iter()
            .any(|f| f["type"] == "error" && f["code"] == "rate_limited"),
        "the flood was told it was rate limited before the close"
    );
    calm.still_flowing().await;
}

#[tokio::test]
async fn a_console_burst_beyond_its_allowance_is_rate_limited_not_dropped() {
    let app = spawn_app().await;
    let mut calm = Bystanders::new(&app).await;
    // The console's allowance is three times the chatter's; ten frames more than its burst.
    let console_burst = 3 * haven::Config::embedded_defaults().limits.rate_burst;
    let mut sam = staff(&app, "login-sora-62", "Advocate Sam", Role::Advocate).await;
    for _ in 0..console_burst + 10 {
        sam.client.send(json!({"type": "ping"})).await;
    }
    sam.client.expect_error("rate_limited").await;
    // Ten violations are far from `rate_violations_before_close`: the console stays.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        sam.client
            .send(json!({"type": "status", "available": true}))
            .await;
        let answer = sam
            .client
            .until("status or rate_limited", |f| {
                (f["type"] == "status" && f["available"] == true) || f["type"] == "error"
            })
            .await;
        if answer["type"] == "status" {
            break;
        }
        assert_eq!(answer["code"], "rate_limited", "{answer}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the bucket never refilled"
        );
    }
    calm.still_flowing().await;
}

#[tokio::test]
async fn claims_of_chats_that_are_gone_and_messages_to_closed_chats_are_refused() {
    let app = spawn_app().await;
    let mut calm = Bystanders::new(&app).await;
    let mut sam = available_advocate(&app, "login-coot-63", "Advocate Sam").await;

    // A chatter who left the queue before being claimed.
    let (mut gone, tag) = tagged_hello(&app, "gone").await;
    gone.client.expect("queued").await;
    let gone_id = sam.chat_id_tagged(&tag).await;
    gone.client.send(json!({"type": "leave"})).await;
    sam.client
        .until("the queue without the leaver", |f| {
            f["type"] == "queue"
                && f["entries"]
                    .as_array()
                    .is_some_and(|e| e.iter().all(|e| e["chat_id"] != gone_id.as_str()))
        })
        .await;
    sam.client
        .send(json!({"type": "claim", "chat_id": gone_id}))
        .await;
    sam.client
        .expect_error_in(&["already_claimed", "chat_not_found"])
        .await;
    // A chat id that never existed.
    sam.client
        .send(json!({"type": "claim", "chat_id": uuid::Uuid::new_v4()}))
        .await;
    sam.client
        .expect_error_in(&["already_claimed", "chat_not_found"])
        .await;
    // Someone else's chat.
    sam.client
        .send(json!({"type": "message", "chat_id": calm.chat_id, "id": "a-1", "text": "not mine"}))
        .await;
    sam.client.expect_error("chat_not_found").await;
    sam.client
        .send(json!({"type": "end", "chat_id": calm.chat_id}))
        .await;
    sam.client.expect_error("chat_not_found").await;
    calm.still_flowing().await;
    assert!(
        !calm.chatter.client.transcript().contains("not mine"),
        "another advocate cannot write into a chat that is not theirs"
    );

    // A chat the chatter left: the advocate gets chat_closed.
    let (mut leaver, chat_id) = claimed_chat(&app, &mut sam, "leaver").await;
    leaver.client.send(json!({"type": "leave"})).await;
    sam.client.expect("chatter_left").await;
    sam.client
        .send(json!({"type": "message", "chat_id": chat_id, "id": "a-2", "text": "hello?"}))
        .await;
    sam.client.expect_error("chat_closed").await;
    sam.client
        .send(json!({"type": "typing", "chat_id": chat_id, "on": true}))
        .await;
    sam.client.expect_error("chat_closed").await;

    // A chat the advocate ended: the chatter gets chat_closed.
    let (mut ended, chat_id) = claimed_chat(&app, &mut sam, "ended").await;
    sam.end(&chat_id).await;
    ended.client.expect("ended").await;
    ended
        .client
        .send(json!({"type": "message", "id": "c-9", "text": "wait"}))
        .await;
    let error = ended.client.expect_error("chat_closed").await;
    assert_eq!(error["id"], "c-9", "{error}");
    ended.client.still_works().await;
    sam.client
        .send(json!({"type": "message", "chat_id": chat_id, "id": "a-3", "text": "one more"}))
        .await;
    sam.client
        .expect_error_in(&["chat_closed", "chat_not_found"])
        .await;

    // Console garbage.
    sam.client.send_raw(Message::text("not json")).await;
    sam.client.expect_error("malformed_json").await;
    sam.client.send(json!({"type": "hello"})).await;
    sam.client.expect_error("unknown_type").await;
    sam.client.send(json!({"type": "claim"})).await;
    sam.client.expect_error("invalid_frame").await;
    sam.client
        .send(json!({"type": "claim", "chat_id": "not-a-uuid"}))
        .await;
    sam.client.expect_error("invalid_frame").await;
    sam.client.send(json!({"type": "status"})).await;
    sam.client.expect_error("invalid_frame").await;
    sam.client.send_raw(Message::binary(vec![0u8; 8])).await;
    sam.client.expect_error("binary_not_supported").await;
    sam.client.still_works().await;
    calm.still_flowing().await;
}

#[tokio::test]
async fn a_console_upgrade_without_a_valid_session_is_refused_with_401() {
    let app = spawn_app().await;
    let url = format!("ws://{}/ws/console", app.addr);
    let (status, body) = refused_upgrade(&url, &[]).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "not_logged_in");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    let (status, body) =
        refused_upgrade(&url, &[("cookie", "haven_session=forged-session-id")]).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "not_logged_in");

    // An evaluator has a session but no console.
    app.add_staff("login-judge-64", "Evaluator Pat", Role::Evaluator, PASSWORD);
    let cookie = app.login("login-judge-64", PASSWORD).await;
    let (status, body) = refused_upgrade(&url, &[("cookie", &cookie)]).await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "forbidden");

    // Supervisors and admins may connect.
    staff(&app, "login-chief-65", "Supervisor Kim", Role::Supervisor).await;
    staff(&app, "login-root-66", "Admin Lee", Role::Admin).await;
}

#[tokio::test]
async fn upgrades_from_a_foreign_origin_are_refused_on_both_sockets() {
    let app = spawn_app_with(|c| {
        c.server.allowed_origins = vec!["https://program.example.org".into()];
    })
    .await;
    app.add_staff("login-gull-67", "Advocate Sam", Role::Advocate, PASSWORD);
    let cookie = app.login("login-gull-67", PASSWORD).await;
    let chat = format!("ws://{}/ws/chat", app.addr);
    let console = format!("ws://{}/ws/console", app.addr);

    for origin in [
        "https://evil.example.com",
        "http://127.0.0.1.evil.example.com",
        "null",
        "https://program.example.org.evil.example.com",
        // Same host, another port: another origin.
        "http://127.0.0.1:1",
    ] {
        let (status, body) = refused_upgrade(&chat, &[("origin", origin)]).await;
        assert_eq!(status, 403, "chat socket from {origin}");
        assert_eq!(body["code"], "origin_not_allowed");
        let (status, body) =
            refused_upgrade(&console, &[("origin", origin), ("cookie", &cookie)]).await;
        assert_eq!(status, 403, "console socket from {origin}");
        assert_eq!(body["code"], "origin_not_allowed");
    }

    // Haven's own origin and the configured one are fine, on both sockets.
    let own = format!("http://{}", app.addr);
    for origin in [own.as_str(), "https://program.example.org"] {
        let ws = upgrade(&chat, &[("origin", origin)]).await;
        let mut chatter = Client::new(format!("chatter from {origin}"), ws);
        chatter.still_works().await;
        let ws = upgrade(&console, &[("origin", origin), ("cookie", &cookie)]).await;
        let mut console = Client::new(format!("console from {origin}"), ws);
        console.expect("welcome").await;
    }
}

#[tokio::test]
async fn a_misbehaving_chatter_in_a_chat_does_not_disturb_another_chat() {
    let app = spawn_app().await;
    let mut calm = Bystanders::new(&app).await;
    let mut sam = available_advocate(&app, "login-shrike-68", "Advocate Sam").await;
    let (mut bad, chat_id) = claimed_chat(&app, &mut sam, "bad chatter").await;
    for garbage in [
        Message::text("}{"),
        Message::text(json!({"type": "nope"}).to_string()),
        Message::text(json!({"type": "message"}).to_string()),
        Message::binary(vec![0xff; 32]),
    ] {
        bad.client.send_raw(garbage).await;
        bad.client
            .expect_error_in(&[
                "malformed_json",
                "unknown_type",
                "invalid_frame",
                "binary_not_supported",
            ])
            .await;
        calm.still_flowing().await;
    }
    // The misbehaving chatter's own chat is intact too.
    exchange(&mut bad, &mut sam, &chat_id, "after-garbage").await;
}
