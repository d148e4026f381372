//! Versions of the settings admins edit (`crate::settings`): each save is a new row with its
//! time and the admin's staff id; the newest row of a section is the one in force.

use serde::Serialize;

use super::StoreError;

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

/// The saved versions, as each backend keeps them.
pub trait SettingsDb {
    /// Saves `value` as the next version of `section`; returns its number. Two saves at once
    /// (two nodes) get two numbers, never the same one.
    fn save_settings_version(
        &self,
        section: &str,
        value: &serde_json::Value,
        saved_at: i64,
        saved_by: Option<&str>,
    ) -> Result<u32, StoreError>;
    /// The version in force of `section`, if any was saved.
    fn latest_settings_version(&self, section: &str)
        -> Result<Option<SettingsVersion>, StoreError>;
    /// Versions of `section`, newest first, at most `limit` (capped at [`MAX_VERSIONS`]).
    fn settings_versions(
        &self,
        section: &str,
        limit: u32,
    ) -> Result<Vec<SettingsVersion>, StoreError>;
}

/// A stored value: a row this binary wrote is JSON; anything else reads as null and is
/// refused later.
pub(super) fn parse_value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_count_up_per_section_and_the_newest_is_in_force() {
        crate::store::testing::each_backend(versions_count_up);
    }

    fn versions_count_up(store: &crate::store::Store) {
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
