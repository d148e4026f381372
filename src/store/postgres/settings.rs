//! Saved settings versions in PostgreSQL.

use postgres::Row;

use super::Postgres;
use crate::store::{
    settings::{parse_value, SettingsDb, SettingsVersion, MAX_VERSIONS},
    StoreError,
};

impl SettingsDb for Postgres {
    fn save_settings_version(
        &self,
        section: &str,
        value: &serde_json::Value,
        saved_at: i64,
        saved_by: Option<&str>,
    ) -> Result<u32, StoreError> {
        let value = value.to_string();
        self.run(|c| {
            let mut tx = c.transaction()?;
            // Saves from two nodes take their numbers in turn (readers are not held up).
            tx.batch_execute("LOCK TABLE settings_versions IN SHARE ROW EXCLUSIVE MODE")?;
            let version: i64 = tx
                .query_one(
                    "SELECT COALESCE(MAX(version), 0) + 1 FROM settings_versions WHERE section = $1",
                    &[&section],
                )?
                .try_get(0)?;
            tx.execute(
                "INSERT INTO settings_versions (section, version, value, saved_at, saved_by)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&section, &version, &value, &saved_at, &saved_by],
            )?;
            tx.commit()?;
            Ok(version.clamp(0, u32::MAX as i64) as u32)
        })
    }

    fn latest_settings_version(
        &self,
        section: &str,
    ) -> Result<Option<SettingsVersion>, StoreError> {
        self.run(|c| {
            let row = c.query_opt(
                "SELECT version, saved_at, saved_by, value FROM settings_versions
                 WHERE section = $1 ORDER BY version DESC LIMIT 1",
                &[&section],
            )?;
            Ok(row.as_ref().map(version_from_row).transpose()?)
        })
    }

    fn settings_versions(
        &self,
        section: &str,
        limit: u32,
    ) -> Result<Vec<SettingsVersion>, StoreError> {
        let limit = i64::from(limit.min(MAX_VERSIONS));
        self.run(|c| {
            let rows = c.query(
                "SELECT version, saved_at, saved_by, value FROM settings_versions
                 WHERE section = $1 ORDER BY version DESC LIMIT $2",
                &[&section, &limit],
            )?;
            Ok(rows
                .iter()
                .map(version_from_row)
                .collect::<Result<_, _>>()?)
        })
    }
}

fn version_from_row(row: &Row) -> Result<SettingsVersion, postgres::Error> {
    let version: i64 = row.try_get(0)?;
    Ok(SettingsVersion {
        version: version.clamp(0, u32::MAX as i64) as u32,
        saved_at: row.try_get(1)?,
        saved_by: row.try_get(2)?,
        value: parse_value(&row.try_get::<_, String>(3)?),
    })
}
