//! The audit log: who (a staff id) did what (an action code), when, to whom (a staff id).
//! Never chat content, intake answers, chatter ids or addresses; the only free text is the
//! user name a failed login attempted, which admins need to see an attack.

use serde::{Deserialize, Serialize};

use super::StoreError;

/// One audit entry, as stored and as admins read it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditEntry {
    /// Unix seconds.
    pub at: i64,
    /// Staff id of who acted; `None` for a failed login.
    pub actor: Option<String>,
    /// What happened, e.g. `login`, `login_failed`, `staff_disabled` (docs/protocol.md).
    pub action: String,
    /// Staff id acted upon, when not the actor.
    pub target: Option<String>,
    /// The user name a failed login tried (it may be a typo of a real one).
    pub attempted_username: Option<String>,
    /// A short code-like detail, e.g. the new role.
    pub detail: Option<String>,
}

/// What admins filter the log by; every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditFilter {
    pub action: Option<String>,
    /// Entries where this staff id acted or was acted upon.
    pub staff: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub limit: Option<u32>,
}

/// The most entries one query returns.
pub const MAX_AUDIT_ROWS: u32 = 10_000;

/// The audit table, as each backend keeps it.
pub trait AuditDb {
    fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), StoreError>;
    /// Newest first.
    fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError>;
    /// Deletes entries older than `before` (the audit log's own retention).
    fn delete_audit_before(&self, before: i64) -> Result<usize, StoreError>;
}
