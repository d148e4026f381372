//! `/api/admin/settings/{queues,hours,canned,texts}` (role `admin`): read the settings in
//! force, their file defaults and saved versions; save a new version, applied at once
//! (`crate::settings`). Every save is audited as `setting_changed` with the section name only.

use axum::{
    extract::{rejection::JsonRejection, Path, State},
    Json,
};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::{admin::admin, error::ApiError, session::LoggedIn};
use crate::{
    settings::{Saved, Section, SettingsError},
    state::AppState,
    store::settings::SettingsVersion,
};

/// Versions listed with a section.
const VERSIONS_SHOWN: u32 = 50;

impl From<SettingsError> for ApiError {
    fn from(error: SettingsError) -> ApiError {
        match error {
            SettingsError::Refused(refusal) => ApiError::InvalidSetting {
                field: refusal.field,
                reason: refusal.reason,
            },
            SettingsError::Store(error) => error.into(),
        }
    }
}

fn section(name: &str) -> Result<Section, ApiError> {
    Section::parse(name).ok_or(ApiError::NotFound)
}

/// Every section now, with the file's value beside it, and the offered languages (which the
/// file alone sets).
pub async fn all(State(state): State<AppState>, me: LoggedIn) -> Result<Json<Value>, ApiError> {
    admin(&me)?;
    let mut sections = Map::new();
    for section in Section::ALL {
        let (value, default) = state.settings.read(section);
        sections.insert(
            section.name().to_owned(),
            json!({ "value": value, "default": default }),
        );
    }
    let current = state.settings.current();
    Ok(Json(json!({
        "languages": current.program.languages,
        "max_chats_per_advocate": current.chat.max_chats_per_advocate,
        "sections": sections,
    })))
}

#[derive(Serialize)]
pub struct SectionView {
    section: &'static str,
    value: Value,
    default: Value,
    versions: Vec<SettingsVersion>,
}

pub async fn one(
    State(state): State<AppState>,
    me: LoggedIn,
    Path(name): Path<String>,
) -> Result<Json<SectionView>, ApiError> {
    admin(&me)?;
    let section = section(&name)?;
    let (value, default) = state.settings.read(section);
    let versions = state.settings.versions(section, VERSIONS_SHOWN).await?;
    Ok(Json(SectionView {
        section: section.name(),
        value,
        default,
        versions,
    }))
}

/// The body is the section's new value; `200 {"version","value","moved_waiting"}`.
pub async fn save(
    State(state): State<AppState>,
    me: LoggedIn,
    Path(name): Path<String>,
    value: Result<Json<Value>, JsonRejection>,
) -> Result<Json<Saved>, ApiError> {
    let actor = admin(&me)?;
    let section = section(&name)?;
    let Json(value) = value.map_err(|_| ApiError::InvalidRequest)?;
    let now = state.auth.clock.now();
    let saved = state.settings.save(section, value, actor, now).await?;
    state.coordinator.settings_changed().await;
    state.auth.audit.record(
        now,
        Some(actor),
        "setting_changed",
        None,
        Some(section.name().to_owned()),
    );
    Ok(Json(saved))
}
