//! Staff accounts.

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

/// The staff table, as each backend keeps it.
pub trait StaffDb {
    /// Inserts the account; `false` when the user name is taken (atomically: two nodes adding
    /// the same name at once get one account).
    fn insert_staff(
        &self,
        staff: &Staff,
        password_hash: &str,
        created_at: i64,
        temporary: bool,
    ) -> Result<bool, StoreError>;
    /// The enabled account and its password hash, for login. A disabled account is absent.
    fn staff_for_login(&self, username: &str) -> Result<Option<(Staff, String)>, StoreError>;
    /// The password hash of an account by id (to check the current password on a change).
    fn password_hash(&self, id: Uuid) -> Result<Option<String>, StoreError>;
    fn list_staff(&self) -> Result<Vec<AccountRow>, StoreError>;
    fn account(&self, id: Uuid) -> Result<Option<AccountRow>, StoreError>;
    fn account_by_username(&self, username: &str) -> Result<Option<AccountRow>, StoreError>;
    /// Writes one checked change; [`StaffUpdate::ends_sessions`] changes also end every
    /// session of the account, in the same transaction. `NoSuchStaff` when no row matched.
    fn update_staff(&self, id: Uuid, update: &StaffUpdate) -> Result<(), StoreError>;
    fn count_admins(&self) -> Result<u64, StoreError>;
}

/// A [`StaffChange`] after its checks, with a password already hashed.
#[derive(Debug, Clone)]
pub enum StaffUpdate {
    Role(Role),
    Disabled(bool),
    DisplayName(String),
    MaxChats(u32),
    PasswordHash { hash: String, temporary: bool },
}

impl StaffUpdate {
    /// Whether the change alters what a session may do (role, disabling, a new password).
    pub fn ends_sessions(&self) -> bool {
        matches!(
            self,
            StaffUpdate::Role(_) | StaffUpdate::Disabled(true) | StaffUpdate::PasswordHash { .. }
        )
    }
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
        if !self.insert_staff(&staff, &hash, unix_secs(), temporary)? {
            return Err(StoreError::UsernameTaken(staff.username));
        }
        Ok(staff)
    }

    /// Applies one change. Changes that alter what a session may do (role, disabling, a new
    /// password) also end every session of that account, in the same transaction.
    pub fn change_staff(&self, id: Uuid, change: &StaffChange) -> Result<(), StoreError> {
        let update = match change {
            StaffChange::Role(role) => StaffUpdate::Role(*role),
            StaffChange::Disabled(disabled) => StaffUpdate::Disabled(*disabled),
            StaffChange::DisplayName(name) => {
                StaffUpdate::DisplayName(check_display_name(name)?.to_owned())
            }
            StaffChange::MaxChats(n) => {
                if *n > MAX_CHATS_LIMIT {
                    return Err(StoreError::Invalid("max chats is 0 (the default) to 20"));
                }
                StaffUpdate::MaxChats(*n)
            }
            StaffChange::Password {
                password: new,
                temporary,
            } => {
                password::acceptable(new)?;
                StaffUpdate::PasswordHash {
                    hash: password::hash(new)?,
                    temporary: *temporary,
                }
            }
        };
        self.update_staff(id, &update)
    }
}

/// An account from its parts; `None` when the stored id or role no longer parses (the
/// account is then treated as absent).
pub(super) fn staff_from_parts(
    id: &str,
    username: String,
    display_name: String,
    role: &str,
) -> Option<Staff> {
    Some(Staff {
        id: id.parse().ok()?,
        username,
        display_name,
        role: Role::parse(role)?,
    })
}
