//! Server keys in PostgreSQL: every node gets the same key.

use super::Postgres;
use crate::store::{keys::KeysDb, StoreError};

impl KeysDb for Postgres {
    fn server_key_or(&self, name: &str, fresh: [u8; 32]) -> Result<[u8; 32], StoreError> {
        self.run(|c| {
            let mut tx = c.transaction()?;
            tx.execute(
                "INSERT INTO server_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                &[&name, &fresh.as_slice()],
            )?;
            let stored: Vec<u8> = tx
                .query_one(
                    "SELECT value FROM server_keys WHERE name = $1 FOR UPDATE",
                    &[&name],
                )?
                .try_get(0)?;
            let key = match <[u8; 32]>::try_from(stored) {
                Ok(key) => key,
                Err(_) => {
                    tx.execute(
                        "UPDATE server_keys SET value = $2 WHERE name = $1",
                        &[&name, &fresh.as_slice()],
                    )?;
                    fresh
                }
            };
            tx.commit()?;
            Ok(key)
        })
    }
}
