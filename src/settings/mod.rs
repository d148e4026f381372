//! Settings admins change while Haven runs: queues, service hours, canned responses and the
//! program's texts (`sections`), and each person's chat limit.
//!
//! The configuration file gives the defaults; the newest saved version of a section (store,
//! `settings_versions`) replaces that section of the file. An edit is checked, saved as a new
//! version, then applied: the current configuration (what `/api/public/config` reads) is
//! swapped, and the hub gets plain values (`hub::ProgramSettings`, `Hub::set_max_chats`), so
//! it never learns about HTTP or the store.

pub mod sections;

use std::sync::{Arc, RwLock};

use serde_json::Value;
use uuid::Uuid;

pub use sections::{Refusal, Section};

use crate::{
    config::Config,
    hub::{Hub, ProgramSettings},
    store::{settings::SettingsVersion, Store, StoreError},
};

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a save did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Saved {
    pub version: u32,
    pub value: Value,
    /// Waiting chatters moved to the first queue because theirs was removed.
    pub moved_waiting: usize,
}

/// The live settings: cheap to clone, shared by every handler.
#[derive(Clone)]
pub struct LiveSettings {
    inner: Arc<Inner>,
}

struct Inner {
    /// The file's configuration (with environment overrides): the defaults.
    file: Arc<Config>,
    /// The file's configuration with the saved sections over it.
    current: RwLock<Arc<Config>>,
    store: Store,
    hub: Hub,
    /// One edit at a time, so that two admins saving at once cannot undo each other's section.
    editing: tokio::sync::Mutex<()>,
}

/// The file's configuration with every saved section over it, for start-up (before the hub
/// exists). A saved section the file no longer allows (e.g. a language dropped from
/// `program.languages`) is skipped with a warning naming it: the file's section stands.
pub fn effective_at_start(file: &Config, store: &Store) -> Result<Config, StoreError> {
    let mut config = file.clone();
    for section in Section::ALL {
        let Some(saved) = store.latest_settings_version(section.name())? else {
            continue;
        };
        match sections::apply(section, &saved.value, &config) {
            Ok((next, _)) => {
                config = next;
                tracing::info!(
                    section = section.name(),
                    version = saved.version,
                    "saved settings applied"
                );
            }
            Err(refusal) => tracing::warn!(
                section = section.name(),
                version = saved.version,
                field = %refusal.field,
                reason = %refusal.reason,
                "saved settings no longer fit the configuration file; the file's section is used"
            ),
        }
    }
    Ok(config)
}

impl LiveSettings {
    /// `current` is what [`effective_at_start`] gave; the hub was built from it. Gives the hub
    /// each person's chat limit from the store.
    pub fn start(
        file: Arc<Config>,
        current: Config,
        store: Store,
        hub: Hub,
    ) -> Result<LiveSettings, StoreError> {
        for account in store.list_staff()? {
            if account.max_chats > 0 {
                hub.set_max_chats(account.staff.id, Some(account.max_chats as usize));
            }
        }
        Ok(LiveSettings {
            inner: Arc::new(Inner {
                file,
                current: RwLock::new(Arc::new(current)),
                store,
                hub,
                editing: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// The configuration in force now: the file's, with admins' saved sections over it.
    pub fn current(&self) -> Arc<Config> {
        let current = self.inner.current.read().unwrap_or_else(|p| p.into_inner());
        Arc::clone(&current)
    }

    /// A section as it stands now, and as the file has it.
    pub fn read(&self, section: Section) -> (Value, Value) {
        (
            sections::read(section, &self.current()),
            sections::read(section, &self.inner.file),
        )
    }

    /// Saved versions of a section, newest first.
    pub async fn versions(
        &self,
        section: Section,
        limit: u32,
    ) -> Result<Vec<SettingsVersion>, StoreError> {
        self.inner
            .store
            .call(move |s| s.settings_versions(section.name(), limit))
            .await
    }

    /// Checks `value`, saves it as the next version of `section` and applies it at once.
    /// Nothing is saved or changed when it is refused.
    pub async fn save(
        &self,
        section: Section,
        value: Value,
        admin: Uuid,
        at: i64,
    ) -> Result<Saved, SettingsError> {
        let _one_at_a_time = self.inner.editing.lock().await;
        let (next, stored) = sections::apply(section, &value, &self.current())?;
        let to_store = stored.clone();
        let version = self
            .inner
            .store
            .call(move |s| {
                s.save_settings_version(section.name(), &to_store, at, Some(&admin.to_string()))
            })
            .await?;
        let program = ProgramSettings::from_config(&next);
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
        let moved_waiting = self.inner.hub.set_program(program);
        tracing::info!(section = section.name(), version, staff = %admin, "settings saved");
        Ok(Saved {
            version,
            value: stored,
            moved_waiting,
        })
    }

    /// Reads the saved settings and chat limits again and applies them (cluster mode: an admin
    /// saved them on another node). Blocking: the store is read here.
    pub fn reload(&self) -> Result<(), StoreError> {
        let store = &self.inner.store;
        let next = effective_at_start(&self.inner.file, store)?;
        for account in store.list_staff()? {
            let max = (account.max_chats > 0).then_some(account.max_chats as usize);
            self.inner.hub.set_max_chats(account.staff.id, max);
        }
        let program = ProgramSettings::from_config(&next);
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
        self.inner.hub.set_program(program);
        Ok(())
    }

    /// Tells the hub about a person's new chat limit (0: the configured default).
    pub fn staff_max_chats_changed(&self, staff_id: Uuid, max_chats: u32) {
        self.inner
            .hub
            .set_max_chats(staff_id, (max_chats > 0).then_some(max_chats as usize));
    }
}
