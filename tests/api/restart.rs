//! `kill -9` and restart (issue 8): the real binary is killed in the middle of a live chat and
//! started again on the same database. What was written stays (staff, sessions, a survey, the
//! day's counts); the chat that lived only in memory is gone, and its page is told so.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::*;

/// The console of `username`, logged in on `binary`, available for chats.
async fn on_duty(binary: &Binary, cookie: &str) -> Client {
    let url = binary.ws_url("/ws/console");
    console_on_duty(&url, &[("cookie", cookie)], "advocate console")
        .await
        .0
}

/// A chatter who says hello with a unique tag and is claimed by `console`: (chatter, token,
/// chat id).
async fn claimed(binary: &Binary, console: &mut Client, name: &str) -> (Client, String, String) {
    let tag = format!("{name}-{}", uuid::Uuid::new_v4().simple());
    let mut chatter = Client::new(name, upgrade(&binary.ws_url("/ws/chat"), &[]).await);
    chatter
        .send(json!({"type": "hello", "intake": {"tag": tag}}))
        .await;
    let token = chatter.expect("welcome").await["token"]
        .as_str()
        .expect("welcome carries a token")
        .to_string();
    chatter.expect("queued").await;
    let chat_id = console.queue_entry_tagged(&tag).await["chat_id"]
        .as_str()
        .unwrap()
        .to_string();
    console
        .send(json!({"type": "claim", "chat_id": chat_id}))
        .await;
    console
        .until("assigned", |f| {
            f["type"] == "assigned" && f["chat_id"] == chat_id.as_str()
        })
        .await;
    chatter.expect("joined").await;
    (chatter, token, chat_id)
}

async fn login(binary: &Binary, username: &str) -> String {
    let response = post_login(&binary.url("/api/staff/login"), username, PASSWORD).await;
    assert_eq!(response.status(), 200, "login of {username}");
    session_cookie(&response)
}

async fn get(binary: &Binary, path: &str, cookie: &str) -> (u16, Value) {
    staff_request(reqwest::Method::GET, &binary.url(""), cookie, path, None).await
}

fn submissions(data_dir: &Path) -> i64 {
    let db = rusqlite::Connection::open(data_dir.join("haven.db")).expect("database opens");
    db.query_row("SELECT COUNT(*) FROM submissions", [], |r| r.get(0))
        .unwrap()
}

/// The operational counts on disk, per metric.
fn counts_on_disk(data_dir: &Path) -> Vec<(String, i64)> {
    let db = rusqlite::Connection::open(data_dir.join("haven.db")).expect("database opens");
    let mut query = db
        .prepare("SELECT metric, SUM(count) FROM ops_counts GROUP BY metric ORDER BY metric")
        .unwrap();
    let rows = query.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

#[tokio::test]
async fn kill_9_mid_chat_keeps_what_was_written_and_tells_the_chatter_the_chat_is_gone() {
    let (dir, config_path) = config_dir("", "[stats]\nflush_secs = 1\n", "info");
    let data_dir = dir.path().join("data");
    staff_add(
        &config_path,
        "kill-adv-1",
        "advocate",
        "Advocate Sam",
        PASSWORD,
    );
    staff_add(
        &config_path,
        "kill-eval-1",
        "evaluator",
        "Evaluator Kim",
        PASSWORD,
    );
    let binary = Binary::serve(dir, config_path.clone(), &[]);
    let advocate = login(&binary, "kill-adv-1").await;
    let evaluator = login(&binary, "kill-eval-1").await;
    let mut console = on_duty(&binary, &advocate).await;

    // A finished chat whose chatter answers the exit survey: written to the database.
    let (mut done, done_token, done_chat) = claimed(&binary, &mut console, "done").await;
    console
        .send(json!({"type": "end", "chat_id": done_chat}))
        .await;
    done.expect("ended").await;
    let response = http()
        .post(binary.url("/api/forms/survey"))
        .header("origin", binary.url(""))
        .json(&json!({"token": done_token, "version": 1,
                      "answers": {"got_needed": "yes", "recommend": "5"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{:?}", response.text().await);

    // A live chat, only in memory.
    let (mut live, live_token, live_chat) = claimed(&binary, &mut console, "live").await;
    live.send(json!({"type": "message", "id": "c-1", "text": "are you there"}))
        .await;
    console
        .until("the live line", |f| {
            f["type"] == "message" && f["chat_id"] == live_chat.as_str()
        })
        .await;

    // The counts are flushed every second: a kill loses at most that much.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let query = "/api/stats?period=month&start=".to_string() + &this_month();
    let (status, report_before) = get(&binary, &query, &evaluator).await;
    assert_eq!(status, 200, "{report_before}");
    assert_eq!(submissions(&data_dir), 1);
    let counts_before = counts_on_disk(&data_dir);
    assert!(
        counts_before.iter().any(|(_, n)| *n >= 2),
        "two chats were counted: {counts_before:?}"
    );

    let dir = binary.kill_hard();
    // Both sockets see the connection end: nothing hangs waiting for a server that is gone.
    for client in [&mut live, &mut console] {
        match client.ended(WAIT).await {
            Ending::Dropped(_) => {}
            other => panic!(
                "{}: a killed server sends no close frame: {other:?}",
                client.name
            ),
        }
    }

    let binary = Binary::serve(dir, config_path, &[]);
    // Staff, sessions and the survey were on disk.
    assert_eq!(
        get(&binary, "/api/staff/me", &advocate).await.0,
        200,
        "a session survives"
    );
    login(&binary, "kill-adv-1").await;
    assert_eq!(submissions(&data_dir), 1);
    let (status, report_after) = get(&binary, &query, &evaluator).await;
    assert_eq!(status, 200, "{report_after}");
    assert_eq!(counts_on_disk(&data_dir), counts_before);
    assert_eq!(report_after, report_before, "the flushed counts survive");

    // The advocate's console comes back with no ghost of the lost chat.
    let mut console = on_duty(&binary, &advocate).await;
    let extra = console.still_works().await;
    assert!(
        console
            .seen
            .iter()
            .chain(&extra)
            .all(|f| f["chat_id"] != live_chat.as_str()),
        "{extra:?}"
    );

    // The chatter's page resumes with its old token and is told the chat no longer exists.
    let mut back = Client::new("live, back", upgrade(&binary.ws_url("/ws/chat"), &[]).await);
    back.send(json!({"type": "resume", "token": live_token, "last_seq": 1}))
        .await;
    back.expect_error("chat_purged").await;
    // It may start again at once.
    back.send(json!({"type": "hello"})).await;
    assert_eq!(back.expect("welcome").await["resumed"], false);

    let output = binary.output();
    assert!(!output.contains("panicked"), "{output}");
}

fn this_month() -> String {
    let today = haven::stats::calendar::local_date(haven::hub::now_ms(), 0);
    haven::stats::calendar::Month::of(today).to_string()
}
