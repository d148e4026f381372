//! SQLite's versioned schema migrations (`migrations/*.sql` beside this file). Each migration
//! is one SQL file applied once, in order, inside a transaction; SQLite's `user_version` records
//! how far a database has come. A database from a newer Haven (a higher version than this
//! binary knows) is refused rather than guessed at.
//!
//! New tables get a new file here and its twin in `postgres/migrations/` under the same
//! version number (`store::tests` checks that both backends know the same versions); an applied
//! file is never edited.

use rusqlite::Connection;

use crate::store::StoreError;

/// `(version, what it adds, SQL)`, in order. Versions are consecutive from 1.
pub(crate) const SQLITE: &[(u32, &str, &str)] = &[
    (
        1,
        "staff and sessions",
        include_str!("migrations/0001_staff_and_sessions.sql"),
    ),
    (
        2,
        "forms and statistics",
        include_str!("migrations/0002_forms_and_statistics.sql"),
    ),
    (
        3,
        "access security: account state, session lifetimes, server keys, audit log",
        include_str!("migrations/0003_access_security.sql"),
    ),
    (
        4,
        "settings admins edit: one row per saved version",
        include_str!("migrations/0004_settings.sql"),
    ),
];

/// The schema version this binary writes.
pub fn latest() -> u32 {
    SQLITE.last().map_or(0, |m| m.0)
}

/// Brings `conn` up to [`latest`]; refuses a database that is newer than this binary.
pub fn apply(conn: &mut Connection) -> Result<(), StoreError> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > latest() {
        return Err(StoreError::NewerSchema {
            found: current,
            known: latest(),
        });
    }
    for (version, what, sql) in SQLITE.iter().filter(|m| m.0 > current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        // PRAGMA takes no parameters; the version is a number from the table above.
        tx.execute_batch(&format!("PRAGMA user_version = {version}"))?;
        tx.commit()?;
        tracing::info!(version, what, "database schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        for (i, (version, _, _)) in SQLITE.iter().enumerate() {
            assert_eq!(*version as usize, i + 1);
        }
    }

    #[test]
    fn applying_twice_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn).unwrap();
        apply(&mut conn).unwrap();
        let version: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, latest());
    }

    #[test]
    fn a_newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&format!("PRAGMA user_version = {}", latest() + 1))
            .unwrap();
        let error = apply(&mut conn).unwrap_err().to_string();
        assert!(error.contains("newer"), "{error}");
    }
}
