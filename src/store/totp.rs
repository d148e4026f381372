//! The TOTP second factor's stored half: secrets, the last time step used (so a code works
//! once), single-use recovery codes (only their SHA-256), and run-time security settings.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Store, StoreError};

pub fn recovery_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect();
    hex::encode(Sha256::digest(normal.as_bytes()))
}

/// The second factor's columns and tables, as each backend keeps them.
pub trait TotpDb {
    /// Keeps a new secret until the person proves their app has it.
    fn set_totp_pending(&self, id: Uuid, secret: &[u8]) -> Result<(), StoreError>;
    fn totp_pending(&self, id: Uuid) -> Result<Option<Vec<u8>>, StoreError>;
    /// Makes the pending secret the account's second factor, with new recovery codes.
    fn enable_totp(
        &self,
        id: Uuid,
        step: u64,
        recovery_hashes: &[String],
    ) -> Result<(), StoreError>;
    /// The enrolled secret and the last step used, if the account has a second factor.
    fn totp(&self, id: Uuid) -> Result<Option<(Vec<u8>, u64)>, StoreError>;
    /// Records that the code of `step` was used; false if it (or a later one) already was,
    /// also when two nodes check the same code at once.
    fn use_totp_step(&self, id: Uuid, step: u64) -> Result<bool, StoreError>;
    /// Uses up one recovery code by its hash; false if it is not one of the account's (or
    /// was used a moment ago on another node).
    fn use_recovery_hash(&self, id: Uuid, code_hash: &str) -> Result<bool, StoreError>;
    /// Removes the second factor (an admin's reset, for a lost phone) and ends the sessions.
    fn clear_totp(&self, id: Uuid) -> Result<(), StoreError>;
    fn security_setting(&self, name: &str) -> Result<Option<String>, StoreError>;
    fn set_security_setting(&self, name: &str, value: &str) -> Result<(), StoreError>;
}

impl Store {
    /// Uses up one recovery code; false if it is not one of the account's.
    pub fn use_recovery_code(&self, id: Uuid, code: &str) -> Result<bool, StoreError> {
        self.use_recovery_hash(id, &recovery_hash(code))
    }
}
