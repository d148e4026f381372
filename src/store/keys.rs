//! Random keys Haven makes for itself and keeps across restarts (the device-cookie signing
//! key). Made on first use; never user data.

use rand::RngCore;
use rusqlite::{params, OptionalExtension};

use super::{Store, StoreError};

impl Store {
    /// The 32-byte key called `name`, made now if it does not exist yet.
    pub fn server_key(&self, name: &str) -> Result<[u8; 32], StoreError> {
        let conn = self.conn();
        let existing: Option<Vec<u8>> = conn
            .query_row(
                "SELECT value FROM server_keys WHERE name = ?1",
                params![name],
                |row| row.get(0),
            )
            .optional()?;
        if let Some(key) = existing.and_then(|k| <[u8; 32]>::try_from(k).ok()) {
            return Ok(key);
        }
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        conn.execute(
            "INSERT INTO server_keys (name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            params![name, key.to_vec()],
        )?;
        Ok(key)
    }
}
