//! The TOTP second factor's stored half: secrets, the last time step used (so a code works
//! once), single-use recovery codes (only their SHA-256), and run-time security settings.

use rusqlite::{params, OptionalExtension};
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

impl Store {
    /// Keeps a new secret until the person proves their app has it.
    pub fn set_totp_pending(&self, id: Uuid, secret: &[u8]) -> Result<(), StoreError> {
        let changed = self.conn().execute(
            "UPDATE staff SET totp_pending = ?2 WHERE id = ?1",
            params![id.to_string(), secret],
        )?;
        if changed == 0 {
            return Err(StoreError::NoSuchStaff);
        }
        Ok(())
    }

    pub fn totp_pending(&self, id: Uuid) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT totp_pending FROM staff WHERE id = ?1",
                params![id.to_string()],
                |row| row.get(0),
            )
            .optional()?
            .flatten())
    }

    /// Makes the pending secret the account's second factor, with new recovery codes.
    pub fn enable_totp(
        &self,
        id: Uuid,
        step: u64,
        recovery_hashes: &[String],
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let id = id.to_string();
        let changed = tx.execute(
            "UPDATE staff SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = ?2
             WHERE id = ?1 AND totp_pending IS NOT NULL",
            params![id, step as i64],
        )?;
        if changed == 0 {
            return Err(StoreError::Invalid("start the set-up again"));
        }
        tx.execute(
            "DELETE FROM recovery_codes WHERE staff_id = ?1",
            params![id],
        )?;
        for hash in recovery_hashes {
            tx.execute(
                "INSERT INTO recovery_codes (staff_id, code_hash) VALUES (?1, ?2)",
                params![id, hash],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The enrolled secret and the last step used, if the account has a second factor.
    pub fn totp(&self, id: Uuid) -> Result<Option<(Vec<u8>, u64)>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT totp_secret, totp_last_step FROM staff WHERE id = ?1 AND totp_secret IS NOT NULL",
                params![id.to_string()],
                |row| Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, i64>(1)?.max(0) as u64)),
            )
            .optional()?)
    }

    /// Records that the code of `step` was used; false if it (or a later one) already was.
    pub fn use_totp_step(&self, id: Uuid, step: u64) -> Result<bool, StoreError> {
        Ok(self.conn().execute(
            "UPDATE staff SET totp_last_step = ?2 WHERE id = ?1 AND totp_last_step < ?2",
            params![id.to_string(), step as i64],
        )? == 1)
    }

    /// Uses up one recovery code; false if it is not one of the account's.
    pub fn use_recovery_code(&self, id: Uuid, code: &str) -> Result<bool, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM recovery_codes WHERE staff_id = ?1 AND code_hash = ?2",
            params![id.to_string(), recovery_hash(code)],
        )? == 1)
    }

    /// Removes the second factor (an admin's reset, for a lost phone).
    pub fn clear_totp(&self, id: Uuid) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let id = id.to_string();
        if tx.execute(
            "UPDATE staff SET totp_secret = NULL, totp_pending = NULL WHERE id = ?1",
            params![id],
        )? == 0
        {
            return Err(StoreError::NoSuchStaff);
        }
        tx.execute(
            "DELETE FROM recovery_codes WHERE staff_id = ?1",
            params![id],
        )?;
        tx.execute("DELETE FROM sessions WHERE staff_id = ?1", params![id])?;
        tx.commit()?;
        Ok(())
    }

    pub fn security_setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT value FROM security_settings WHERE name = ?1",
                params![name],
                |row| row.get(0),
            )
            .optional()?)
    }

    pub fn set_security_setting(&self, name: &str, value: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO security_settings (name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )?;
        Ok(())
    }
}
