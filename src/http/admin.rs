//! The admin API (`/api/admin/*`, role `admin` only): staff accounts and the audit log.
//! Every change is audited with the admin's and the target's staff ids.

use axum::{
    extract::{rejection::JsonRejection, Path, Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{error::ApiError, session::LoggedIn};
use crate::{
    admin::{self, AdminError},
    staff::Role,
    state::AppState,
    store::{
        audit::{AuditEntry, AuditFilter},
        AccountRow, StaffChange,
    },
};

impl From<AdminError> for ApiError {
    fn from(error: AdminError) -> ApiError {
        match error {
            AdminError::LastAdmin => ApiError::LastAdmin,
            AdminError::Store(error) => error.into(),
        }
    }
}

/// The admin behind this request, or 403.
pub(super) fn admin(me: &LoggedIn) -> Result<Uuid, ApiError> {
    if me.session.staff.role != Role::Admin {
        return Err(ApiError::Forbidden);
    }
    Ok(me.session.staff.id)
}

fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(b)| b).map_err(|_| ApiError::InvalidRequest)
}

#[derive(Serialize)]
pub struct StaffListing {
    #[serde(flatten)]
    account: AccountRow,
    online: bool,
    available: bool,
    load: usize,
    sessions: u32,
}

pub async fn list_staff(
    State(state): State<AppState>,
    me: LoggedIn,
) -> Result<Json<Vec<StaffListing>>, ApiError> {
    admin(&me)?;
    let now = state.auth.clock.now();
    let (accounts, sessions) = state
        .auth
        .store
        .call(move |s| Ok((s.list_staff()?, s.session_counts(now)?)))
        .await?;
    let presence = state.coordinator.presence().await;
    let sessions: std::collections::HashMap<_, _> = sessions.into_iter().collect();
    Ok(Json(
        accounts
            .into_iter()
            .map(|account| {
                let p = presence.get(&account.staff.id);
                StaffListing {
                    online: p.is_some_and(|p| p.online),
                    available: p.is_some_and(|p| p.available),
                    load: p.map_or(0, |p| p.load),
                    sessions: sessions.get(&account.staff.id).copied().unwrap_or(0),
                    account,
                }
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
pub struct NewStaff {
    username: String,
    display_name: String,
    role: Role,
}

/// Answers with the account and a temporary password, shown once.
#[derive(Serialize)]
pub struct WithTemporaryPassword {
    id: Uuid,
    temporary_password: String,
}

pub async fn add_staff(
    State(state): State<AppState>,
    me: LoggedIn,
    new: Result<Json<NewStaff>, JsonRejection>,
) -> Result<Response, ApiError> {
    let actor = admin(&me)?;
    let new = body(new)?;
    let password = admin::temporary_password();
    let temporary = password.clone();
    let staff = state
        .auth
        .store
        .call(move |s| {
            s.add_staff_with(&new.username, &new.display_name, new.role, &temporary, true)
        })
        .await?;
    state.auth.audit.record(
        state.auth.clock.now(),
        Some(actor),
        "staff_added",
        Some(staff.id),
        Some(staff.role.as_str().to_owned()),
    );
    Ok((
        StatusCode::CREATED,
        Json(WithTemporaryPassword {
            id: staff.id,
            temporary_password: password,
        }),
    )
        .into_response())
}

/// One change to an account (`POST /api/admin/staff/{id}/…`).
#[derive(Deserialize)]
pub struct RoleBody {
    role: Role,
}

#[derive(Deserialize)]
pub struct ProfileBody {
    display_name: Option<String>,
    max_chats: Option<u32>,
}

async fn apply(
    state: &AppState,
    actor: Uuid,
    target: Uuid,
    change: StaffChange,
    action: &'static str,
    detail: Option<String>,
) -> Result<(), ApiError> {
    let guard = change.clone();
    let verdict = state
        .auth
        .store
        .call(move |s| Ok(admin::keeps_an_admin(s, target, &guard)))
        .await?;
    verdict?;
    state.auth.change_staff(target, change).await?;
    state.auth.audit.record(
        state.auth.clock.now(),
        Some(actor),
        action,
        Some(target),
        detail,
    );
    Ok(())
}

pub async fn set_role(
    State(state): State<AppState>,
    me: LoggedIn,
    Path(target): Path<Uuid>,
    role: Result<Json<RoleBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let actor = admin(&me)?;
    let role = body(role)?.role;
    apply(
        &state,
        actor,
        target,
        StaffChange::Role(role),
        "role_changed",
        Some(role.as_str().to_owned()),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn disable(
    State(state): State<AppState>,
    me: LoggedIn,
    Path(target): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let actor = admin(&me)?;
    apply(
        &state,
        actor,
        target,
        StaffChange::Disabled(true),
        "staff_disabled",
        None,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn enable(
    State(state): State<AppState>,
    me: LoggedIn,
    Path(target): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let actor = admin(&me)?;
    apply(
        &state,
        actor,
        target,
        StaffChange::Disabled(false),
        "staff_enabled",
        None,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn reset_password(
    State(state): State<AppState>,
    me: LoggedIn,
    Path(target): Path<Uuid>,
) -> Result<Json<WithTemporaryPassword>, ApiError> {
    let actor = admin(&me)?;
    let password = admin::temporary_password();
    apply(
        &state,
        actor,
        target,
        StaffChange::Password {
            password: password.clone(),
            temporary: true,
        },
        "password_reset",
        None,
    )
    .await?;
    Ok(Json(WithTemporaryPassword {
        id: target,
        temporary_password: password,
    }))
}

pub async fn revoke_sessions(
    State(state): State<AppState>,
    me: LoggedIn,
    Path(target): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let actor = admin(&me)?;
    let exists = state.auth.store.call(move |s| s.account(target)).await?;
    if exists.is_none() {
        return Err(ApiError::NotFound);
    }
    state.auth.end_sessions_of(target).await?;
    state.auth.audit.record(
        state.auth.clock.now(),
        Some(actor),
        "sessions_revoked",
        Some(target),
        None,
    );
    Ok(StatusCode::NO_CONTENT)
}

pub async fn set_profile(
    State(state): State<AppState>,
    me: LoggedIn,
    Path(target): Path<Uuid>,
    profile: Result<Json<ProfileBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let actor = admin(&me)?;
    let profile = body(profile)?;
    if profile.display_name.is_none() && profile.max_chats.is_none() {
        return Err(ApiError::InvalidRequest);
    }
    if let Some(name) = profile.display_name {
        apply(
            &state,
            actor,
            target,
            StaffChange::DisplayName(name),
            "display_name_changed",
            None,
        )
        .await?;
    }
    if let Some(max) = profile.max_chats {
        apply(
            &state,
            actor,
            target,
            StaffChange::MaxChats(max),
            "max_chats_changed",
            Some(max.to_string()),
        )
        .await?;
        // A connected advocate's limit changes at once (claims, auto-assign, snapshots).
        state.settings.staff_max_chats_changed(target, max);
        state.coordinator.settings_changed().await;
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn audit(
    State(state): State<AppState>,
    me: LoggedIn,
    Query(filter): Query<AuditFilter>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    admin(&me)?;
    Ok(Json(
        state.auth.store.call(move |s| s.audit(&filter)).await?,
    ))
}

/// The filtered audit log as CSV, for the program's records. A POST: an export is audited.
pub async fn export_audit(
    State(state): State<AppState>,
    me: LoggedIn,
    filter: Result<Json<AuditFilter>, JsonRejection>,
) -> Result<Response, ApiError> {
    let actor = admin(&me)?;
    let filter = body(filter)?;
    let entries = state.auth.store.call(move |s| s.audit(&filter)).await?;
    state.auth.audit.record(
        state.auth.clock.now(),
        Some(actor),
        "audit_exported",
        None,
        Some(entries.len().to_string()),
    );
    let mut csv = String::from("at,actor,action,target,attempted_username,detail\n");
    for e in &entries {
        let fields = [
            e.at.to_string(),
            e.actor.clone().unwrap_or_default(),
            e.action.clone(),
            e.target.clone().unwrap_or_default(),
            e.attempted_username.clone().unwrap_or_default(),
            e.detail.clone().unwrap_or_default(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        csv.push_str(&line.join(","));
        csv.push('\n');
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"haven-audit.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

/// Quotes a CSV field, and defuses a leading `= + - @` so a spreadsheet does not run it.
fn csv_field(value: &str) -> String {
    let defused = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

pub async fn reset_second_factor(
    State(state): State<AppState>,
    me: LoggedIn,
    Path(target): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let actor = admin(&me)?;
    state.auth.reset_second_factor(target).await?;
    state.auth.audit.record(
        state.auth.clock.now(),
        Some(actor),
        "2fa_reset",
        Some(target),
        None,
    );
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, Deserialize)]
pub struct SecuritySettings {
    /// Roles that must use a second factor.
    require_2fa_roles: Vec<Role>,
}

pub async fn security_settings(
    State(state): State<AppState>,
    me: LoggedIn,
) -> Result<Json<SecuritySettings>, ApiError> {
    admin(&me)?;
    Ok(Json(SecuritySettings {
        require_2fa_roles: state.auth.second_factor_roles(),
    }))
}

pub async fn set_security_settings(
    State(state): State<AppState>,
    me: LoggedIn,
    settings: Result<Json<SecuritySettings>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let actor = admin(&me)?;
    let mut roles = body(settings)?.require_2fa_roles;
    roles.dedup();
    let detail = roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",");
    state.auth.set_second_factor_roles(roles).await?;
    state.auth.audit.record(
        state.auth.clock.now(),
        Some(actor),
        "setting_changed",
        None,
        Some(format!("require_2fa_roles={detail}")),
    );
    Ok(StatusCode::NO_CONTENT)
}
