//! The cluster's coordinator lock: a PostgreSQL session-level advisory lock on a connection of
//! its own (docs/cluster.md). PostgreSQL grants it to one session at a time and releases it
//! when that session ends, also when its node dies without a word: so at most one node
//! coordinates while the database is up, and another can take over when it goes.
//!
//! Blocking code (the synchronous client): it runs on the cluster's own election thread, never
//! on an async thread.

use std::time::Duration;

use tokio_postgres_rustls::MakeRustlsConnect;

use super::{client_config, StoreError};
use crate::store::config::StoreConfig;

pub struct CoordinatorLock {
    config: postgres::Config,
    tls: MakeRustlsConnect,
    key: i64,
    /// The session that holds (or tries for) the lock; `None` after it broke.
    client: Option<postgres::Client>,
    held: bool,
}

impl CoordinatorLock {
    /// The lock named `name` (one per cluster: its subject prefix) on the store's database.
    /// Nothing connects yet.
    pub fn new(
        store: &StoreConfig,
        name: &str,
        wait: Duration,
    ) -> Result<CoordinatorLock, StoreError> {
        let (config, tls, _) = client_config(store, wait)?;
        Ok(CoordinatorLock {
            config,
            tls,
            key: lock_key(name),
            client: None,
            held: false,
        })
    }

    /// Takes the lock if nobody holds it. `Ok(true)`: this node holds it now (or still).
    pub fn try_take(&mut self) -> Result<bool, StoreError> {
        if self.held {
            return self.check().map(|()| true);
        }
        let key = self.key;
        let taken: bool = self
            .client()?
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .map_err(|e| self.broke(e))?
            .get(0);
        self.held = taken;
        Ok(taken)
    }

    /// Whether the session is alive; when it is not, the lock is gone with it.
    pub fn check(&mut self) -> Result<(), StoreError> {
        self.client()?
            .simple_query("SELECT 1")
            .map(drop)
            .map_err(|e| self.broke(e))
    }

    pub fn is_held(&self) -> bool {
        self.held
    }

    fn client(&mut self) -> Result<&mut postgres::Client, StoreError> {
        if self.client.is_none() {
            let client = self.config.connect(self.tls.clone()).map_err(|e| {
                tracing::warn!(error = %e, "coordinator lock: PostgreSQL unreachable");
                StoreError::Unavailable
            })?;
            self.client = Some(client);
        }
        self.client.as_mut().ok_or(StoreError::Unavailable)
    }

    fn broke(&mut self, error: postgres::Error) -> StoreError {
        tracing::warn!(error = %error, "coordinator lock: the PostgreSQL session broke");
        self.client = None;
        self.held = false;
        StoreError::Unavailable
    }
}

/// A stable 64-bit key for the lock's name (advisory locks are keyed by integers).
fn lock_key(name: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("haven coordinator {name}").as_bytes());
    i64::from_be_bytes(digest[..8].try_into().unwrap_or([0; 8]))
}
