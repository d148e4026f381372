//! The audit log in PostgreSQL.

use super::Postgres;
use crate::store::{
    audit::{AuditDb, AuditEntry, AuditFilter, MAX_AUDIT_ROWS},
    StoreError,
};

impl AuditDb for Postgres {
    fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        self.run(|c| {
            let mut tx = c.transaction()?;
            for e in entries {
                tx.execute(
                    "INSERT INTO audit (at, actor, action, target, attempted_username, detail)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &[
                        &e.at,
                        &e.actor,
                        &e.action,
                        &e.target,
                        &e.attempted_username,
                        &e.detail,
                    ],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = i64::from(filter.limit.unwrap_or(500).min(MAX_AUDIT_ROWS));
        self.run(|c| {
            let rows = c.query(
                "SELECT at, actor, action, target, attempted_username, detail FROM audit
                 WHERE ($1::TEXT IS NULL OR action = $1)
                   AND ($2::TEXT IS NULL OR actor = $2 OR target = $2)
                   AND ($3::BIGINT IS NULL OR at >= $3)
                   AND ($4::BIGINT IS NULL OR at <= $4)
                 ORDER BY at DESC, id DESC LIMIT $5",
                &[
                    &filter.action,
                    &filter.staff,
                    &filter.since,
                    &filter.until,
                    &limit,
                ],
            )?;
            let mut entries = Vec::with_capacity(rows.len());
            for row in rows {
                entries.push(AuditEntry {
                    at: row.try_get(0)?,
                    actor: row.try_get(1)?,
                    action: row.try_get(2)?,
                    target: row.try_get(3)?,
                    attempted_username: row.try_get(4)?,
                    detail: row.try_get(5)?,
                });
            }
            Ok(entries)
        })
    }

    fn delete_audit_before(&self, before: i64) -> Result<usize, StoreError> {
        self.run(|c| Ok(c.execute("DELETE FROM audit WHERE at < $1", &[&before])? as usize))
    }
}
