//! HTTP errors: a stable `code` and one sentence; internals are logged, never sent.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use crate::{auth::AuthError, error::ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("The request body is not the expected JSON.")]
    InvalidRequest,
    #[error("The user name or password is wrong.")]
    InvalidCredentials,
    #[error("Too many failed logins for this user name. Wait a minute and try again.")]
    TooManyAttempts,
    #[error("Log in first.")]
    NotLoggedIn,
    #[error("Your role may not do this.")]
    Forbidden,
    #[error("This page may not open Haven's sockets.")]
    OriginNotAllowed,
    #[error("Haven is busy; try again in a minute.")]
    Busy,
    #[error("Not found.")]
    NotFound,
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> ApiError {
        match error {
            AuthError::InvalidCredentials => ApiError::InvalidCredentials,
            AuthError::TooManyAttempts => ApiError::TooManyAttempts,
            AuthError::Busy => ApiError::Busy,
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        match self {
            ApiError::InvalidRequest => (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest),
            ApiError::InvalidCredentials => {
                (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials)
            }
            ApiError::TooManyAttempts => {
                (StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManyAttempts)
            }
            ApiError::NotLoggedIn => (StatusCode::UNAUTHORIZED, ErrorCode::NotLoggedIn),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            ApiError::OriginNotAllowed => (StatusCode::FORBIDDEN, ErrorCode::OriginNotAllowed),
            ApiError::Busy => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::ServerBusy),
            ApiError::NotFound => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "request failed");
                "Something went wrong on our side.".to_string()
            }
            other => other.to_string(),
        };
        (status, Json(json!({ "code": code, "message": message }))).into_response()
    }
}
