//! Staff sessions: a random token in the cookie, only its SHA-256 in the database, so a copy
//! of the database does not log anyone in. Stored so that sessions survive a restart.

use rand::RngCore;
use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use super::{unix_secs, Store, StoreError};
use crate::staff::Staff;

pub const SESSION_TOKEN_BYTES: usize = 32;

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Starts a session and returns the token for the cookie.
    pub fn create_session(&self, staff: &Staff, ttl_secs: i64) -> Result<String, StoreError> {
        let mut raw = [0u8; SESSION_TOKEN_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let token = hex::encode(raw);
        self.conn().execute(
            "INSERT INTO sessions (token_hash, staff_id, expires_at) VALUES (?1, ?2, ?3)",
            params![
                token_hash(&token),
                staff.id.to_string(),
                unix_secs() + ttl_secs
            ],
        )?;
        Ok(token)
    }

    /// The staff member behind a live session; each use extends it by `ttl_secs`.
    pub fn session_staff(&self, token: &str, ttl_secs: i64) -> Result<Option<Staff>, StoreError> {
        let now = unix_secs();
        let conn = self.conn();
        let hash = token_hash(token);
        let row = conn
            .query_row(
                "SELECT staff.id, staff.username, staff.display_name, staff.role
                 FROM sessions JOIN staff ON staff.id = sessions.staff_id
                 WHERE sessions.token_hash = ?1 AND sessions.expires_at > ?2",
                params![hash, now],
                super::staff::staff_from_row,
            )
            .optional()?;
        let Some(staff) = row else {
            return Ok(None);
        };
        conn.execute(
            "UPDATE sessions SET expires_at = ?1 WHERE token_hash = ?2",
            params![now + ttl_secs, hash],
        )?;
        Ok(staff)
    }

    /// Ends a session; returns whether one existed.
    pub fn delete_session(&self, token: &str) -> Result<bool, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            params![token_hash(token)],
        )? > 0)
    }

    pub fn delete_expired_sessions(&self) -> Result<usize, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM sessions WHERE expires_at <= ?1",
            params![unix_secs()],
        )?)
    }
}
