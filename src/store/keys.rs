//! Random keys Haven makes for itself and keeps across restarts (the device-cookie signing
//! key). Made on first use; never user data.

use rand::RngCore;

use super::{Store, StoreError};

/// The keys table, as each backend keeps it.
pub trait KeysDb {
    /// The stored 32-byte key called `name`; when there is none (or it is not 32 bytes),
    /// `fresh` is stored and returned. Two nodes asking at once get the same key.
    fn server_key_or(&self, name: &str, fresh: [u8; 32]) -> Result<[u8; 32], StoreError>;
}

impl Store {
    /// The 32-byte key called `name`, made now if it does not exist yet.
    pub fn server_key(&self, name: &str) -> Result<[u8; 32], StoreError> {
        let mut fresh = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        self.server_key_or(name, fresh)
    }
}
