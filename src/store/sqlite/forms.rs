//! Form answers in SQLite.

use rusqlite::{params, OptionalExtension};

use super::Sqlite;
use crate::store::{
    forms::{random_id, Followup, FormsDb, NewSubmission},
    StoreError,
};

impl FormsDb for Sqlite {
    fn form_definition(&self, form: &str, version: u32) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT definition FROM form_versions WHERE form = ?1 AND version = ?2",
                params![form, version],
                |row| row.get(0),
            )
            .optional()?)
    }

    fn put_form_version(&self, form: &str, version: u32, record: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO form_versions (form, version, definition) VALUES (?1, ?2, ?3)
             ON CONFLICT (form, version) DO UPDATE SET definition = excluded.definition",
            params![form, version, record],
        )?;
        Ok(())
    }

    fn form_versions(&self, form: &str) -> Result<Vec<(u32, String)>, StoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT version, definition FROM form_versions WHERE form = ?1 ORDER BY version",
        )?;
        let rows = statement
            .query_map(params![form], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn insert_submission(&self, new: &NewSubmission<'_>) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let id = random_id();
        tx.execute(
            "INSERT INTO submissions (id, form, version, queue, bucket, deletion_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id,
                new.form,
                new.version,
                new.queue,
                new.bucket,
                new.deletion_hash
            ],
        )?;
        for (question, value) in new.choices {
            tx.execute(
                "INSERT INTO answers (submission_id, question, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                params![id, question, value],
            )?;
        }
        for (question, answer) in new.free_text {
            tx.execute(
                "INSERT INTO free_text (id, submission_id, question, answer)
                 VALUES (?1, ?2, ?3, ?4)",
                params![random_id(), id, question, answer],
            )?;
        }
        if let Some((email, purpose, expires_on)) = new.followup {
            tx.execute(
                "INSERT INTO followups (id, deletion_hash, email, purpose, expires_on)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![random_id(), new.deletion_hash, email, purpose, expires_on],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn count_withheld(
        &self,
        bucket: &str,
        form: &str,
        version: u32,
        queue: &str,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO withheld (bucket, form, version, queue, count) VALUES (?1, ?2, ?3, ?4, 1)
             ON CONFLICT (bucket, form, version, queue) DO UPDATE SET count = withheld.count + 1",
            params![bucket, form, version, queue],
        )?;
        Ok(())
    }

    fn forget(&self, deletion_hash: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let answers = tx.execute(
            "DELETE FROM submissions WHERE deletion_hash = ?1",
            params![deletion_hash],
        )?;
        let emails = tx.execute(
            "DELETE FROM followups WHERE deletion_hash = ?1",
            params![deletion_hash],
        )?;
        tx.commit()?;
        Ok(answers + emails > 0)
    }

    fn delete_expired_answers(&self, oldest_kept: &str, today: &str) -> Result<usize, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut deleted = tx.execute(
            "DELETE FROM submissions WHERE bucket < ?1",
            params![oldest_kept],
        )?;
        deleted += tx.execute(
            "DELETE FROM withheld WHERE bucket < ?1",
            params![oldest_kept],
        )?;
        deleted += tx.execute(
            "DELETE FROM ops_counts WHERE bucket < ?1",
            params![oldest_kept],
        )?;
        deleted += tx.execute(
            "DELETE FROM followups WHERE expires_on < ?1",
            params![today],
        )?;
        tx.commit()?;
        Ok(deleted)
    }

    fn followups(&self) -> Result<Vec<Followup>, StoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT id, email, purpose, expires_on FROM followups ORDER BY expires_on, id",
        )?;
        let rows = statement
            .query_map([], |row| {
                Ok(Followup {
                    id: row.get(0)?,
                    email: row.get(1)?,
                    purpose: row.get(2)?,
                    expires_on: row.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn delete_followup(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .execute("DELETE FROM followups WHERE id = ?1", params![id])?
            > 0)
    }

    fn free_text_page(
        &self,
        form: &str,
        version: u32,
        question: &str,
        page: usize,
        per_page: usize,
    ) -> Result<(Vec<String>, usize), StoreError> {
        let conn = self.conn();
        let total: usize = conn.query_row(
            "SELECT COUNT(*) FROM free_text f JOIN submissions s ON s.id = f.submission_id
             WHERE s.form = ?1 AND s.version = ?2 AND f.question = ?3",
            params![form, version, question],
            |row| row.get::<_, i64>(0).map(|n| n as usize),
        )?;
        let mut statement = conn.prepare(
            "SELECT f.answer FROM free_text f JOIN submissions s ON s.id = f.submission_id
             WHERE s.form = ?1 AND s.version = ?2 AND f.question = ?3
             ORDER BY f.id LIMIT ?4 OFFSET ?5",
        )?;
        let answers = statement
            .query_map(
                params![
                    form,
                    version,
                    question,
                    per_page as i64,
                    (page * per_page) as i64
                ],
                |row| row.get(0),
            )?
            .collect::<Result<Vec<String>, _>>()?;
        Ok((answers, total))
    }

    fn compact(&self) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute_batch("VACUUM;")?;
        // In WAL mode the log still holds the pages as written: empty it too.
        let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
        Ok(())
    }
}
