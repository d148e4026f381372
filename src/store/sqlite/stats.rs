//! Operational and answer counts in SQLite.

use rusqlite::params;

use super::Sqlite;
use crate::store::{
    stats::{count_key, CountRows, StatsDb, ANSWER_COUNT_QUERIES},
    StoreError,
};

impl StatsDb for Sqlite {
    fn add_ops_counts(&self, rows: &[(String, String, String, u64)]) -> Result<(), StoreError> {
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

    fn ops_counts(&self, from: &str, to: &str) -> Result<CountRows, StoreError> {
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

    fn answer_counts(
        &self,
        form: &str,
        version: u32,
        from: &str,
        to: &str,
    ) -> Result<CountRows, StoreError> {
        let conn = self.conn();
        let mut rows = CountRows::new();
        for sql in ANSWER_COUNT_QUERIES {
            let mut statement = conn.prepare(sql)?;
            for row in statement.query_map(params![form, version, from, to], |row| {
                let name: String = row.get(2)?;
                let key = count_key(name, row.get(3)?);
                Ok((row.get(0)?, row.get(1)?, key, row.get::<_, i64>(4)? as u64))
            })? {
                rows.push(row?);
            }
        }
        Ok(rows)
    }

    fn bucket_range(&self) -> Result<Option<(String, String)>, StoreError> {
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
