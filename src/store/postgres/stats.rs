//! Operational and answer counts in PostgreSQL.

use super::Postgres;
use crate::store::{
    stats::{count_key, CountRows, StatsDb, ANSWER_COUNT_QUERIES},
    StoreError,
};

fn count(n: i64) -> u64 {
    n.max(0) as u64
}

impl StatsDb for Postgres {
    fn add_ops_counts(&self, rows: &[(String, String, String, u64)]) -> Result<(), StoreError> {
        self.run(|c| {
            let mut tx = c.transaction()?;
            for (bucket, queue, metric, n) in rows {
                tx.execute(
                    "INSERT INTO ops_counts (bucket, queue, metric, count) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (bucket, queue, metric)
                     DO UPDATE SET count = ops_counts.count + excluded.count",
                    &[bucket, queue, metric, &(*n as i64)],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn ops_counts(&self, from: &str, to: &str) -> Result<CountRows, StoreError> {
        self.run(|c| {
            let rows = c.query(
                "SELECT bucket, queue, metric, count FROM ops_counts
                 WHERE bucket >= $1 AND bucket <= $2",
                &[&from, &to],
            )?;
            let mut counts = CountRows::with_capacity(rows.len());
            for row in rows {
                counts.push((
                    row.try_get(0)?,
                    row.try_get(1)?,
                    row.try_get(2)?,
                    count(row.try_get(3)?),
                ));
            }
            Ok(counts)
        })
    }

    fn answer_counts(
        &self,
        form: &str,
        version: u32,
        from: &str,
        to: &str,
    ) -> Result<CountRows, StoreError> {
        let version = version as i64;
        self.run(|c| {
            let mut counts = CountRows::new();
            for sql in ANSWER_COUNT_QUERIES {
                // The shared text numbers its parameters SQLite's way (?1); PostgreSQL's is $1.
                let sql = sql.replace('?', "$");
                for row in c.query(&sql, &[&form, &version, &from, &to])? {
                    let key = count_key(row.try_get(2)?, row.try_get(3)?);
                    counts.push((
                        row.try_get(0)?,
                        row.try_get(1)?,
                        key,
                        count(row.try_get(4)?),
                    ));
                }
            }
            Ok(counts)
        })
    }

    fn bucket_range(&self) -> Result<Option<(String, String)>, StoreError> {
        self.run(|c| {
            let row = c.query_one(
                "SELECT MIN(b), MAX(b) FROM (
                    SELECT bucket AS b FROM ops_counts UNION ALL SELECT bucket FROM submissions
                    UNION ALL SELECT bucket FROM withheld) AS buckets",
                &[],
            )?;
            let (first, last): (Option<String>, Option<String>) =
                (row.try_get(0)?, row.try_get(1)?);
            Ok(first.zip(last))
        })
    }
}
