//! Staff administration rules shared by the admin API and the command line: temporary
//! passwords, and the rule that Haven always keeps one enabled admin.

use uuid::Uuid;

use crate::{
    staff::Role,
    store::{StaffChange, Store, StoreError},
};

/// Letters and digits that cannot be mistaken for one another when read aloud or copied.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A random temporary password, e.g. `k7mq-3xtp-hw9c-2bnd` (about 99 bits), to hand over once;
/// the person must replace it at their first login.
pub fn temporary_password() -> String {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    (0..4)
        .map(|_| {
            (0..5)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("Haven needs at least one enabled admin; this change would leave none.")]
    LastAdmin,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Refuses a change that would leave no enabled admin (disabling or demoting the last one).
pub fn keeps_an_admin(store: &Store, target: Uuid, change: &StaffChange) -> Result<(), AdminError> {
    let removes_admin = matches!(
        change,
        StaffChange::Disabled(true)
            | StaffChange::Role(Role::Advocate | Role::Supervisor | Role::Evaluator)
    );
    if !removes_admin {
        return Ok(());
    }
    let account = store.account(target)?.ok_or(StoreError::NoSuchStaff)?;
    if account.staff.role == Role::Admin && !account.disabled && store.count_admins()? <= 1 {
        return Err(AdminError::LastAdmin);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_passwords_pass_the_policy_and_differ() {
        let a = temporary_password();
        assert_eq!(a.len(), 23);
        crate::store::password::acceptable(&a).unwrap();
        assert_ne!(a, temporary_password());
    }
}
