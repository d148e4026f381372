//! PostgreSQL's versioned schema migrations (`migrations/*.sql` beside this file), the twins
//! of SQLite's under the same version numbers, in PostgreSQL's types (BIGINT, BOOLEAN, BYTEA).
//! The table `haven_schema` records each version applied. Nodes starting together migrate one
//! at a time (an advisory lock), all pending steps in one transaction; a database from a newer
//! Haven is refused rather than guessed at. An applied file is never edited.

use postgres::Client;

use crate::store::{unix_secs, StoreError};

/// `(version, what it adds, SQL)`, in order. Versions are consecutive from 1.
pub(crate) const POSTGRES: &[(u32, &str, &str)] = &[
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

/// An arbitrary constant: the advisory lock migrating nodes take in turn.
const MIGRATION_LOCK: i64 = 0x4841_5645_4e00;

/// The schema version this binary writes.
pub fn latest() -> u32 {
    POSTGRES.last().map_or(0, |m| m.0)
}

/// Brings the database up to [`latest`]; refuses one that is newer than this binary.
pub fn apply(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS haven_schema (
            version INTEGER PRIMARY KEY,
            what TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )",
    )?;
    let current: i32 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM haven_schema", &[])?
        .try_get(0)?;
    let current = current.max(0) as u32;
    if current > latest() {
        return Err(StoreError::NewerSchema {
            found: current,
            known: latest(),
        });
    }
    for (version, what, sql) in POSTGRES.iter().filter(|m| m.0 > current) {
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO haven_schema (version, what, applied_at) VALUES ($1, $2, $3)",
            &[&(*version as i32), what, &unix_secs()],
        )?;
        tracing::info!(version, what, "database schema migrated");
    }
    tx.commit()?;
    Ok(())
}
