//! Staff accounts in SQLite.

use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

use super::Sqlite;
use crate::staff::Staff;
use crate::store::{
    staff::{staff_from_parts, StaffDb, StaffUpdate, MAX_CHATS_LIMIT},
    AccountRow, StoreError,
};

const ACCOUNT_COLUMNS: &str = "id, username, display_name, role, disabled, must_change_password,
    max_chats, created_at, totp_secret IS NOT NULL";

impl StaffDb for Sqlite {
    fn insert_staff(
        &self,
        staff: &Staff,
        password_hash: &str,
        created_at: i64,
        temporary: bool,
    ) -> Result<bool, StoreError> {
        let inserted = self.conn().execute(
            "INSERT INTO staff (id, username, display_name, role, password_hash, created_at, must_change_password)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(username) DO NOTHING",
            params![
                staff.id.to_string(),
                staff.username,
                staff.display_name,
                staff.role.as_str(),
                password_hash,
                created_at,
                temporary as i64
            ],
        )?;
        Ok(inserted == 1)
    }

    fn staff_for_login(&self, username: &str) -> Result<Option<(Staff, String)>, StoreError> {
        let row = self
            .conn()
            .query_row(
                "SELECT id, username, display_name, role, password_hash FROM staff
                 WHERE username = ?1 AND disabled = 0",
                params![username],
                |row| Ok((staff_from_row(row)?, row.get::<_, String>(4)?)),
            )
            .optional()?;
        Ok(row.and_then(|(staff, hash)| Some((staff?, hash))))
    }

    fn password_hash(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT password_hash FROM staff WHERE id = ?1",
                params![id.to_string()],
                |row| row.get(0),
            )
            .optional()?)
    }

    fn list_staff(&self) -> Result<Vec<AccountRow>, StoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM staff ORDER BY username"
        ))?;
        let rows = statement.query_map([], account_from_row)?;
        Ok(rows.filter_map(|r| r.ok().flatten()).collect())
    }

    fn account(&self, id: Uuid) -> Result<Option<AccountRow>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM staff WHERE id = ?1"),
                params![id.to_string()],
                account_from_row,
            )
            .optional()?
            .flatten())
    }

    fn account_by_username(&self, username: &str) -> Result<Option<AccountRow>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM staff WHERE username = ?1"),
                params![username],
                account_from_row,
            )
            .optional()?
            .flatten())
    }

    fn update_staff(&self, id: Uuid, update: &StaffUpdate) -> Result<(), StoreError> {
        let id_text = id.to_string();
        let (sql, value): (&str, rusqlite::types::Value) = match update {
            StaffUpdate::Role(role) => (
                "UPDATE staff SET role = ?2 WHERE id = ?1",
                role.as_str().to_owned().into(),
            ),
            StaffUpdate::Disabled(disabled) => (
                "UPDATE staff SET disabled = ?2 WHERE id = ?1",
                (*disabled as i64).into(),
            ),
            StaffUpdate::DisplayName(name) => (
                "UPDATE staff SET display_name = ?2 WHERE id = ?1",
                name.clone().into(),
            ),
            StaffUpdate::MaxChats(n) => (
                "UPDATE staff SET max_chats = ?2 WHERE id = ?1",
                (*n as i64).into(),
            ),
            StaffUpdate::PasswordHash { hash, temporary } => (
                if *temporary {
                    "UPDATE staff SET password_hash = ?2, must_change_password = 1 WHERE id = ?1"
                } else {
                    "UPDATE staff SET password_hash = ?2, must_change_password = 0 WHERE id = ?1"
                },
                hash.clone().into(),
            ),
        };
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if tx.execute(sql, params![id_text, value])? == 0 {
            return Err(StoreError::NoSuchStaff);
        }
        if update.ends_sessions() {
            tx.execute("DELETE FROM sessions WHERE staff_id = ?1", params![id_text])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn count_admins(&self) -> Result<u64, StoreError> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM staff WHERE role = 'admin' AND disabled = 0",
            [],
            |row| row.get(0),
        )?)
    }
}

fn account_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Option<AccountRow>> {
    let Some(staff) = staff_from_row(row)? else {
        return Ok(None);
    };
    Ok(Some(AccountRow {
        staff,
        disabled: row.get::<_, i64>(4)? != 0,
        must_change_password: row.get::<_, i64>(5)? != 0,
        max_chats: row.get::<_, i64>(6)?.clamp(0, MAX_CHATS_LIMIT as i64) as u32,
        created_at: row.get(7)?,
        totp_enabled: row.get::<_, i64>(8)? != 0,
    }))
}

/// A staff member from the first four columns `id, username, display_name, role`.
pub(super) fn staff_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Staff>> {
    let (id, username, display_name, role): (String, String, String, String) =
        (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
    Ok(staff_from_parts(&id, username, display_name, &role))
}
