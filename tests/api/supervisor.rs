//! Supervisors act on chats that are not theirs: `end` any open chat, `reassign` it to another
//! advocate or a queue. The hub enforces the role: an advocate's `reassign` is `forbidden`, and
//! an advocate's `end` of someone else's chat is `chat_not_found`. The board's snapshots carry
//! what the supervisor needs (advocates' connection and load, queues' longest wait).

use haven::Role;
use serde_json::json;

use crate::common::spawn_app_with;
use crate::support::*;

#[tokio::test]
async fn supervisor_ends_any_chat_and_an_advocate_cannot() {
    let app = crate::common::spawn_app().await;
    let mut sam = available_advocate(&app, "sam", "Advocate Sam").await;
    let mut rival = available_advocate(&app, "rival", "Advocate Rival").await;
    let mut sue = staff(&app, "sue", "Supervisor Sue", Role::Supervisor).await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "c1").await;

    // Another advocate may neither end nor reassign it.
    rival
        .client
        .send(json!({"type": "end", "chat_id": chat_id}))
        .await;
    rival.client.expect_error("chat_not_found").await;
    rival
        .client
        .send(json!({"type": "reassign", "chat_id": chat_id, "to_queue": "referrals"}))
        .await;
    let error = rival.client.expect_error("forbidden").await;
    assert_eq!(error["chat_id"], chat_id.as_str(), "{error}");
    // Nor may the chat's own advocate reassign it (they transfer instead).
    sam.client
        .send(json!({"type": "reassign", "chat_id": chat_id, "to_queue": "referrals"}))
        .await;
    sam.client.expect_error("forbidden").await;
    exchange(&mut chatter, &mut sam, &chat_id, "still-flowing").await;

    // The supervisor sees it on the board and ends it.
    let overview = sue
        .client
        .until("the chat on the board", |f| {
            f["type"] == "overview"
                && f["chats"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["chat_id"] == chat_id.as_str()))
        })
        .await;
    let row = overview["chats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["chat_id"] == chat_id.as_str())
        .unwrap();
    assert_eq!(row["advocate_id"], sam.id.as_str(), "{row}");
    assert_eq!(row["advocate"], "Advocate Sam", "{row}");
    sue.client
        .send(json!({"type": "end", "chat_id": chat_id}))
        .await;
    let ended = chatter.client.expect("ended").await;
    assert_eq!(ended["reason"], "advocate_ended", "{ended}");
    let ended = sam.client.expect("ended").await;
    assert_eq!(ended["chat_id"], chat_id.as_str());
    assert_eq!(ended["reason"], "ended_by_supervisor", "{ended}");
    sue.client
        .until("the board without the chat", |f| {
            f["type"] == "overview"
                && f["chats"]
                    .as_array()
                    .is_some_and(|c| c.iter().all(|c| c["chat_id"] != chat_id.as_str()))
        })
        .await;
    // Ending it again: it is closed.
    sue.client
        .send(json!({"type": "end", "chat_id": chat_id}))
        .await;
    sue.client.expect_error("chat_closed").await;
    app.shutdown.trigger();
}

#[tokio::test]
async fn supervisor_reassigns_a_chat_to_an_advocate_then_to_a_queue() {
    let app = crate::common::spawn_app().await;
    let mut sam = available_advocate(&app, "sam", "Advocate Sam").await;
    let mut sue = staff(&app, "sue", "Supervisor Sue", Role::Supervisor).await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "c1").await;
    exchange(&mut chatter, &mut sam, &chat_id, "before").await;
    let mut amy = available_advocate(&app, "amy", "Advocate Amy").await;

    // Bad targets are refused with a reason; the chat stays where it is.
    for (frame, code) in [
        (
            json!({"type": "reassign", "chat_id": chat_id}),
            "invalid_transfer",
        ),
        (
            json!({"type": "reassign", "chat_id": chat_id, "to_queue": "referrals", "to_advocate": amy.id}),
            "invalid_transfer",
        ),
        (
            json!({"type": "reassign", "chat_id": chat_id, "to_queue": "nowhere"}),
            "unknown_queue",
        ),
        (
            json!({"type": "reassign", "chat_id": chat_id, "to_advocate": sam.id}),
            "invalid_transfer",
        ),
        (
            json!({"type": "reassign", "chat_id": uuid::Uuid::new_v4(), "to_queue": "general"}),
            "chat_not_found",
        ),
    ] {
        sue.client.send(frame).await;
        sue.client.expect_error(code).await;
    }
    exchange(&mut chatter, &mut sam, &chat_id, "after-refusals").await;

    // To Amy: Sam is told, Amy gets the history and who had it, the chatter sees the usual line.
    sue.client
        .send(json!({"type": "reassign", "chat_id": chat_id, "to_advocate": amy.id}))
        .await;
    let ended = sam.client.expect("ended").await;
    assert_eq!(ended["reason"], "reassigned", "{ended}");
    let assigned = amy.assigned(&chat_id).await;
    assert_eq!(assigned["transfer"]["from"], "Advocate Sam", "{assigned}");
    assert!(
        assigned["history"]
            .to_string()
            .contains("from chatter before"),
        "{assigned}"
    );
    chatter
        .client
        .until("the transfer line", |f| {
            f["type"] == "message" && f["key"] == "transfer_to_advocate"
        })
        .await;
    chatter.client.expect("joined").await;
    exchange(&mut chatter, &mut amy, &chat_id, "with-amy").await;
    sam.client
        .send(json!({"type": "message", "chat_id": chat_id, "id": "a-x", "text": "mine?"}))
        .await;
    sam.client.expect_error("chat_not_found").await;

    // To the referrals queue: the chatter waits there, keeping their place.
    sue.client
        .send(json!({"type": "reassign", "chat_id": chat_id, "to_queue": "referrals"}))
        .await;
    let ended = amy.client.expect("ended").await;
    assert_eq!(ended["reason"], "reassigned", "{ended}");
    let queued = chatter.client.expect("queued").await;
    assert_eq!(queued["queue"], "referrals", "{queued}");
    let overview = sue
        .client
        .until("referrals with one waiting", |f| {
            f["type"] == "overview"
                && f["queues"].as_array().is_some_and(|q| {
                    q.iter()
                        .any(|q| q["id"] == "referrals" && q["waiting"] == 1)
                })
        })
        .await;
    let referrals = overview["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "referrals")
        .unwrap();
    assert!(
        referrals["longest_waiting_since"].is_u64(),
        "the board shows how long: {referrals}"
    );
    let general = overview["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "general")
        .unwrap();
    assert!(general["longest_waiting_since"].is_null(), "{general}");
    // A waiting chat can be given straight to an advocate too.
    sue.client
        .send(json!({"type": "reassign", "chat_id": chat_id, "to_advocate": sam.id}))
        .await;
    sam.assigned(&chat_id).await;
    chatter.client.expect("joined").await;
    exchange(&mut chatter, &mut sam, &chat_id, "back-with-sam").await;
    app.shutdown.trigger();
}

#[tokio::test]
async fn the_board_shows_who_is_connected_and_status_says_when_chatters_are_turned_away() {
    // Open one minute a day, at local midnight, with the offset chosen so that it is about noon
    // locally now: closed.
    let offset = 720 - minutes_since_midnight_utc();
    let app = spawn_app_with(|c| {
        c.service_hours.windows = vec!["mon-sun 00:00-00:01".into()];
        c.service_hours.utc_offset_minutes = offset;
    })
    .await;
    let mut sam = staff(&app, "sam", "Advocate Sam", Role::Advocate).await;
    sam.client
        .send(json!({"type": "status", "available": true}))
        .await;
    let status = sam
        .client
        .until("available status", |f| {
            f["type"] == "status" && f["available"] == true
        })
        .await;
    assert_eq!(status["open_now"], false, "{status}");
    assert_eq!(status["queue_full"], false, "{status}");
    app.shutdown.trigger();

    // Open, with room for one waiting chatter: the second is turned away, and status says so.
    let app = spawn_app_with(|c| c.chat.max_waiting = 1).await;
    let mut sam = available_advocate(&app, "sam", "Advocate Sam").await;
    let mut sue = staff(&app, "sue", "Supervisor Sue", Role::Supervisor).await;
    let mut first = hello(&app, "first", json!({})).await;
    first.client.expect("queued").await;
    let status = sam
        .client
        .until("a full queue", |f| {
            f["type"] == "status" && f["queue_full"] == true
        })
        .await;
    assert_eq!(status["open_now"], true, "{status}");
    let mut second = chatter_socket(&app, "second").await;
    second.send(json!({"type": "hello"})).await;
    let offline = second.expect("offline").await;
    assert_eq!(offline["reason"], "queue_full");

    // The board: Sam connected and available; once his socket is gone (grace), not connected.
    let advocates = sue
        .client
        .until("Sam on the board", |f| {
            f["type"] == "advocates"
                && f["advocates"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|a| a["id"] == sam.id.as_str()))
        })
        .await;
    let row = advocates["advocates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == sam.id.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["connected"], true, "{row}");
    assert_eq!(row["available"], true, "{row}");
    let sam_id = sam.id.clone();
    drop(sam);
    sue.client
        .until("Sam disconnected, still on the board", |f| {
            f["type"] == "advocates"
                && f["advocates"].as_array().is_some_and(|a| {
                    a.iter()
                        .any(|a| a["id"] == sam_id.as_str() && a["connected"] == false)
                })
        })
        .await;
    app.shutdown.trigger();
}

/// Minutes since midnight UTC now.
fn minutes_since_midnight_utc() -> i32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    ((secs % 86_400) / 60) as i32
}

#[tokio::test]
async fn reading_a_transcript_in_progress_is_off_unless_the_program_allows_it() {
    // Off by default: even a supervisor is refused.
    let app = crate::common::spawn_app().await;
    let mut sam = available_advocate(&app, "sam", "Advocate Sam").await;
    let mut sue = staff(&app, "sue", "Supervisor Sue", Role::Supervisor).await;
    let (_chatter, chat_id) = claimed_chat(&app, &mut sam, "c1").await;
    sue.client
        .send(json!({"type": "read_transcript", "chat_id": chat_id}))
        .await;
    sue.client.expect_error("forbidden").await;
    app.shutdown.trigger();

    // Turned on: supervisors may, advocates still may not.
    let app = spawn_app_with(|c| c.supervisors.may_read_transcripts = true).await;
    let mut sam = available_advocate(&app, "sam", "Advocate Sam").await;
    app.add_staff("sue", "Supervisor Sue", Role::Supervisor, PASSWORD);
    let cookie = app.login("sue", PASSWORD).await;
    let ws = app.console(&cookie).await;
    let mut sue = Client::new("console sue", ws);
    let welcome = sue.expect("welcome").await;
    assert_eq!(welcome["may_read_transcripts"], true, "{welcome}");
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "c1").await;
    exchange(&mut chatter, &mut sam, &chat_id, "seen").await;
    let mut amy = staff(&app, "amy", "Advocate Amy", Role::Advocate).await;
    amy.client
        .send(json!({"type": "read_transcript", "chat_id": chat_id}))
        .await;
    amy.client.expect_error("forbidden").await;
    sue.send(json!({"type": "read_transcript", "chat_id": chat_id}))
        .await;
    let transcript = sue.expect("transcript").await;
    assert_eq!(transcript["chat_id"], chat_id.as_str());
    assert_eq!(transcript["advocate"], "Advocate Sam");
    let text = transcript["history"].to_string();
    assert!(
        text.contains("from chatter seen") && text.contains("from advocate seen"),
        "{transcript}"
    );
    sue.send(json!({"type": "read_transcript", "chat_id": uuid::Uuid::new_v4()}))
        .await;
    sue.expect_error("chat_not_found").await;

    // Each reading is in the audit log, by whom, without the chat or its content.
    app.add_staff("ada", "Admin Ada", Role::Admin, PASSWORD);
    let admin = app.login("ada", PASSWORD).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let viewed = loop {
        let entries: serde_json::Value = http()
            .get(app.url("/api/admin/audit?action=transcript_viewed"))
            .header("cookie", &admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(entries) = entries.as_array().filter(|e| !e.is_empty()) {
            break entries.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no transcript_viewed entry"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(
        viewed.len(),
        1,
        "the refused and the unknown readings are not: {viewed:?}"
    );
    assert_eq!(viewed[0]["actor"], welcome["me"]["id"], "{viewed:?}");
    assert!(!serde_json::Value::Array(viewed)
        .to_string()
        .contains("seen"));
    app.shutdown.trigger();
}

#[tokio::test]
async fn supervisor_actions_and_a_lapsed_session_log_ids_only() {
    let text = canary("TEXT");
    let (dir, config_path) = config_dir(
        "",
        "[supervisors]\nmay_read_transcripts = true\n\n[auth]\nconsole_session_check_secs = 1\n",
        "haven=trace,info",
    );
    staff_add(
        &config_path,
        "login-wren-201",
        "advocate",
        "Advocate Wren",
        PASSWORD,
    );
    staff_add(
        &config_path,
        "login-kite-202",
        "advocate",
        "Advocate Kite",
        PASSWORD,
    );
    staff_add(
        &config_path,
        "login-owl-203",
        "supervisor",
        "Supervisor Owl",
        PASSWORD,
    );
    let data_dir = dir.path().join("data");
    let mut server = Binary::serve(dir, config_path, &[]);
    {
        let mut consoles = Vec::new();
        let mut cookies = Vec::new();
        for username in ["login-wren-201", "login-kite-202", "login-owl-203"] {
            let response = post_login(&server.url("/api/staff/login"), username, PASSWORD).await;
            assert_eq!(response.status(), 200);
            let cookie = session_cookie(&response);
            let url = server.ws_url("/ws/console");
            let (client, welcome) = console_on_duty(&url, &[("cookie", &cookie)], username).await;
            let id = welcome["me"]["id"].as_str().unwrap().to_string();
            consoles.push((client, id));
            cookies.push(cookie);
        }
        let (mut owl, _) = consoles.remove(2);
        let (mut kite, kite_id) = consoles.remove(1);
        let (mut wren, _) = consoles.remove(0);

        let ws = upgrade(&server.ws_url("/ws/chat"), &[]).await;
        let mut chatter = Client::new("chatter", ws);
        say_hello(&mut chatter, json!({"language": "es"})).await;
        chatter.expect("queued").await;
        let queue = wren
            .until("the chatter", |f| {
                f["type"] == "queue" && f["entries"].as_array().is_some_and(|e| !e.is_empty())
            })
            .await;
        let chat_id = queue["entries"][0]["chat_id"].as_str().unwrap().to_string();
        wren.send(json!({"type": "claim", "chat_id": chat_id}))
            .await;
        wren.until("assigned", |f| f["type"] == "assigned").await;
        chatter
            .send(json!({"type": "message", "id": "c-1", "text": text}))
            .await;
        wren.until("the canary", |f| f["text"] == text.as_str())
            .await;
        owl.send(json!({"type": "read_transcript", "chat_id": chat_id}))
            .await;
        let read = owl.expect("transcript").await;
        assert!(read.to_string().contains(&text));
        owl.send(json!({"type": "reassign", "chat_id": chat_id, "to_advocate": kite_id}))
            .await;
        kite.until("assigned", |f| f["type"] == "assigned").await;
        // Kite's session lapses (removed from the store, as expiry would): ids in the log only.
        let token = cookies[1].split_once('=').unwrap().1.to_string();
        let store = haven::store::Store::open(&data_dir).unwrap();
        assert!(store.delete_session(&token).unwrap());
        kite.expect_error("session_expired").await;
        owl.send(json!({"type": "end", "chat_id": chat_id})).await;
        chatter.expect("ended").await;
    }
    server.terminate();
    let output = server.output();
    assert!(output.contains("supervisor read a transcript"), "{output}");
    assert!(output.contains("staff session lapsed"), "{output}");
    for (what, needle) in [
        ("message text", text.as_str()),
        ("advocate's display name", "Advocate Kite"),
        ("supervisor's display name", "Supervisor Owl"),
        ("login name", "login-owl-203"),
    ] {
        assert!(
            !output.contains(needle),
            "the {what} appears in the log:\n{output}"
        );
    }
}
