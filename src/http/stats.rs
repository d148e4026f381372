//! The evaluator's endpoints (roles `evaluator` and `admin`) and the follow-up list (the
//! configured follow-up role and `admin`). Only aggregates leave here, never a record.

use std::collections::HashMap;

use axum::{
    extract::{Path, Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Value};

use super::{error::ApiError, session::LoggedIn};
use crate::{
    forms::FormKind,
    staff::{Role, Staff},
    state::AppState,
    stats::{self, StatsError},
};

/// The logged-in staff member, if their role is one of `roles`.
fn require(me: &LoggedIn, roles: &[Role]) -> Result<Staff, ApiError> {
    let staff = &me.session.staff;
    if !roles.contains(&staff.role) {
        return Err(ApiError::Forbidden);
    }
    Ok(staff.clone())
}

const EVALUATORS: &[Role] = &[Role::Evaluator, Role::Admin];

fn stats_error(error: StatsError) -> Response {
    match error {
        StatsError::BadQuery(why) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": "bad_query", "message": why})),
        )
            .into_response(),
        other => ApiError::Internal(other.to_string()).into_response(),
    }
}

fn csv_response(report: &Value, name: &str) -> Response {
    match stats::to_csv(report) {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.csv\""),
                ),
            ],
            csv,
        )
            .into_response(),
        Err(error) => ApiError::Internal(error.to_string()).into_response(),
    }
}

/// JSON or CSV of a report once the caller's role is checked.
#[derive(Clone, Copy)]
enum Format {
    Json,
    Csv(&'static str),
}

async fn respond(
    state: &AppState,
    me: &LoggedIn,
    format: Format,
    build: impl std::future::Future<Output = Result<Value, StatsError>>,
) -> Result<Response, ApiError> {
    let staff = require(me, EVALUATORS)?;
    Ok(match build.await {
        Ok(report) => match format {
            Format::Json => Json(report).into_response(),
            Format::Csv(name) => {
                tracing::info!(staff = %staff.id, "statistics exported");
                state.auth.audit.record(
                    state.auth.clock.now(),
                    Some(staff.id),
                    "statistics_exported",
                    None,
                    Some(name.to_owned()),
                );
                csv_response(&report, name)
            }
        },
        Err(error) => stats_error(error),
    })
}

async fn report(state: &AppState, params: HashMap<String, String>) -> Result<Value, StatsError> {
    let query = stats::parse_query(&params, &state.config)?;
    state.stats.report(query).await
}

async fn funder(state: &AppState, params: HashMap<String, String>) -> Result<Value, StatsError> {
    let period = stats::parse_funder(&params, &state.config)?;
    state.stats.funder(period).await
}

pub async fn json_report(
    State(state): State<AppState>,
    me: LoggedIn,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    respond(&state, &me, Format::Json, report(&state, params)).await
}

pub async fn csv_report(
    State(state): State<AppState>,
    me: LoggedIn,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let format = Format::Csv("haven-statistics");
    respond(&state, &me, format, report(&state, params)).await
}

pub async fn funder_json(
    State(state): State<AppState>,
    me: LoggedIn,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    respond(&state, &me, Format::Json, funder(&state, params)).await
}

pub async fn funder_csv(
    State(state): State<AppState>,
    me: LoggedIn,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let format = Format::Csv("haven-funder-report");
    respond(&state, &me, format, funder(&state, params)).await
}

pub async fn options(State(state): State<AppState>, me: LoggedIn) -> Result<Response, ApiError> {
    require(&me, EVALUATORS)?;
    Ok(match state.stats.options().await {
        Ok(options) => Json(options).into_response(),
        Err(error) => stats_error(error),
    })
}

pub async fn free_text(
    State(state): State<AppState>,
    me: LoggedIn,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    // Evaluators only: free text is the most identifying thing Haven may keep.
    require(&me, &[Role::Evaluator])?;
    if !state.config.forms.store_free_text {
        return Err(ApiError::NotFound);
    }
    let form = params
        .get("form")
        .and_then(|f| FormKind::parse(f))
        .unwrap_or(FormKind::Survey);
    let version = params
        .get("version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(state.config.forms.form(form).version);
    let page = params.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
    let Some(question) = params.get("question").cloned() else {
        return Ok(stats_error(StatsError::BadQuery(
            "`question` is required.".into(),
        )));
    };
    Ok(
        match state.stats.free_text(form, version, question, page).await {
            Ok(page) => Json(page).into_response(),
            Err(error) => stats_error(error),
        },
    )
}

fn followup_roles(state: &AppState) -> Vec<Role> {
    vec![state.config.forms.followup_role, Role::Admin]
}

pub async fn followups(State(state): State<AppState>, me: LoggedIn) -> Result<Response, ApiError> {
    let staff = require(&me, &followup_roles(&state))?;
    let store = state.forms.store_handle().clone();
    let list = tokio::task::spawn_blocking(move || store.followups())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tracing::info!(staff = %staff.id, count = list.len(), "follow-up list viewed");
    Ok(Json(json!({ "followups": list })).into_response())
}

pub async fn followup_done(
    State(state): State<AppState>,
    me: LoggedIn,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let staff = require(&me, &followup_roles(&state))?;
    let store = state.forms.store_handle().clone();
    let deleted = tokio::task::spawn_blocking(move || store.delete_followup(&id))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if !deleted {
        return Err(ApiError::NotFound);
    }
    tracing::info!(staff = %staff.id, "follow-up email deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}
