//! What only the shared PostgreSQL backend must do: hold up under several nodes at once,
//! migrate once, refuse a newer schema, give `Unavailable` while the database is away and
//! recover by itself, keep row values out of its error messages.

use std::{sync::Arc, time::Duration};

use crate::staff::Role;
use crate::store::{
    postgres::scratch::ScratchDatabase,
    testing::postgres_store,
    tests::{staff, submission, PASSWORD},
    Store, StoreError,
};

/// Whatever a test does on the scratch database, with a direct connection.
fn sql(scratch: &ScratchDatabase, statement: &str) {
    scratch.run(statement).unwrap();
}

#[test]
fn postgres_migrates_once_and_refuses_a_newer_schema() {
    let Some(scratch) = ScratchDatabase::create() else {
        return;
    };
    let first = postgres_store(&scratch);
    staff(&first, "eve", Role::Admin);
    // A second node on the same database: nothing to migrate, the data is there.
    let second = postgres_store(&scratch);
    assert_eq!(second.count_admins().unwrap(), 1);
    let latest = crate::store::postgres::migrations::latest();
    let mut client = scratch.client().unwrap();
    let applied: i64 = client
        .query_one("SELECT COUNT(*) FROM haven_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(applied, latest as i64);
    sql(
        &scratch,
        &format!(
            "INSERT INTO haven_schema VALUES ({}, 'from the future', 0)",
            latest + 1
        ),
    );
    let refused = Store::connect(
        &scratch.store_config(),
        std::path::Path::new("/nonexistent"),
        Duration::from_secs(3),
    );
    assert!(
        matches!(refused, Err(StoreError::NewerSchema { .. })),
        "{:?}",
        refused.err()
    );
}

/// What one node saw: added, settings version, TOTP step, recovery code, forgot, key.
type Outcome = (bool, u32, bool, bool, bool, [u8; 32]);

#[test]
fn several_nodes_at_once_keep_names_unique_numbers_distinct_and_codes_single_use() {
    let Some(scratch) = ScratchDatabase::create() else {
        return;
    };
    let nodes: Vec<Store> = (0..4).map(|_| postgres_store(&scratch)).collect();
    let id = staff(&nodes[0], "fay", Role::Admin);
    nodes[0].set_totp_pending(id, b"s").unwrap();
    nodes[0]
        .enable_totp(id, 1, &[crate::store::totp::recovery_hash("one-code")])
        .unwrap();
    let h = [("q".to_owned(), "a".to_owned())];
    nodes[0]
        .insert_submission(&submission("gone-once", &h, &[], None))
        .unwrap();

    let barrier = Arc::new(std::sync::Barrier::new(nodes.len()));
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let barrier = Arc::clone(&barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let added = node.add_staff("same-name", "Same", Role::Advocate, PASSWORD);
                    let version = node
                        .save_settings_version("hours", &serde_json::json!(i), 0, None)
                        .unwrap();
                    let step = node.use_totp_step(id, 5).unwrap();
                    let recovery = node.use_recovery_code(id, "one-code").unwrap();
                    let forgot = node.forget("gone-once").unwrap();
                    let key = node.server_key("shared").unwrap();
                    (added.is_ok(), version, step, recovery, forgot, key)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners = |pick: fn(&Outcome) -> bool| results.iter().filter(|r| pick(r)).count();
    assert_eq!(winners(|r| r.0), 1, "one account called same-name");
    assert_eq!(winners(|r| r.2), 1, "a TOTP step is used once");
    assert_eq!(winners(|r| r.3), 1, "a recovery code is used once");
    assert_eq!(winners(|r| r.4), 1, "a deletion code erases once");
    let mut versions: Vec<u32> = results.iter().map(|r| r.1).collect();
    versions.sort();
    assert_eq!(versions, [1, 2, 3, 4], "settings versions are distinct");
    assert!(
        results.iter().all(|r| r.5 == results[0].5),
        "every node has the same key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_that_goes_away_gives_unavailable_and_the_store_recovers_by_itself() {
    let Some(scratch) = ScratchDatabase::create() else {
        return;
    };
    let wait = Duration::from_millis(1_500);
    let store = Store::connect(
        &scratch.store_config(),
        std::path::Path::new("/nonexistent"),
        wait,
    )
    .unwrap();
    staff(&store, "gus", Role::Advocate);
    // The database refuses new connections and ends the store's.
    let name = scratch.name().to_owned();
    scratch
        .run_as_admin(&format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS false;
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .unwrap();
    let started = std::time::Instant::now();
    let result = store.call(|s| s.count_admins()).await;
    assert!(matches!(result, Err(StoreError::Unavailable)), "{result:?}");
    assert!(started.elapsed() < wait + Duration::from_secs(1));
    // Back: the next call works without anything restarted.
    scratch
        .run_as_admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .unwrap();
    let mut recovered = false;
    for _ in 0..20 {
        if store.call(|s| s.account_by_username("gus")).await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(recovered, "the store reconnects by itself");
    drop(store);
}

#[test]
fn a_postgres_error_message_quotes_no_row_values() {
    let Some(scratch) = ScratchDatabase::create() else {
        return;
    };
    let store = postgres_store(&scratch);
    let choices = [];
    let new = submission("same-hash-secret-value", &choices, &[], None);
    store.insert_submission(&new).unwrap();
    let error = store.insert_submission(&new).unwrap_err().to_string();
    assert!(error.contains("23505"), "{error}");
    assert!(!error.contains("same-hash-secret-value"), "{error}");
}
