//! Staff sessions: a random token in the cookie, only its SHA-256 in the database, so a copy
//! of the database does not log anyone in. Stored so that sessions survive a restart.
//!
//! A session ends at the first of: its idle timeout since the last use, its absolute lifetime
//! since login, logout, or the account being disabled. Times are passed in (`now`) so that the
//! callers' clock can be injected in tests.

use rand::RngCore;
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

/// The sessions table, as each backend keeps it. Tokens arrive hashed.
pub trait SessionDb {
    fn insert_session(
        &self,
        token_hash: &str,
        staff_id: Uuid,
        expires_at: i64,
        created_at: i64,
    ) -> Result<(), StoreError>;
    /// The live session behind `token_hash` of an enabled account, its idle deadline moved to
    /// `now + idle_secs` (never past `created_at + absolute_secs`).
    fn use_session(
        &self,
        token_hash: &str,
        now: i64,
        idle_secs: i64,
        absolute_secs: i64,
    ) -> Result<Option<SessionRow>, StoreError>;
    /// Ends a session; returns whether one existed.
    fn delete_session_hash(&self, token_hash: &str) -> Result<bool, StoreError>;
    /// Ends every session of one staff member; returns how many there were.
    fn delete_sessions_of(&self, staff_id: Uuid) -> Result<usize, StoreError>;
    /// Live sessions per staff member (for the admin list).
    fn session_counts(&self, now: i64) -> Result<Vec<(Uuid, u32)>, StoreError>;
    fn delete_expired_sessions(&self, now: i64) -> Result<usize, StoreError>;
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
        self.insert_session(
            &token_hash(&token),
            staff_id,
            now + idle_secs.min(absolute_secs),
            now,
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
        self.use_session(&token_hash(token), now, idle_secs, absolute_secs)
    }

    /// Ends a session; returns whether one existed.
    pub fn delete_session(&self, token: &str) -> Result<bool, StoreError> {
        self.delete_session_hash(&token_hash(token))
    }
}
