//! A locked or failing database delays only the staff requests that need it, with a clear
//! `503 store_unavailable` after a bounded wait; logout still takes effect at once; chats never
//! notice.

use std::time::{Duration, Instant};

use haven::Role;
use serde_json::Value;

use crate::common::spawn_app_with;
use crate::support::*;

#[tokio::test]
async fn a_locked_database_gives_503_in_bounded_time_while_chats_flow_and_logout_still_works() {
    let app = spawn_app_with(|c| c.server.store_wait_ms = 1_000).await;
    let mut sam = available_advocate(&app, "store-sam-1", "Advocate Sam").await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "chatter").await;
    app.add_staff("store-pat-2", "Advocate Pat", Role::Advocate, PASSWORD);
    let pat = app.login("store-pat-2", PASSWORD).await;

    // Another process takes the write lock and holds it.
    let locker = rusqlite::Connection::open(app.data_dir.path().join("haven.db")).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();

    let started = Instant::now();
    let response = me(&app, &pat).await;
    let waited = started.elapsed();
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "store_unavailable");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(
        waited < Duration::from_secs(4),
        "bounded wait, took {waited:?}"
    );

    // Chats do not touch the store.
    exchange(&mut chatter, &mut sam, &chat_id, "while-locked").await;

    // Logout answers and takes effect at once, although the database cannot record it yet.
    let response = logout(&app, &pat).await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        me(&app, &pat).await.status(),
        401,
        "refused from memory at once"
    );

    locker.execute_batch("ROLLBACK").unwrap();
    drop(locker);
    // The database is back: the logout stays in force, other sessions work.
    assert_eq!(me(&app, &pat).await.status(), 401);
    assert_eq!(me(&app, &sam.cookie).await.status(), 200);
    exchange(&mut chatter, &mut sam, &chat_id, "after-unlock").await;
}
