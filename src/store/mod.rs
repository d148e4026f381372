//! The only code that touches disk: the staff side of Haven (staff accounts, staff sessions,
//! saved settings, voluntary form answers, statistics, Haven's own keys and the audit log).
//! Never chats, transcripts, message text, names of chatters or IP addresses.
//!
//! One interface, two backends. Each topic module (`staff`, `sessions`, `settings`, `audit`,
//! `forms`, `stats`, `keys`, `totp`) holds its types, the checks both backends share, and a
//! trait of the reads and writes a backend performs; [`Database`] is all of them together.
//! [`sqlite`] (the embedded default: one file in `server.data_dir`, no service) and
//! [`postgres`] (a database several Haven nodes share, `store.postgres_url`) implement it, each
//! with its own migrations folder and version table.
//!
//! [`Store`] is what the rest of Haven holds: a cheap handle on one backend. It offers every
//! backend method (it dereferences to [`Database`]) and adds the shared ones (checking a new
//! account, hashing a password, making a session token).
//!
//! The methods are synchronous and run wherever they are called; the HTTP layer calls them
//! through [`Store::call`], which runs them on the blocking pool and gives up after a bounded
//! wait, so that a locked, failing or unreachable database delays only the staff request that
//! needs it (`503 store_unavailable`) and never a chat.

pub mod audit;
pub mod config;
pub mod forms;
mod keys;
pub mod password;
pub mod postgres;
mod sessions;
pub mod settings;
pub mod sqlite;
mod staff;
mod stats;
pub mod totp;

use std::{ops::Deref, path::Path, sync::Arc, time::Duration};

pub use sessions::{SessionRow, SESSION_TOKEN_BYTES};
pub use staff::{AccountRow, StaffChange};

/// How long an async caller waits for the store before answering `store_unavailable`.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Shown without PostgreSQL's DETAIL, which may quote a row's values.
    #[error("database error: {}", postgres_summary(.0))]
    Postgres(#[from] ::postgres::Error),
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
    #[error("could not connect to PostgreSQL at {target}: {reason} (check the [store] settings and that the server is running)")]
    Connect { target: String, reason: String },
    #[error("the database did not answer in time")]
    Unavailable,
    #[error("no such staff member")]
    NoSuchStaff,
}

/// Everything a backend stores: the topic traits together.
pub trait Database:
    staff::StaffDb
    + sessions::SessionDb
    + settings::SettingsDb
    + audit::AuditDb
    + forms::FormsDb
    + stats::StatsDb
    + keys::KeysDb
    + totp::TotpDb
    + Send
    + Sync
{
}

impl<T> Database for T where
    T: staff::StaffDb
        + sessions::SessionDb
        + settings::SettingsDb
        + audit::AuditDb
        + forms::FormsDb
        + stats::StatsDb
        + keys::KeysDb
        + totp::TotpDb
        + Send
        + Sync
{
}

#[derive(Clone)]
pub struct Store {
    db: Arc<dyn Database>,
    /// Which backend, for logs and tests.
    engine: Engine,
    wait: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Store {
    /// The embedded SQLite store in `data_dir/haven.db` (created when missing).
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            db: Arc::new(sqlite::Sqlite::open(data_dir)?),
            engine: Engine::Sqlite,
            wait: DEFAULT_WAIT,
        })
    }

    /// The store `[store]` names: PostgreSQL when `postgres_url` is set (waiting at most
    /// `wait` for it), else the embedded SQLite file in `data_dir`.
    pub fn connect(
        config: &config::StoreConfig,
        data_dir: &Path,
        wait: Duration,
    ) -> Result<Store, StoreError> {
        if !config.uses_postgres() {
            return Ok(Store::open(data_dir)?.with_wait(wait));
        }
        Ok(Store {
            db: Arc::new(postgres::Postgres::connect(config, wait)?),
            engine: Engine::Postgres,
            wait,
        })
    }

    /// The same store with another bounded wait for [`Store::call`].
    pub fn with_wait(mut self, wait: Duration) -> Store {
        self.wait = wait;
        self
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Runs `work` off the async threads; past the bounded wait, `StoreError::Unavailable`
    /// (the work itself finishes or fails in the background, bounded by SQLite's busy timeout
    /// or the PostgreSQL pool's wait).
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
}

impl Deref for Store {
    type Target = dyn Database;

    fn deref(&self) -> &(dyn Database + 'static) {
        &*self.db
    }
}

/// A locked, read-only, full or failing database is "unavailable" (503, try again), not an
/// internal error: nothing is wrong with the request. (PostgreSQL's backend maps its own.)
fn unavailable_when_the_disk_fails(error: StoreError) -> StoreError {
    match &error {
        StoreError::Sqlite(e) if sqlite::is_unavailable(e) => {
            tracing::warn!(error = %error, "the database is failing");
            StoreError::Unavailable
        }
        _ => error,
    }
}

/// A PostgreSQL error's message and code: never its DETAIL or WHERE (values of rows).
fn postgres_summary(error: &::postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => error.to_string(),
    }
}

pub(crate) fn unix_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
