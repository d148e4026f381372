//! The numbers statistics are made of: operational counts per date bucket and queue, and
//! counts of form answers. Only counts leave this module.

use rusqlite::params;

use super::{Store, StoreError};

/// `(bucket, queue, key, count)` rows, where `key` is a metric or `question\u{1f}value`.
pub type CountRows = Vec<(String, String, String, u64)>;

impl Store {
    /// Adds `(bucket, queue, metric, count)` increments to the operational counts.
    pub fn add_ops_counts(&self, rows: &[(String, String, String, u64)]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for (bucket, queue, metric, count) in rows {
            tx.execute(
                "INSERT INTO ops_counts (bucket, queue, metric, count) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (bucket, queue, metric)
                 DO UPDATE SET count = ops_counts.count + excluded.count",
                params![bucket, queue, metric, *count as i64],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Operational counts for buckets in `[from, to]` (dates as 'YYYY-MM-DD').
    pub fn ops_counts(&self, from: &str, to: &str) -> Result<CountRows, StoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT bucket, queue, metric, count FROM ops_counts
             WHERE bucket >= ?1 AND bucket <= ?2",
        )?;
        let rows = statement
            .query_map(params![from, to], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get::<_, i64>(3)? as u64,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Per bucket and queue: submissions, withheld ones, each `question\u{1f}value` answer
    /// count, and each question's respondents (`question\u{1f}`), for one form version.
    pub fn answer_counts(
        &self,
        form: &str,
        version: u32,
        from: &str,
        to: &str,
    ) -> Result<CountRows, StoreError> {
        // Each query yields (bucket, queue, name, value, count): a `value` makes the key
        // `name\u{1f}value`; none makes it `name`.
        const QUERIES: [&str; 4] = [
            "SELECT bucket, queue, 'submissions', NULL, COUNT(*) FROM submissions
             WHERE form = ?1 AND version = ?2 AND bucket >= ?3 AND bucket <= ?4
             GROUP BY bucket, queue",
            "SELECT bucket, queue, 'withheld_under_13', NULL, count FROM withheld
             WHERE form = ?1 AND version = ?2 AND bucket >= ?3 AND bucket <= ?4",
            "SELECT s.bucket, s.queue, a.question, a.value, COUNT(*)
             FROM answers a JOIN submissions s ON s.id = a.submission_id
             WHERE s.form = ?1 AND s.version = ?2 AND s.bucket >= ?3 AND s.bucket <= ?4
             GROUP BY s.bucket, s.queue, a.question, a.value",
            // A multi-choice answer has several rows per person: count people.
            "SELECT s.bucket, s.queue, a.question, '', COUNT(DISTINCT a.submission_id)
             FROM answers a JOIN submissions s ON s.id = a.submission_id
             WHERE s.form = ?1 AND s.version = ?2 AND s.bucket >= ?3 AND s.bucket <= ?4
             GROUP BY s.bucket, s.queue, a.question",
        ];
        let conn = self.conn();
        let mut rows = CountRows::new();
        for sql in QUERIES {
            let mut statement = conn.prepare(sql)?;
            for row in statement.query_map(params![form, version, from, to], |row| {
                let name: String = row.get(2)?;
                let key = match row.get::<_, Option<String>>(3)? {
                    Some(value) => format!("{name}\u{1f}{value}"),
                    None => name,
                };
                Ok((row.get(0)?, row.get(1)?, key, row.get::<_, i64>(4)? as u64))
            })? {
                rows.push(row?);
            }
        }
        Ok(rows)
    }

    /// The first and last date buckets that hold any count, if any.
    pub fn bucket_range(&self) -> Result<Option<(String, String)>, StoreError> {
        let conn = self.conn();
        let range: (Option<String>, Option<String>) = conn.query_row(
            "SELECT MIN(b), MAX(b) FROM (
                SELECT bucket AS b FROM ops_counts UNION ALL SELECT bucket FROM submissions
                UNION ALL SELECT bucket FROM withheld)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok(range.0.zip(range.1))
    }
}
