//! Staff accounts.

use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

use super::{password, unix_secs, Store, StoreError};
use crate::staff::{Role, Staff};

const MAX_NAME: usize = 64;

impl Store {
    pub fn add_staff(
        &self,
        username: &str,
        display_name: &str,
        role: Role,
        password: &str,
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
        let display_name = display_name.trim();
        if display_name.is_empty() || display_name.chars().count() > MAX_NAME {
            return Err(StoreError::Invalid("a display name is 1 to 64 characters"));
        }
        if password.chars().count() < 10 {
            return Err(StoreError::Invalid("a password has at least 10 characters"));
        }
        let hash = password::hash(password)?;
        let staff = Staff {
            id: Uuid::new_v4(),
            username: username.to_owned(),
            display_name: display_name.to_owned(),
            role,
        };
        let inserted = self.conn().execute(
            "INSERT INTO staff (id, username, display_name, role, password_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(username) DO NOTHING",
            params![
                staff.id.to_string(),
                staff.username,
                staff.display_name,
                role.as_str(),
                hash,
                unix_secs()
            ],
        )?;
        if inserted == 0 {
            return Err(StoreError::UsernameTaken(staff.username));
        }
        Ok(staff)
    }

    /// The account and its password hash, for login.
    pub fn staff_for_login(&self, username: &str) -> Result<Option<(Staff, String)>, StoreError> {
        let row = self
            .conn()
            .query_row(
                "SELECT id, username, display_name, role, password_hash FROM staff WHERE username = ?1",
                params![username],
                |row| Ok((staff_from_row(row)?, row.get::<_, String>(4)?)),
            )
            .optional()?;
        Ok(row.and_then(|(staff, hash)| Some((staff?, hash))))
    }

    pub fn count_admins(&self) -> Result<u64, StoreError> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM staff WHERE role = 'admin'",
            [],
            |row| row.get(0),
        )?)
    }
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
