//! When nobody can answer, the chatter gets the program's other ways to reach help.

use serde_json::{json, Value};

use crate::common::{spawn_app, spawn_app_with};
use crate::support::*;

fn assert_contacts(offline: &Value) {
    let defaults = haven::Config::embedded_defaults();
    let contacts = &offline["contacts"];
    assert_eq!(
        contacts["phone"],
        defaults.program.hotline_phone.as_str(),
        "{offline}"
    );
    assert_eq!(
        contacts["text"],
        defaults.program.hotline_text.as_str(),
        "{offline}"
    );
    assert_eq!(
        contacts["note"],
        defaults.program.offline_note.as_str(),
        "{offline}"
    );
}

/// A window on a weekday three days from today (UTC), which cannot include now.
fn a_window_that_excludes_now() -> String {
    let days = ["thu", "fri", "sat", "sun", "mon", "tue", "wed"]; // 1970-01-01 was a Thursday
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let today = (secs / 86_400) as usize;
    format!("{} 00:00-23:59", days[(today + 3) % 7])
}

#[tokio::test]
async fn with_nobody_available_a_chatter_gets_the_hotline_and_can_try_again_later() {
    let app = spawn_app().await;
    // An advocate on the console but away does not count.
    let mut sam = staff(
        &app,
        "login-pochard-50",
        "Advocate Sam",
        haven::Role::Advocate,
    )
    .await;
    let mut chatter = chatter_socket(&app, "chatter").await;
    chatter.send(json!({"type": "hello"})).await;
    let offline = chatter.next().await;
    assert_eq!(
        offline["type"], "offline",
        "no chat without an advocate: {offline}"
    );
    assert_eq!(offline["reason"], "no_advocates");
    assert_contacts(&offline);
    // No chat was created: the advocate's queue stays empty.
    sam.client.still_works().await;
    assert!(
        sam.client
            .seen
            .iter()
            .filter(|f| f["type"] == "queue")
            .all(|f| f["entries"] == json!([])),
        "an offline hello creates no chat: {}",
        sam.client.transcript()
    );

    // The socket stays open: once an advocate is available, hello works on it.
    chatter.still_works().await;
    sam.set_available(true).await;
    chatter.send(json!({"type": "hello"})).await;
    let welcome = chatter.expect("welcome").await;
    assert_eq!(welcome["resumed"], false);
    assert_eq!(chatter.expect("queued").await["position"], 1);
    sam.queue_of_len(1).await;
}

#[tokio::test]
async fn outside_service_hours_a_chatter_is_told_so_even_with_advocates_on_duty() {
    let window = a_window_that_excludes_now();
    let app = spawn_app_with(move |c| c.service_hours.windows = vec![window]).await;
    let _sam = available_advocate(&app, "login-smew-51", "Advocate Sam").await;
    let mut chatter = chatter_socket(&app, "chatter").await;
    chatter.send(json!({"type": "hello"})).await;
    let offline = chatter.next().await;
    assert_eq!(offline["type"], "offline", "{offline}");
    assert_eq!(offline["reason"], "outside_hours");
    assert_contacts(&offline);
    chatter.still_works().await;

    let public: Value = http()
        .get(app.url("/api/public/config"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(public["open_now"], false, "{public}");
}

#[tokio::test]
async fn within_service_hours_chatters_are_welcome() {
    let app = spawn_app_with(|c| {
        c.service_hours.windows = vec!["mon-sun 00:00-24:00".into()];
    })
    .await;
    let _sam = available_advocate(&app, "login-teal-52", "Advocate Sam").await;
    let mut chatter = hello(&app, "chatter", json!({})).await;
    chatter.client.expect("queued").await;
}

#[tokio::test]
async fn a_full_queue_turns_new_chatters_to_the_hotline() {
    let app = spawn_app_with(|c| c.chat.max_waiting = 1).await;
    let _sam = available_advocate(&app, "login-wigeon-53", "Advocate Sam").await;
    let mut first = hello(&app, "first", json!({})).await;
    first.client.expect("queued").await;
    let mut second = chatter_socket(&app, "second").await;
    second.send(json!({"type": "hello"})).await;
    let offline = second.next().await;
    assert_eq!(offline["type"], "offline", "{offline}");
    assert_eq!(offline["reason"], "queue_full");
    assert_contacts(&offline);
    // When the first leaves, there is room again.
    first.client.send(json!({"type": "leave"})).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        second.send(json!({"type": "hello"})).await;
        let answer = second.next().await;
        if answer["type"] == "welcome" {
            break;
        }
        assert_eq!(answer["reason"], "queue_full", "{answer}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "room never came back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
