//! The second factor and security settings in SQLite.

use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

use super::Sqlite;
use crate::store::{totp::TotpDb, StoreError};

impl TotpDb for Sqlite {
    fn set_totp_pending(&self, id: Uuid, secret: &[u8]) -> Result<(), StoreError> {
        let changed = self.conn().execute(
            "UPDATE staff SET totp_pending = ?2 WHERE id = ?1",
            params![id.to_string(), secret],
        )?;
        if changed == 0 {
            return Err(StoreError::NoSuchStaff);
        }
        Ok(())
    }

    fn totp_pending(&self, id: Uuid) -> Result<Option<Vec<u8>>, StoreError> {
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

    fn enable_totp(
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

    fn totp(&self, id: Uuid) -> Result<Option<(Vec<u8>, u64)>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT totp_secret, totp_last_step FROM staff WHERE id = ?1 AND totp_secret IS NOT NULL",
                params![id.to_string()],
                |row| Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, i64>(1)?.max(0) as u64)),
            )
            .optional()?)
    }

    fn use_totp_step(&self, id: Uuid, step: u64) -> Result<bool, StoreError> {
        Ok(self.conn().execute(
            "UPDATE staff SET totp_last_step = ?2 WHERE id = ?1 AND totp_last_step < ?2",
            params![id.to_string(), step as i64],
        )? == 1)
    }

    fn use_recovery_hash(&self, id: Uuid, code_hash: &str) -> Result<bool, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM recovery_codes WHERE staff_id = ?1 AND code_hash = ?2",
            params![id.to_string(), code_hash],
        )? == 1)
    }

    fn clear_totp(&self, id: Uuid) -> Result<(), StoreError> {
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

    fn security_setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT value FROM security_settings WHERE name = ?1",
                params![name],
                |row| row.get(0),
            )
            .optional()?)
    }

    fn set_security_setting(&self, name: &str, value: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO security_settings (name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )?;
        Ok(())
    }
}
