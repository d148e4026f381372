//! The audit log in SQLite.

use rusqlite::params;

use super::Sqlite;
use crate::store::{
    audit::{AuditDb, AuditEntry, AuditFilter, MAX_AUDIT_ROWS},
    StoreError,
};

impl AuditDb for Sqlite {
    fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
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

    fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
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

    fn delete_audit_before(&self, before: i64) -> Result<usize, StoreError> {
        Ok(self
            .conn()
            .execute("DELETE FROM audit WHERE at < ?1", params![before])?)
    }
}
