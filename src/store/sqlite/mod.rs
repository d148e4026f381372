//! The embedded backend: one SQLite file, `data_dir/haven.db`, behind one connection. The
//! default: no service to run, and one process owns the file (the CLI may share it, waiting on
//! SQLite's lock).

mod audit;
mod forms;
mod keys;
pub(crate) mod migrations;
mod sessions;
mod settings;
mod staff;
mod stats;
mod totp;

use std::{
    path::Path,
    sync::{Mutex, MutexGuard},
};

use rusqlite::Connection;

use super::StoreError;

/// How long SQLite itself retries a locked database before giving up.
const BUSY_TIMEOUT_MS: u64 = 2_000;

pub struct Sqlite {
    /// One connection: SQLite writes one at a time anyway, and the lock keeps a read and the
    /// write that follows it (a session's use) together.
    conn: Mutex<Connection>,
}

impl Sqlite {
    /// Opens (and creates) `data_dir/haven.db`, readable by the service's user only, and checks
    /// that it can be written: a database that cannot is refused now rather than failing every
    /// login later.
    pub fn open(data_dir: &Path) -> Result<Sqlite, StoreError> {
        std::fs::create_dir_all(data_dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // A read-only data directory is reported by the probe below, with its path.
            let _ = std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700));
        }
        let path = data_dir.join("haven.db");
        let not_writable = |reason: String| StoreError::NotWritable {
            path: path.display().to_string(),
            reason,
        };
        let mut conn = Connection::open(&path).map_err(|e| not_writable(e.to_string()))?;
        // secure_delete overwrites deleted rows (ended sessions) instead of leaving them in
        // free pages; WAL lets readers go on while one writes; busy_timeout lets the CLI and
        // the server share the file.
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};"
        ))?;
        // WAL needs a writable directory; a read-only file keeps its journal mode and the
        // probe below refuses it.
        let _ = conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()));
        migrations::apply(&mut conn).map_err(|e| match e {
            StoreError::Sqlite(e) => not_writable(e.to_string()),
            other => other,
        })?;
        probe_write(&conn).map_err(|e| not_writable(e.to_string()))?;
        Ok(Sqlite {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A locked, read-only, full or failing database is "unavailable" (503, try again), not an
/// internal error: nothing is wrong with the request.
pub(super) fn is_unavailable(error: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode as C;
    matches!(
        error,
        rusqlite::Error::SqliteFailure(e, _) if matches!(
            e.code,
            C::DatabaseBusy
                | C::DatabaseLocked
                | C::ReadOnly
                | C::DiskFull
                | C::SystemIoFailure
                | C::CannotOpen
        )
    )
}

/// Writes and rolls back, so that a read-only file or directory is found at start.
fn probe_write(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.execute_batch(
        "BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS write_probe (x INTEGER); DROP TABLE write_probe; ROLLBACK;",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_write_probe_finds_a_read_only_database() {
        let dir = tempfile::tempdir().unwrap();
        Sqlite::open(dir.path()).unwrap();
        let path = dir.path().join("haven.db");
        let read_only =
            Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        assert!(probe_write(&read_only).is_err());
        let writable = Connection::open(&path).unwrap();
        probe_write(&writable).unwrap();
    }
}
