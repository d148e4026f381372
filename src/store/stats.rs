//! The numbers statistics are made of: operational counts per date bucket and queue, and
//! counts of form answers. Only counts leave this module.

use super::StoreError;

/// `(bucket, queue, key, count)` rows, where `key` is a metric or `question\u{1f}value`.
pub type CountRows = Vec<(String, String, String, u64)>;

/// The counts, as each backend keeps them.
pub trait StatsDb {
    /// Adds `(bucket, queue, metric, count)` increments to the operational counts (atomically
    /// per row: two nodes adding at once add both).
    fn add_ops_counts(&self, rows: &[(String, String, String, u64)]) -> Result<(), StoreError>;
    /// Operational counts for buckets in `[from, to]` (dates as 'YYYY-MM-DD').
    fn ops_counts(&self, from: &str, to: &str) -> Result<CountRows, StoreError>;
    /// Per bucket and queue: submissions, withheld ones, each `question\u{1f}value` answer
    /// count, and each question's respondents (`question\u{1f}`), for one form version.
    fn answer_counts(
        &self,
        form: &str,
        version: u32,
        from: &str,
        to: &str,
    ) -> Result<CountRows, StoreError>;
    /// The first and last date buckets that hold any count, if any.
    fn bucket_range(&self) -> Result<Option<(String, String)>, StoreError>;
}

/// The key of an answer count: `name\u{1f}value`, or `name` alone.
pub(super) fn count_key(name: String, value: Option<String>) -> String {
    match value {
        Some(value) => format!("{name}\u{1f}{value}"),
        None => name,
    }
}

/// Each query yields (bucket, queue, name, value, count): a `value` makes the key
/// `name\u{1f}value`; none makes it `name`.
pub(super) const ANSWER_COUNT_QUERIES: [&str; 4] = [
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
