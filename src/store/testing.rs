//! The store's tests run against both backends: a fresh SQLite file, then a scratch
//! PostgreSQL database (skipped with a loud message when none is reachable, a failure when
//! `CI=true`).

use super::{postgres::scratch::ScratchDatabase, Engine, Store, DEFAULT_WAIT};

/// Runs `test` on a new SQLite store, then on a new PostgreSQL one.
pub(crate) fn each_backend(test: impl Fn(&Store)) {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open(dir.path()).unwrap();
    test(&sqlite);
    if let Some(scratch) = ScratchDatabase::create() {
        let store = postgres_store(&scratch);
        eprintln!("(the same test on PostgreSQL)");
        test(&store);
    }
}

/// A PostgreSQL store on `scratch`, migrated.
pub(crate) fn postgres_store(scratch: &ScratchDatabase) -> Store {
    let store = Store::connect(
        &scratch.store_config(),
        std::path::Path::new("/nonexistent"),
        DEFAULT_WAIT,
    )
    .unwrap();
    assert_eq!(store.engine(), Engine::Postgres);
    store
}
