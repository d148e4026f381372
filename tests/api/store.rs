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

#[tokio::test]
async fn a_twelve_second_lock_keeps_chats_at_normal_latency_and_a_login_gets_503_then_works() {
    // The shipped bounded wait (3 s): the issue measured staff requests queued for up to 35 s.
    let app = spawn_app_with(|_| {}).await;
    let wait = Duration::from_millis(3_000);
    let mut sam = available_advocate(&app, "store-sam-3", "Advocate Sam").await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "chatter").await;
    app.add_staff("store-kim-4", "Advocate Kim", Role::Advocate, PASSWORD);

    let locker = rusqlite::Connection::open(app.data_dir.path().join("haven.db")).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let locked = Instant::now();

    // A login while the lock holds: a clear 503 within the bounded wait (plus the password
    // check), not a queue behind the lock.
    let login = {
        let url = app.url("/api/staff/login");
        tokio::spawn(async move {
            let started = Instant::now();
            let response = post_login(&url, "store-kim-4", PASSWORD).await;
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body, started.elapsed())
        })
    };
    // Meanwhile the chat goes on for the whole lock, each exchange as quick as ever.
    let mut slowest = Duration::ZERO;
    let mut rounds = 0;
    while locked.elapsed() < Duration::from_secs(12) {
        let started = Instant::now();
        exchange(
            &mut chatter,
            &mut sam,
            &chat_id,
            &format!("locked-{rounds}"),
        )
        .await;
        slowest = slowest.max(started.elapsed());
        rounds += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!("{rounds} exchanges during a 12 s lock, slowest {slowest:?}");
    assert!(
        slowest < Duration::from_secs(1),
        "a chat exchange took {slowest:?} while the database was locked"
    );
    let (status, body, took) = login.await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "store_unavailable", "{body}");
    assert!(
        took < wait + Duration::from_secs(3),
        "the login waited {took:?} (bounded wait {wait:?})"
    );

    locker.execute_batch("ROLLBACK").unwrap();
    drop(locker);
    let response = post_login(&app.url("/api/staff/login"), "store-kim-4", PASSWORD).await;
    assert_eq!(
        response.status(),
        200,
        "a login works once the lock is gone"
    );
}

#[tokio::test]
async fn a_postgres_that_goes_away_gives_503_in_bounded_time_while_chats_flow_then_works_again() {
    let Some(scratch) = haven::store::postgres::scratch::ScratchDatabase::create() else {
        return;
    };
    let config = scratch.store_config();
    let app = spawn_app_with(move |c| {
        c.store = config;
        c.server.store_wait_ms = 1_000;
    })
    .await;
    crate::postgres::add_staff(&scratch, "pg-sam", Role::Advocate);
    crate::postgres::add_staff(&scratch, "pg-pat", Role::Advocate);
    let cookie = app.login("pg-sam", PASSWORD).await;
    let mut sam = connect_staff(&app, "pg-sam", "pg-sam", &cookie).await;
    sam.set_available(true).await;
    let (mut chatter, chat_id) = claimed_chat(&app, &mut sam, "chatter").await;
    let pat = app.login("pg-pat", PASSWORD).await;

    // The database refuses new connections and ends Haven's.
    let name = scratch.name().to_owned();
    scratch
        .run_as_admin(&format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS false;
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .unwrap();
    let started = Instant::now();
    let response = me(&app, &pat).await;
    let waited = started.elapsed();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "store_unavailable");
    assert!(
        waited < Duration::from_secs(4),
        "bounded wait, took {waited:?}"
    );
    exchange(&mut chatter, &mut sam, &chat_id, "while-away").await;

    // Back: the next requests work, nothing restarted.
    scratch
        .run_as_admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .unwrap();
    let back = Instant::now();
    loop {
        let status = me(&app, &pat).await.status();
        if status == 200 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "still {status} after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "requests worked again {:?} after PostgreSQL came back",
        back.elapsed()
    );
    exchange(&mut chatter, &mut sam, &chat_id, "after-return").await;
    app.shutdown.trigger();
}
