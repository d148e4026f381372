//! Server keys in SQLite.

use rusqlite::{params, OptionalExtension};

use super::Sqlite;
use crate::store::{keys::KeysDb, StoreError};

impl KeysDb for Sqlite {
    fn server_key_or(&self, name: &str, fresh: [u8; 32]) -> Result<[u8; 32], StoreError> {
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
        conn.execute(
            "INSERT INTO server_keys (name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            params![name, fresh.to_vec()],
        )?;
        Ok(fresh)
    }
}
