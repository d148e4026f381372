//! Staff sessions: a random token in the cookie, only its SHA-256 in the database, so a copy
//! of the database does not log anyone in. Stored so that sessions survive a restart.
//!
//! A session ends at the first of: its idle timeout since the last use, its absolute lifetime
//! since login, logout, or the account being disabled. Times are passed in (`now`) so that the
//! callers' clock can be injected in tests.

use rand::RngCore;
use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Store, StoreError};
use crate::staff::Staff;

pub const SESSION_TOKEN_BYTES: usize = 32;

/// A live session as the auth layer needs it.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub staff: Staff,
    pub created_at: i64,
    pub must_change_password: bool,
    /// The account has a TOTP second factor.
    pub totp_enabled: bool,
    /// The account's role must use a second factor and has none yet (set by the auth layer).
    pub needs_second_factor: bool,
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Starts a session and returns the token for the cookie.
    pub fn create_session(
        &self,
        staff_id: Uuid,
        now: i64,
        idle_secs: i64,
        absolute_secs: i64,
    ) -> Result<String, StoreError> {
        let mut raw = [0u8; SESSION_TOKEN_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let token = hex::encode(raw);
        self.conn().execute(
            "INSERT INTO sessions (token_hash, staff_id, expires_at, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                token_hash(&token),
                staff_id.to_string(),
                now + idle_secs.min(absolute_secs),
                now
            ],
        )?;
        Ok(token)
    }

    /// The staff member behind a live session of an enabled account; each use moves the idle
    /// deadline, never past the absolute lifetime.
    pub fn session_staff(
        &self,
        token: &str,
        now: i64,
        idle_secs: i64,
        absolute_secs: i64,
    ) -> Result<Option<SessionRow>, StoreError> {
        let conn = self.conn();
        let hash = token_hash(token);
        let row = conn
            .query_row(
                "SELECT staff.id, staff.username, staff.display_name, staff.role,
                        sessions.created_at, staff.must_change_password,
                        staff.totp_secret IS NOT NULL
                 FROM sessions JOIN staff ON staff.id = sessions.staff_id
                 WHERE sessions.token_hash = ?1 AND sessions.expires_at > ?2
                   AND sessions.created_at > ?3 AND staff.disabled = 0",
                params![hash, now, now - absolute_secs],
                |row| {
                    Ok(super::staff::staff_from_row(row)?.map(|staff| SessionRow {
                        staff,
                        created_at: row.get(4).unwrap_or(0),
                        must_change_password: row.get::<_, i64>(5).unwrap_or(0) != 0,
                        totp_enabled: row.get::<_, i64>(6).unwrap_or(0) != 0,
                        needs_second_factor: false,
                    }))
                },
            )
            .optional()?
            .flatten();
        let Some(session) = row else {
            return Ok(None);
        };
        conn.execute(
            "UPDATE sessions SET expires_at = ?1 WHERE token_hash = ?2",
            params![
                (now + idle_secs).min(session.created_at + absolute_secs),
                hash
            ],
        )?;
        Ok(Some(session))
    }

    /// Ends a session; returns whether one existed.
    pub fn delete_session(&self, token: &str) -> Result<bool, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            params![token_hash(token)],
        )? > 0)
    }

    /// Ends every session of one staff member; returns how many there were.
    pub fn delete_sessions_of(&self, staff_id: Uuid) -> Result<usize, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM sessions WHERE staff_id = ?1",
            params![staff_id.to_string()],
        )?)
    }

    /// Live sessions per staff member (for the admin list).
    pub fn session_counts(&self, now: i64) -> Result<Vec<(Uuid, u32)>, StoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT staff_id, COUNT(*) FROM sessions WHERE expires_at > ?1 GROUP BY staff_id",
        )?;
        let rows = statement.query_map(params![now], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, u32>(1)?))
        })?;
        Ok(rows
            .filter_map(Result::ok)
            .filter_map(|(id, n)| Some((id.parse().ok()?, n)))
            .collect())
    }

    pub fn delete_expired_sessions(&self, now: i64) -> Result<usize, StoreError> {
        Ok(self
            .conn()
            .execute("DELETE FROM sessions WHERE expires_at <= ?1", params![now])?)
    }
}
