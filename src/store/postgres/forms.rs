//! Form answers in PostgreSQL.

use super::Postgres;
use crate::store::{
    forms::{random_id, Followup, FormsDb, NewSubmission},
    StoreError,
};

/// The tables whose physical order would follow the order of submission.
const ANSWER_TABLES: [&str; 4] = ["submissions", "answers", "free_text", "followups"];

impl FormsDb for Postgres {
    fn form_definition(&self, form: &str, version: u32) -> Result<Option<String>, StoreError> {
        self.run(|c| {
            Ok(c.query_opt(
                "SELECT definition FROM form_versions WHERE form = $1 AND version = $2",
                &[&form, &(version as i64)],
            )?
            .map(|row| row.try_get(0))
            .transpose()?)
        })
    }

    fn put_form_version(&self, form: &str, version: u32, record: &str) -> Result<(), StoreError> {
        self.run(|c| {
            c.execute(
                "INSERT INTO form_versions (form, version, definition) VALUES ($1, $2, $3)
                 ON CONFLICT (form, version) DO UPDATE SET definition = excluded.definition",
                &[&form, &(version as i64), &record],
            )?;
            Ok(())
        })
    }

    fn form_versions(&self, form: &str) -> Result<Vec<(u32, String)>, StoreError> {
        self.run(|c| {
            let rows = c.query(
                "SELECT version, definition FROM form_versions WHERE form = $1 ORDER BY version",
                &[&form],
            )?;
            let mut versions = Vec::with_capacity(rows.len());
            for row in rows {
                let version: i64 = row.try_get(0)?;
                versions.push((version.clamp(0, u32::MAX as i64) as u32, row.try_get(1)?));
            }
            Ok(versions)
        })
    }

    fn insert_submission(&self, new: &NewSubmission<'_>) -> Result<(), StoreError> {
        self.run(|c| {
            let mut tx = c.transaction()?;
            let id = random_id();
            tx.execute(
                "INSERT INTO submissions (id, form, version, queue, bucket, deletion_hash)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &id,
                    &new.form,
                    &(new.version as i64),
                    &new.queue,
                    &new.bucket,
                    &new.deletion_hash,
                ],
            )?;
            for (question, value) in new.choices {
                tx.execute(
                    "INSERT INTO answers (submission_id, question, value) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING",
                    &[&id, question, value],
                )?;
            }
            for (question, answer) in new.free_text {
                tx.execute(
                    "INSERT INTO free_text (id, submission_id, question, answer)
                     VALUES ($1, $2, $3, $4)",
                    &[&random_id(), &id, question, answer],
                )?;
            }
            if let Some((email, purpose, expires_on)) = new.followup {
                tx.execute(
                    "INSERT INTO followups (id, deletion_hash, email, purpose, expires_on)
                     VALUES ($1, $2, $3, $4, $5)",
                    &[
                        &random_id(),
                        &new.deletion_hash,
                        &email,
                        &purpose,
                        &expires_on,
                    ],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn count_withheld(
        &self,
        bucket: &str,
        form: &str,
        version: u32,
        queue: &str,
    ) -> Result<(), StoreError> {
        self.run(|c| {
            c.execute(
                "INSERT INTO withheld (bucket, form, version, queue, count) VALUES ($1, $2, $3, $4, 1)
                 ON CONFLICT (bucket, form, version, queue) DO UPDATE SET count = withheld.count + 1",
                &[&bucket, &form, &(version as i64), &queue],
            )?;
            Ok(())
        })
    }

    fn forget(&self, deletion_hash: &str) -> Result<bool, StoreError> {
        // Two nodes receiving the same code: the second DELETE waits for the first's rows
        // and finds them gone.
        self.run(|c| {
            let mut tx = c.transaction()?;
            let answers = tx.execute(
                "DELETE FROM submissions WHERE deletion_hash = $1",
                &[&deletion_hash],
            )?;
            let emails = tx.execute(
                "DELETE FROM followups WHERE deletion_hash = $1",
                &[&deletion_hash],
            )?;
            tx.commit()?;
            Ok(answers + emails > 0)
        })
    }

    fn delete_expired_answers(&self, oldest_kept: &str, today: &str) -> Result<usize, StoreError> {
        self.run(|c| {
            let mut tx = c.transaction()?;
            let mut deleted = 0;
            for table in ["submissions", "withheld", "ops_counts"] {
                deleted += tx.execute(
                    &format!("DELETE FROM {table} WHERE bucket < $1"),
                    &[&oldest_kept],
                )?;
            }
            deleted += tx.execute("DELETE FROM followups WHERE expires_on < $1", &[&today])?;
            tx.commit()?;
            Ok(deleted as usize)
        })
    }

    fn followups(&self) -> Result<Vec<Followup>, StoreError> {
        self.run(|c| {
            let rows = c.query(
                "SELECT id, email, purpose, expires_on FROM followups ORDER BY expires_on, id",
                &[],
            )?;
            let mut list = Vec::with_capacity(rows.len());
            for row in rows {
                list.push(Followup {
                    id: row.try_get(0)?,
                    email: row.try_get(1)?,
                    purpose: row.try_get(2)?,
                    expires_on: row.try_get(3)?,
                });
            }
            Ok(list)
        })
    }

    fn delete_followup(&self, id: &str) -> Result<bool, StoreError> {
        self.run(|c| Ok(c.execute("DELETE FROM followups WHERE id = $1", &[&id])? > 0))
    }

    fn free_text_page(
        &self,
        form: &str,
        version: u32,
        question: &str,
        page: usize,
        per_page: usize,
    ) -> Result<(Vec<String>, usize), StoreError> {
        let version = version as i64;
        self.run(|c| {
            let total: i64 = c
                .query_one(
                    "SELECT COUNT(*) FROM free_text f JOIN submissions s ON s.id = f.submission_id
                     WHERE s.form = $1 AND s.version = $2 AND f.question = $3",
                    &[&form, &version, &question],
                )?
                .try_get(0)?;
            let rows = c.query(
                "SELECT f.answer FROM free_text f JOIN submissions s ON s.id = f.submission_id
                 WHERE s.form = $1 AND s.version = $2 AND f.question = $3
                 ORDER BY f.id LIMIT $4 OFFSET $5",
                &[
                    &form,
                    &version,
                    &question,
                    &(per_page as i64),
                    &((page * per_page) as i64),
                ],
            )?;
            let answers = rows
                .iter()
                .map(|row| row.try_get(0))
                .collect::<Result<Vec<String>, _>>()?;
            Ok((answers, total.max(0) as usize))
        })
    }

    fn compact(&self) -> Result<(), StoreError> {
        // CLUSTER rewrites each table in the order of its (random) primary key, into new files
        // without the dead rows of deleted answers.
        self.run(|c| {
            for table in ANSWER_TABLES {
                c.batch_execute(&format!("CLUSTER {table} USING {table}_pkey"))?;
            }
            Ok(())
        })
    }
}
