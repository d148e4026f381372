//! The shared backend: a PostgreSQL database that several Haven nodes use at once
//! (docs/cluster.md), through a small pool of connections per node.
//!
//! The synchronous `postgres` client with an `r2d2` pool, because the store is synchronous
//! code run on the blocking pool ([`Store::call`](super::Store::call)), like SQLite. That
//! client drives its connection with a runtime of its own and panics on a thread that is
//! running async tasks, so every operation goes through [`off_the_async_threads`], and the
//! pool is dropped on a thread of its own.
//!
//! A database that goes away makes each operation `StoreError::Unavailable` (503) after at most
//! the store's bounded wait; the pool checks a connection before lending it and opens new
//! ones when the database is back, so Haven recovers by itself.
//!
//! What relied on SQLite's single connection is made safe for several nodes here: unique user
//! names by `ON CONFLICT`, a session's use in one `UPDATE … RETURNING`, settings versions under
//! a table lock, one-time codes (TOTP steps, recovery and deletion codes) by a conditional
//! `UPDATE`/`DELETE` that only one transaction can win, migrations under an advisory lock.

mod audit;
mod forms;
mod keys;
pub mod lock;
pub(crate) mod migrations;
pub mod scratch;
mod sessions;
mod settings;
mod staff;
mod stats;
#[cfg(test)]
mod tests;
mod tls;
mod totp;

use std::time::Duration;

use r2d2_postgres::PostgresConnectionManager;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{config::StoreConfig, StoreError};

type Pool = r2d2::Pool<PostgresConnectionManager<MakeRustlsConnect>>;

pub struct Postgres {
    /// `None` only while being dropped (see `Drop`).
    pool: Option<Pool>,
}

impl Postgres {
    /// Connects (waiting at most `wait` for the first connection), then migrates. Errors
    /// name the host and database, never the password.
    pub fn connect(config: &StoreConfig, wait: Duration) -> Result<Postgres, StoreError> {
        let (pg, tls, target) = client_config(config, wait)?;
        let connect_error = |reason: String| StoreError::Connect {
            target: target.clone(),
            reason,
        };
        let manager = PostgresConnectionManager::new(pg, tls);
        let pool = off_the_async_threads(|| {
            r2d2::Pool::builder()
                .max_size(config.postgres_pool_size)
                .min_idle(Some(1))
                .connection_timeout(wait)
                .error_handler(Box::new(r2d2::NopErrorHandler))
                .build(manager)
        })
        .map_err(|e| connect_error(e.to_string()))?;
        let db = Postgres { pool: Some(pool) };
        db.run(migrations::apply)?;
        tracing::info!(target = %target, "PostgreSQL store ready");
        Ok(db)
    }

    /// Runs `work` with a pooled connection, off the async threads. A database that cannot
    /// be reached, or whose connection broke, is `StoreError::Unavailable`.
    pub(crate) fn run<T: Send>(
        &self,
        work: impl FnOnce(&mut postgres::Client) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        let pool = self.pool.as_ref().ok_or(StoreError::Unavailable)?;
        off_the_async_threads(|| {
            let mut conn = pool.get().map_err(|e| {
                tracing::warn!(error = %e, "no PostgreSQL connection within the bounded wait");
                StoreError::Unavailable
            })?;
            work(&mut conn).map_err(|e| match e {
                StoreError::Postgres(e) if is_unavailable(&e) => {
                    tracing::warn!(error = %e, "PostgreSQL is failing");
                    StoreError::Unavailable
                }
                other => other,
            })
        })
    }
}

/// The client settings `[store]` names (password file, TLS, timeouts) and a description of
/// the target for messages: the pool's, and the coordinator lock's own connection.
fn client_config(
    config: &StoreConfig,
    wait: Duration,
) -> Result<(postgres::Config, MakeRustlsConnect, String), StoreError> {
    let mut pg = config
        .postgres_config()
        .map_err(|reason| StoreError::Connect {
            target: "store.postgres_url".into(),
            reason,
        })?;
    let target = describe(&pg);
    let connect_error = |reason: String| StoreError::Connect {
        target: target.clone(),
        reason,
    };
    if !config.postgres_password_file.as_os_str().is_empty() {
        let text = std::fs::read_to_string(&config.postgres_password_file).map_err(|e| {
            connect_error(format!(
                "store.postgres_password_file {} cannot be read: {e}",
                config.postgres_password_file.display()
            ))
        })?;
        pg.password(text.lines().next().unwrap_or("").trim_end_matches('\r'));
    }
    pg.application_name("haven");
    pg.connect_timeout(wait);
    pg.keepalives(true);
    let tls = tls::configure(&mut pg, config).map_err(connect_error)?;
    Ok((pg, tls, target))
}

impl Drop for Postgres {
    /// Each pooled client owns a runtime, which may not be dropped on an async thread.
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                std::thread::spawn(move || drop(pool));
            }
        }
    }
}

/// `host:port/database` for messages and logs: never the user's password.
fn describe(pg: &postgres::Config) -> String {
    use postgres::config::Host;
    let host = match pg.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "?".into(),
    };
    let port = pg.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}/{}", pg.get_dbname().unwrap_or("?"))
}

/// A broken connection or a server that is shutting down, starting or full: try again later.
fn is_unavailable(error: &postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    if let Some(code) = error.code() {
        let code = code.code();
        // 08: connection exception; 57P01-03: shutdown, crash, cannot connect now;
        // 53: insufficient resources (disk full, too many connections).
        return code.starts_with("08") || code.starts_with("57P") || code.starts_with("53");
    }
    std::error::Error::source(error).is_some_and(|s| s.is::<std::io::Error>())
}

/// Runs blocking client code where it may block: on a multi-threaded runtime's worker through
/// `block_in_place`, on a current-thread runtime (tests) on a scoped thread, elsewhere (the
/// blocking pool, the CLI) directly.
pub(crate) fn off_the_async_threads<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::CurrentThread => {
            std::thread::scope(|scope| match scope.spawn(work).join() {
                Ok(value) => value,
                Err(panic) => std::panic::resume_unwind(panic),
            })
        }
        _ => tokio::task::block_in_place(work),
    }
}
