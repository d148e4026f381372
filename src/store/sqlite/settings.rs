//! Saved settings versions in SQLite.

use rusqlite::{params, OptionalExtension};

use super::Sqlite;
use crate::store::{
    settings::{parse_value, SettingsDb, SettingsVersion, MAX_VERSIONS},
    StoreError,
};

impl SettingsDb for Sqlite {
    fn save_settings_version(
        &self,
        section: &str,
        value: &serde_json::Value,
        saved_at: i64,
        saved_by: Option<&str>,
    ) -> Result<u32, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let version: u32 = tx.query_row(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM settings_versions WHERE section = ?1",
            params![section],
            |row| row.get(0),
        )?;
        tx.execute(
            "INSERT INTO settings_versions (section, version, value, saved_at, saved_by)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![section, version, value.to_string(), saved_at, saved_by],
        )?;
        tx.commit()?;
        Ok(version)
    }

    fn latest_settings_version(
        &self,
        section: &str,
    ) -> Result<Option<SettingsVersion>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT version, saved_at, saved_by, value FROM settings_versions
                 WHERE section = ?1 ORDER BY version DESC LIMIT 1",
                params![section],
                version_from_row,
            )
            .optional()?)
    }

    fn settings_versions(
        &self,
        section: &str,
        limit: u32,
    ) -> Result<Vec<SettingsVersion>, StoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT version, saved_at, saved_by, value FROM settings_versions
             WHERE section = ?1 ORDER BY version DESC LIMIT ?2",
        )?;
        let rows =
            statement.query_map(params![section, limit.min(MAX_VERSIONS)], version_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn version_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SettingsVersion> {
    Ok(SettingsVersion {
        version: row.get(0)?,
        saved_at: row.get(1)?,
        saved_by: row.get(2)?,
        value: parse_value(&row.get::<_, String>(3)?),
    })
}
