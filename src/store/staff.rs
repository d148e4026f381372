//! Staff accounts.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use uuid::Uuid;

use super::{password, unix_secs, Store, StoreError};
use crate::staff::{Role, Staff};

const MAX_NAME: usize = 64;
/// The most chats an admin may let one person hold.
pub const MAX_CHATS_LIMIT: u32 = 20;

/// An account as admins see it (never password material).
#[derive(Debug, Clone, Serialize)]
pub struct AccountRow {
    #[serde(flatten)]
    pub staff: Staff,
    pub disabled: bool,
    pub must_change_password: bool,
    /// 0: the configured `chat.max_chats_per_advocate`.
    pub max_chats: u32,
    pub created_at: i64,
    pub totp_enabled: bool,
}

/// One change an admin (or the CLI) makes to an account.
#[derive(Debug, Clone)]
pub enum StaffChange {
    Role(Role),
    Disabled(bool),
    DisplayName(String),
    MaxChats(u32),
    /// A new password (already checked against the policy); `temporary` makes the person
    /// choose their own at the next login.
    Password {
        password: String,
        temporary: bool,
    },
}

fn check_display_name(display_name: &str) -> Result<&str, StoreError> {
    let display_name = display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > MAX_NAME {
        return Err(StoreError::Invalid("a display name is 1 to 64 characters"));
    }
    Ok(display_name)
}

impl Store {
    pub fn add_staff(
        &self,
        username: &str,
        display_name: &str,
        role: Role,
        password: &str,
    ) -> Result<Staff, StoreError> {
        self.add_staff_with(username, display_name, role, password, false)
    }

    /// Adds an account; with `temporary`, the password must be changed at the first login.
    pub fn add_staff_with(
        &self,
        username: &str,
        display_name: &str,
        role: Role,
        password: &str,
        temporary: bool,
    ) -> Result<Staff, StoreError> {
        let username = username.trim();
        if username.is_empty()
            || username.len() > MAX_NAME
            || !username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
        {
            return Err(StoreError::Invalid(
                "a user name is 1 to 64 letters, digits, or . _ - @",
            ));
        }
        let display_name = check_display_name(display_name)?;
        password::acceptable(password)?;
        let hash = password::hash(password)?;
        let staff = Staff {
            id: Uuid::new_v4(),
            username: username.to_owned(),
            display_name: display_name.to_owned(),
            role,
        };
        let inserted = self.conn().execute(
            "INSERT INTO staff (id, username, display_name, role, password_hash, created_at, must_change_password)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(username) DO NOTHING",
            params![
                staff.id.to_string(),
                staff.username,
                staff.display_name,
                role.as_str(),
                hash,
                unix_secs(),
                temporary as i64
            ],
        )?;
        if inserted == 0 {
            return Err(StoreError::UsernameTaken(staff.username));
        }
        Ok(staff)
    }

    /// The enabled account and its password hash, for login. A disabled account is absent.
    pub fn staff_for_login(&self, username: &str) -> Result<Option<(Staff, String)>, StoreError> {
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

    /// The password hash of an account by id (to check the current password on a change).
    pub fn password_hash(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT password_hash FROM staff WHERE id = ?1",
                params![id.to_string()],
                |row| row.get(0),
            )
            .optional()?)
    }

    pub fn list_staff(&self) -> Result<Vec<AccountRow>, StoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT id, username, display_name, role, disabled, must_change_password, max_chats, created_at,
                    totp_secret IS NOT NULL
             FROM staff ORDER BY username",
        )?;
        let rows = statement.query_map([], account_from_row)?;
        Ok(rows.filter_map(|r| r.ok().flatten()).collect())
    }

    pub fn account(&self, id: Uuid) -> Result<Option<AccountRow>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, username, display_name, role, disabled, must_change_password, max_chats, created_at,
                    totp_secret IS NOT NULL
                 FROM staff WHERE id = ?1",
                params![id.to_string()],
                account_from_row,
            )
            .optional()?
            .flatten())
    }

    pub fn account_by_username(&self, username: &str) -> Result<Option<AccountRow>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, username, display_name, role, disabled, must_change_password, max_chats, created_at,
                    totp_secret IS NOT NULL
                 FROM staff WHERE username = ?1",
                params![username],
                account_from_row,
            )
            .optional()?
            .flatten())
    }

    /// Applies one change. Changes that alter what a session may do (role, disabling, a new
    /// password) also end every session of that account, in the same transaction.
    pub fn change_staff(&self, id: Uuid, change: &StaffChange) -> Result<(), StoreError> {
        let id_text = id.to_string();
        let hashed;
        let (sql, value, ends_sessions): (&str, rusqlite::types::Value, bool) = match change {
            StaffChange::Role(role) => (
                "UPDATE staff SET role = ?2 WHERE id = ?1",
                role.as_str().to_owned().into(),
                true,
            ),
            StaffChange::Disabled(disabled) => (
                "UPDATE staff SET disabled = ?2 WHERE id = ?1",
                (*disabled as i64).into(),
                *disabled,
            ),
            StaffChange::DisplayName(name) => (
                "UPDATE staff SET display_name = ?2 WHERE id = ?1",
                check_display_name(name)?.to_owned().into(),
                false,
            ),
            StaffChange::MaxChats(n) => {
                if *n > MAX_CHATS_LIMIT {
                    return Err(StoreError::Invalid("max chats is 0 (the default) to 20"));
                }
                (
                    "UPDATE staff SET max_chats = ?2 WHERE id = ?1",
                    (*n as i64).into(),
                    false,
                )
            }
            StaffChange::Password {
                password: new,
                temporary,
            } => {
                password::acceptable(new)?;
                hashed = password::hash(new)?;
                let sql = if *temporary {
                    "UPDATE staff SET password_hash = ?2, must_change_password = 1 WHERE id = ?1"
                } else {
                    "UPDATE staff SET password_hash = ?2, must_change_password = 0 WHERE id = ?1"
                };
                (sql, hashed.clone().into(), true)
            }
        };
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if tx.execute(sql, params![id_text, value])? == 0 {
            return Err(StoreError::NoSuchStaff);
        }
        if ends_sessions {
            tx.execute("DELETE FROM sessions WHERE staff_id = ?1", params![id_text])?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn count_admins(&self) -> Result<u64, StoreError> {
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

/// A staff member from the first four columns `id, username, display_name, role`; `None` when
/// the stored id or role no longer parses (the account is then treated as absent).
pub(super) fn staff_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Staff>> {
    let (id, username, display_name, role): (String, String, String, String) =
        (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
    Ok(id
        .parse()
        .ok()
        .zip(Role::parse(&role))
        .map(|(id, role)| Staff {
            id,
            username,
            display_name,
            role,
        }))
}
