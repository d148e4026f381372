//! The second factor and security settings in PostgreSQL.

use uuid::Uuid;

use super::Postgres;
use crate::store::{totp::TotpDb, StoreError};

impl TotpDb for Postgres {
    fn set_totp_pending(&self, id: Uuid, secret: &[u8]) -> Result<(), StoreError> {
        self.run(|c| {
            let changed = c.execute(
                "UPDATE staff SET totp_pending = $2 WHERE id = $1",
                &[&id.to_string(), &secret],
            )?;
            if changed == 0 {
                return Err(StoreError::NoSuchStaff);
            }
            Ok(())
        })
    }

    fn totp_pending(&self, id: Uuid) -> Result<Option<Vec<u8>>, StoreError> {
        self.run(|c| {
            let row = c.query_opt(
                "SELECT totp_pending FROM staff WHERE id = $1",
                &[&id.to_string()],
            )?;
            Ok(row
                .map(|row| row.try_get::<_, Option<Vec<u8>>>(0))
                .transpose()?
                .flatten())
        })
    }

    fn enable_totp(
        &self,
        id: Uuid,
        step: u64,
        recovery_hashes: &[String],
    ) -> Result<(), StoreError> {
        let id = id.to_string();
        self.run(|c| {
            let mut tx = c.transaction()?;
            let changed = tx.execute(
                "UPDATE staff SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $2
                 WHERE id = $1 AND totp_pending IS NOT NULL",
                &[&id, &(step as i64)],
            )?;
            if changed == 0 {
                return Err(StoreError::Invalid("start the set-up again"));
            }
            tx.execute("DELETE FROM recovery_codes WHERE staff_id = $1", &[&id])?;
            for hash in recovery_hashes {
                tx.execute(
                    "INSERT INTO recovery_codes (staff_id, code_hash) VALUES ($1, $2)",
                    &[&id, hash],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn totp(&self, id: Uuid) -> Result<Option<(Vec<u8>, u64)>, StoreError> {
        self.run(|c| {
            let Some(row) = c.query_opt(
                "SELECT totp_secret, totp_last_step FROM staff
                 WHERE id = $1 AND totp_secret IS NOT NULL",
                &[&id.to_string()],
            )?
            else {
                return Ok(None);
            };
            let last: i64 = row.try_get(1)?;
            Ok(Some((row.try_get(0)?, last.max(0) as u64)))
        })
    }

    fn use_totp_step(&self, id: Uuid, step: u64) -> Result<bool, StoreError> {
        // The row lock makes a second node's UPDATE wait and then see the new step.
        self.run(|c| {
            Ok(c.execute(
                "UPDATE staff SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2",
                &[&id.to_string(), &(step as i64)],
            )? == 1)
        })
    }

    fn use_recovery_hash(&self, id: Uuid, code_hash: &str) -> Result<bool, StoreError> {
        self.run(|c| {
            Ok(c.execute(
                "DELETE FROM recovery_codes WHERE staff_id = $1 AND code_hash = $2",
                &[&id.to_string(), &code_hash],
            )? == 1)
        })
    }

    fn clear_totp(&self, id: Uuid) -> Result<(), StoreError> {
        let id = id.to_string();
        self.run(|c| {
            let mut tx = c.transaction()?;
            if tx.execute(
                "UPDATE staff SET totp_secret = NULL, totp_pending = NULL WHERE id = $1",
                &[&id],
            )? == 0
            {
                return Err(StoreError::NoSuchStaff);
            }
            tx.execute("DELETE FROM recovery_codes WHERE staff_id = $1", &[&id])?;
            tx.execute("DELETE FROM sessions WHERE staff_id = $1", &[&id])?;
            tx.commit()?;
            Ok(())
        })
    }

    fn security_setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.run(|c| {
            Ok(c.query_opt(
                "SELECT value FROM security_settings WHERE name = $1",
                &[&name],
            )?
            .map(|row| row.try_get(0))
            .transpose()?)
        })
    }

    fn set_security_setting(&self, name: &str, value: &str) -> Result<(), StoreError> {
        self.run(|c| {
            c.execute(
                "INSERT INTO security_settings (name, value) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                &[&name, &value],
            )?;
            Ok(())
        })
    }
}
