//! Voluntary form answers: written unlinkable to any chat, erased by deletion code, deleted
//! when old. See docs/privacy.md for what is kept and why it cannot be linked.

use rand::RngCore;
use rusqlite::{params, OptionalExtension};

use super::{Store, StoreError};

/// One submission as it is written: no chat, no person, a date bucket only.
pub struct NewSubmission<'a> {
    pub form: &'a str,
    pub version: u32,
    pub queue: &'a str,
    pub bucket: &'a str,
    pub deletion_hash: &'a str,
    pub choices: &'a [(String, String)],
    pub free_text: &'a [(String, String)],
    /// `(email, purpose, expires_on)`.
    pub followup: Option<(&'a str, &'a str, &'a str)>,
}

/// A follow-up email as the follow-up role reads it.
#[derive(Debug, serde::Serialize)]
pub struct Followup {
    pub id: String,
    pub email: String,
    pub purpose: String,
    pub expires_on: String,
}

/// A random id: the primary key, so a table's order says nothing of when a row came.
fn random_id() -> String {
    let mut raw = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    hex::encode(raw)
}

impl Store {
    /// Records a form's definition for its version; refuses a changed form under an old
    /// version number (its stored answers would no longer mean what they meant). `shape` is
    /// what answers depend on (questions, kinds, options); `definition` also has the labels,
    /// which may change freely.
    pub fn register_form_version(
        &self,
        form: &str,
        version: u32,
        shape: &str,
        definition: &str,
    ) -> Result<(), StoreError> {
        let conn = self.conn();
        let stored: Option<String> = conn
            .query_row(
                "SELECT definition FROM form_versions WHERE form = ?1 AND version = ?2",
                params![form, version],
                |row| row.get(0),
            )
            .optional()?;
        if let Some(stored) = stored {
            let stored_shape = serde_json::from_str::<serde_json::Value>(&stored)
                .ok()
                .and_then(|v| v.get("shape").cloned())
                .map(|v| v.to_string());
            if stored_shape.as_deref() != Some(shape) {
                return Err(StoreError::FormChanged {
                    form: form.to_string(),
                    version,
                });
            }
        }
        let record = format!(r#"{{"shape":{shape},"definition":{definition}}}"#);
        conn.execute(
            "INSERT INTO form_versions (form, version, definition) VALUES (?1, ?2, ?3)
             ON CONFLICT (form, version) DO UPDATE SET definition = excluded.definition",
            params![form, version, record],
        )?;
        Ok(())
    }

    /// Every stored version of a form with its recorded definition (labels included).
    pub fn form_versions(&self, form: &str) -> Result<Vec<(u32, String)>, StoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT version, definition FROM form_versions WHERE form = ?1 ORDER BY version",
        )?;
        let rows = statement
            .query_map(params![form], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Writes a whole submission in one transaction: all of it or nothing.
    pub fn insert_submission(&self, new: &NewSubmission<'_>) -> Result<(), StoreError> {
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

    /// Counts one submission that was not stored because its author was under 13.
    pub fn count_withheld(
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

    /// Erases the submission and the follow-up email a deletion code stands for. Returns
    /// whether anything matched (never told to the caller: no oracle).
    pub fn forget(&self, deletion_hash: &str) -> Result<bool, StoreError> {
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

    /// Deletes submissions from buckets before `oldest_kept`, their counts of withheld ones,
    /// and follow-up emails that expired before `today`. Returns how many rows went.
    pub fn delete_expired_answers(
        &self,
        oldest_kept: &str,
        today: &str,
    ) -> Result<usize, StoreError> {
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

    pub fn followups(&self) -> Result<Vec<Followup>, StoreError> {
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

    /// Deletes one follow-up email (followed up, or no longer wanted).
    pub fn delete_followup(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .execute("DELETE FROM followups WHERE id = ?1", params![id])?
            > 0)
    }

    /// One page of a question's stored free-text answers, in the random order of their ids.
    pub fn free_text_page(
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

    /// Rewrites the database file so that pages hold rows in key (random) order with no
    /// trace of the order they were written in, and no freed page keeps old bytes.
    pub fn compact(&self) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute_batch("VACUUM;")?;
        // In WAL mode the log still holds the pages as written: empty it too.
        let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
        Ok(())
    }
}
