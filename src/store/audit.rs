//! The audit log: who (a staff id) did what (an action code), when, to whom (a staff id).
//! Never chat content, intake answers, chatter ids or addresses; the only free text is the
//! user name a failed login attempted, which admins need to see an attack.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

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

impl Store {
    pub fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for e in entries {
            tx.execute(
                "INSERT INTO audit (at, actor, action, target, attempted_username, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    e.at,
                    e.actor,
                    e.action,
                    e.target,
                    e.attempted_username,
                    e.detail
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Newest first.
    pub fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT at, actor, action, target, attempted_username, detail FROM audit
             WHERE (?1 IS NULL OR action = ?1)
               AND (?2 IS NULL OR actor = ?2 OR target = ?2)
               AND (?3 IS NULL OR at >= ?3)
               AND (?4 IS NULL OR at <= ?4)
             ORDER BY at DESC, id DESC LIMIT ?5",
        )?;
        let limit = filter.limit.unwrap_or(500).min(MAX_AUDIT_ROWS);
        let rows = statement.query_map(
            params![
                filter.action,
                filter.staff,
                filter.since,
                filter.until,
                limit
            ],
            |row| {
                Ok(AuditEntry {
                    at: row.get(0)?,
                    actor: row.get(1)?,
                    action: row.get(2)?,
                    target: row.get(3)?,
                    attempted_username: row.get(4)?,
                    detail: row.get(5)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes entries older than `before` (the audit log's own retention).
    pub fn delete_audit_before(&self, before: i64) -> Result<usize, StoreError> {
        Ok(self
            .conn()
            .execute("DELETE FROM audit WHERE at < ?1", params![before])?)
    }
}
