//! The only code that touches disk: an embedded SQLite database holding staff accounts, staff
//! sessions, Haven's own keys and the audit log. Never chats, messages, names of chatters or IP
//! addresses.
//!
//! The synchronous methods (`impl Store` blocks in each module) run wherever they are called;
//! the HTTP layer calls them through [`Store::call`], which runs them on the blocking pool and
//! gives up after a bounded wait, so that a locked or failing disk delays only the staff request
//! that needs it (`503 store_unavailable`) and never a chat.

pub mod audit;
pub mod forms;
mod keys;
mod migrations;
pub mod password;
mod sessions;
pub mod settings;
mod staff;
mod stats;
pub mod totp;

use std::{
    path::Path,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use rusqlite::Connection;

pub use sessions::{SessionRow, SESSION_TOKEN_BYTES};
pub use staff::{AccountRow, StaffChange};

/// How long SQLite itself retries a locked database before giving up.
const BUSY_TIMEOUT_MS: u64 = 2_000;
/// How long an async caller waits for the store before answering `store_unavailable`.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("data directory error: {0}")]
    Io(#[from] std::io::Error),
    #[error("a staff member called `{0}` already exists")]
    UsernameTaken(String),
    #[error("{0}")]
    Invalid(&'static str),
    #[error("password hashing failed")]
    Hash,
    #[error(
        "the database was written by a newer Haven (schema version {found}; this one knows up to {known}): upgrade Haven or restore a backup"
    )]
    NewerSchema { found: u32, known: u32 },
    #[error(
        "forms.{form} changed (its questions, kinds or options) but kept version {version}: give forms.{form}.version a new number so stored answers keep their meaning"
    )]
    FormChanged { form: String, version: u32 },
    #[error("the database at {path} cannot be written ({reason}): check its permissions and the free disk space")]
    NotWritable { path: String, reason: String },
    #[error("the database did not answer in time")]
    Unavailable,
    #[error("no such staff member")]
    NoSuchStaff,
}

#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    wait: Duration,
}

impl Store {
    /// Opens (and creates) `data_dir/haven.db`, readable by the service's user only, and checks
    /// that it can be written: a database that cannot is refused now rather than failing every
    /// login later.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
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
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
            wait: DEFAULT_WAIT,
        })
    }

    /// The same store with another bounded wait for [`Store::call`].
    pub fn with_wait(mut self, wait: Duration) -> Store {
        self.wait = wait;
        self
    }

    /// Runs `work` off the async threads; past the bounded wait, `StoreError::Unavailable`
    /// (the work itself finishes or fails in the background, bounded by SQLite's busy timeout).
    pub async fn call<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        let task = tokio::task::spawn_blocking(move || work(&store));
        match tokio::time::timeout(self.wait, task).await {
            Ok(Ok(result)) => result.map_err(unavailable_when_the_disk_fails),
            Ok(Err(_panicked)) => Err(StoreError::Unavailable),
            Err(_elapsed) => {
                tracing::warn!("the database did not answer within the bounded wait");
                Err(StoreError::Unavailable)
            }
        }
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A locked, read-only, full or failing database is "unavailable" (503, try again), not an
/// internal error: nothing is wrong with the request.
fn unavailable_when_the_disk_fails(error: StoreError) -> StoreError {
    use rusqlite::ErrorCode as C;
    match &error {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if matches!(
                e.code,
                C::DatabaseBusy
                    | C::DatabaseLocked
                    | C::ReadOnly
                    | C::DiskFull
                    | C::SystemIoFailure
                    | C::CannotOpen
            ) =>
        {
            tracing::warn!(error = %error, "the database is failing");
            StoreError::Unavailable
        }
        _ => error,
    }
}

/// Writes and rolls back, so that a read-only file or directory is found at start.
fn probe_write(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.execute_batch(
        "BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS write_probe (x INTEGER); DROP TABLE write_probe; ROLLBACK;",
    )
}

pub(crate) fn unix_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_write_probe_finds_a_read_only_database() {
        let dir = tempfile::tempdir().unwrap();
        Store::open(dir.path()).unwrap();
        let path = dir.path().join("haven.db");
        let read_only =
            Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        assert!(probe_write(&read_only).is_err());
        let writable = Connection::open(&path).unwrap();
        probe_write(&writable).unwrap();
    }
}
