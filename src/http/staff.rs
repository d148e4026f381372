//! Staff login, logout and "who am I".

use axum::{
    extract::{rejection::JsonRejection, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;

use super::error::ApiError;
use crate::{auth::cookie, staff::Staff, startup::AppState};

#[derive(Deserialize)]
pub struct Login {
    username: String,
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    body: Result<Json<Login>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(login) = body.map_err(|_| ApiError::InvalidRequest)?;
    if login.username.len() > 256 || login.password.len() > 1024 {
        return Err(ApiError::InvalidCredentials);
    }
    let (staff, token) = state.auth.login(login.username, login.password).await?;
    tracing::info!(staff = %staff.id, "staff logged in");
    let cookie = cookie::set(
        &token,
        state.auth.session_ttl_secs(),
        state.auth.secure_cookies,
    );
    Ok(([(header::SET_COOKIE, cookie)], Json(staff)).into_response())
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = cookie::session_token(&headers) {
        if let Some(staff) = state.auth.session(token.clone()).await? {
            state
                .hub
                .staff_signed_out(staff.id, cookie::login_id(&token));
            tracing::info!(staff = %staff.id, "staff logged out");
        }
        state.auth.logout(token).await?;
    }
    let clear = cookie::clear(state.auth.secure_cookies);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

pub async fn me(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Staff>, ApiError> {
    let token = cookie::session_token(&headers).ok_or(ApiError::NotLoggedIn)?;
    let staff = state
        .auth
        .session(token)
        .await?
        .ok_or(ApiError::NotLoggedIn)?;
    Ok(Json(staff))
}
