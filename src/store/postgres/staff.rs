//! Staff accounts in PostgreSQL.

use postgres::{types::ToSql, Row};
use uuid::Uuid;

use super::Postgres;
use crate::staff::Staff;
use crate::store::{
    staff::{staff_from_parts, StaffDb, StaffUpdate, MAX_CHATS_LIMIT},
    AccountRow, StoreError,
};

const ACCOUNT_COLUMNS: &str = "id, username, display_name, role, disabled, must_change_password,
    max_chats, created_at, totp_secret IS NOT NULL";

impl StaffDb for Postgres {
    fn insert_staff(
        &self,
        staff: &Staff,
        password_hash: &str,
        created_at: i64,
        temporary: bool,
    ) -> Result<bool, StoreError> {
        self.run(|c| {
            let inserted = c.execute(
                "INSERT INTO staff (id, username, display_name, role, password_hash, created_at, must_change_password)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (username) DO NOTHING",
                &[
                    &staff.id.to_string(),
                    &staff.username,
                    &staff.display_name,
                    &staff.role.as_str(),
                    &password_hash,
                    &created_at,
                    &temporary,
                ],
            )?;
            Ok(inserted == 1)
        })
    }

    fn staff_for_login(&self, username: &str) -> Result<Option<(Staff, String)>, StoreError> {
        self.run(|c| {
            let Some(row) = c.query_opt(
                "SELECT id, username, display_name, role, password_hash FROM staff
                 WHERE username = $1 AND NOT disabled",
                &[&username],
            )?
            else {
                return Ok(None);
            };
            let hash: String = row.try_get(4)?;
            Ok(staff_from_row(&row)?.map(|staff| (staff, hash)))
        })
    }

    fn password_hash(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        self.run(|c| {
            Ok(c.query_opt(
                "SELECT password_hash FROM staff WHERE id = $1",
                &[&id.to_string()],
            )?
            .map(|row| row.try_get(0))
            .transpose()?)
        })
    }

    fn list_staff(&self) -> Result<Vec<AccountRow>, StoreError> {
        self.run(|c| {
            let rows = c.query(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM staff ORDER BY username"),
                &[],
            )?;
            Ok(rows
                .iter()
                .filter_map(|row| account_from_row(row).ok().flatten())
                .collect())
        })
    }

    fn account(&self, id: Uuid) -> Result<Option<AccountRow>, StoreError> {
        self.run(|c| {
            let row = c.query_opt(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM staff WHERE id = $1"),
                &[&id.to_string()],
            )?;
            Ok(row.as_ref().map(account_from_row).transpose()?.flatten())
        })
    }

    fn account_by_username(&self, username: &str) -> Result<Option<AccountRow>, StoreError> {
        self.run(|c| {
            let row = c.query_opt(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM staff WHERE username = $1"),
                &[&username],
            )?;
            Ok(row.as_ref().map(account_from_row).transpose()?.flatten())
        })
    }

    fn update_staff(&self, id: Uuid, update: &StaffUpdate) -> Result<(), StoreError> {
        let id_text = id.to_string();
        let (sql, value): (&str, Box<dyn ToSql + Sync + Send>) = match update {
            StaffUpdate::Role(role) => (
                "UPDATE staff SET role = $2 WHERE id = $1",
                Box::new(role.as_str().to_owned()),
            ),
            StaffUpdate::Disabled(disabled) => (
                "UPDATE staff SET disabled = $2 WHERE id = $1",
                Box::new(*disabled),
            ),
            StaffUpdate::DisplayName(name) => (
                "UPDATE staff SET display_name = $2 WHERE id = $1",
                Box::new(name.clone()),
            ),
            StaffUpdate::MaxChats(n) => (
                "UPDATE staff SET max_chats = $2 WHERE id = $1",
                Box::new(*n as i64),
            ),
            StaffUpdate::PasswordHash { hash, temporary } => (
                if *temporary {
                    "UPDATE staff SET password_hash = $2, must_change_password = TRUE WHERE id = $1"
                } else {
                    "UPDATE staff SET password_hash = $2, must_change_password = FALSE WHERE id = $1"
                },
                Box::new(hash.clone()),
            ),
        };
        self.run(|c| {
            let mut tx = c.transaction()?;
            if tx.execute(sql, &[&id_text, &*value])? == 0 {
                return Err(StoreError::NoSuchStaff);
            }
            if update.ends_sessions() {
                tx.execute("DELETE FROM sessions WHERE staff_id = $1", &[&id_text])?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn count_admins(&self) -> Result<u64, StoreError> {
        self.run(|c| {
            let n: i64 = c
                .query_one(
                    "SELECT COUNT(*) FROM staff WHERE role = 'admin' AND NOT disabled",
                    &[],
                )?
                .try_get(0)?;
            Ok(n.max(0) as u64)
        })
    }
}

fn account_from_row(row: &Row) -> Result<Option<AccountRow>, postgres::Error> {
    let Some(staff) = staff_from_row(row)? else {
        return Ok(None);
    };
    Ok(Some(AccountRow {
        staff,
        disabled: row.try_get(4)?,
        must_change_password: row.try_get(5)?,
        max_chats: row.try_get::<_, i64>(6)?.clamp(0, MAX_CHATS_LIMIT as i64) as u32,
        created_at: row.try_get(7)?,
        totp_enabled: row.try_get(8)?,
    }))
}

/// A staff member from the first four columns `id, username, display_name, role`.
pub(super) fn staff_from_row(row: &Row) -> Result<Option<Staff>, postgres::Error> {
    let id: String = row.try_get(0)?;
    let role: String = row.try_get(3)?;
    Ok(staff_from_parts(
        &id,
        row.try_get(1)?,
        row.try_get(2)?,
        &role,
    ))
}
