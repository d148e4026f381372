//! Versions of the settings admins edit (`crate::settings`): each save is a new row with its
//! time and the admin's staff id; the newest row of a section is the one in force.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::{Store, StoreError};

/// One saved version of a section.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsVersion {
    /// 1, 2, 3 … per section.
    pub version: u32,
    /// Unix seconds.
    pub saved_at: i64,
    /// Staff id of the admin who saved it.
    pub saved_by: Option<String>,
    /// The section as JSON.
    pub value: serde_json::Value,
}

/// The most versions one listing returns.
pub const MAX_VERSIONS: u32 = 200;

impl Store {
    /// Saves `value` as the next version of `section`; returns its number.
    pub fn save_settings_version(
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

    /// The version in force of `section`, if any was saved.
    pub fn latest_settings_version(
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

    /// Versions of `section`, newest first.
    pub fn settings_versions(
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
    let text: String = row.get(3)?;
    Ok(SettingsVersion {
        version: row.get(0)?,
        saved_at: row.get(1)?,
        saved_by: row.get(2)?,
        // A row this binary wrote is JSON; anything else reads as null and is refused later.
        value: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_per_section_and_the_newest_is_in_force() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(store.latest_settings_version("hours").unwrap().is_none());
        let one = serde_json::json!({"windows": []});
        let two = serde_json::json!({"windows": ["mon 09:00-10:00"]});
        assert_eq!(
            store
                .save_settings_version("hours", &one, 10, Some("a"))
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .save_settings_version("hours", &two, 20, Some("b"))
                .unwrap(),
            2
        );
        assert_eq!(
            store
                .save_settings_version("queues", &one, 30, None)
                .unwrap(),
            1
        );
        let latest = store.latest_settings_version("hours").unwrap().unwrap();
        assert_eq!((latest.version, latest.value), (2, two));
        let all = store.settings_versions("hours", 10).unwrap();
        assert_eq!(all.iter().map(|v| v.version).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(all[1].saved_by.as_deref(), Some("a"));
    }
}
