//! HTTP errors: a stable `code` and one sentence; internals are logged, never sent.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use crate::{auth::AuthError, error::ErrorCode, store::StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("The request body is not the expected JSON.")]
    InvalidRequest,
    #[error("{0}")]
    Invalid(&'static str),
    #[error("The user name or password is wrong.")]
    InvalidCredentials,
    #[error("Too many failed logins. Wait a little and try again.")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("Log in first.")]
    NotLoggedIn,
    #[error("Your role may not do this.")]
    Forbidden,
    #[error("This page may not open Haven's sockets.")]
    OriginNotAllowed,
    #[error("This request did not come from Haven's own pages.")]
    CrossSiteRequest,
    #[error("Send this request as JSON (Content-Type: application/json).")]
    UnsupportedMediaType,
    #[error("This address answers only GET and HEAD.")]
    MethodNotAllowed,
    #[error("Haven is busy; try again in a minute.")]
    Busy,
    #[error("Haven's database is not answering; try again in a minute.")]
    StoreUnavailable,
    #[error("This Haven node cannot reach the rest of its cluster; try again in a moment.")]
    ClusterUnavailable,
    #[error("{0}")]
    WeakPassword(&'static str),
    #[error("Choose a new password first.")]
    PasswordChangeRequired,
    #[error("Enter the code from your authenticator app, or a recovery code.")]
    SecondFactorRequired,
    #[error("That code is wrong or was used already.")]
    InvalidSecondFactor,
    #[error("Your role must use a second factor: set up an authenticator app first.")]
    SecondFactorEnrolmentRequired,
    #[error("That user name is taken.")]
    UsernameTaken,
    #[error("Haven needs at least one enabled admin; this change would leave none.")]
    LastAdmin,
    #[error("Not found.")]
    NotFound,
    #[error("This server speaks protocol versions 1 and 2.")]
    UnsupportedVersion,
    /// A settings edit refused by the checks Haven runs at start; `field` says where.
    #[error("{field}: {reason}")]
    InvalidSetting { field: String, reason: String },
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::Unavailable => ApiError::StoreUnavailable,
            StoreError::Invalid(reason) => ApiError::Invalid(reason),
            StoreError::UsernameTaken(_) => ApiError::UsernameTaken,
            StoreError::NoSuchStaff => ApiError::NotFound,
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> ApiError {
        match error {
            AuthError::InvalidCredentials => ApiError::InvalidCredentials,
            AuthError::TooManyAttempts { retry_after } => ApiError::TooManyAttempts {
                retry_after_secs: retry_after.as_secs().max(1),
            },
            AuthError::Busy => ApiError::Busy,
            AuthError::WeakPassword(reason) => ApiError::WeakPassword(reason),
            AuthError::SecondFactorRequired => ApiError::SecondFactorRequired,
            AuthError::InvalidSecondFactor => ApiError::InvalidSecondFactor,
            AuthError::Store(error) => error.into(),
        }
    }
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        match self {
            ApiError::InvalidRequest | ApiError::Invalid(_) => {
                (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest)
            }
            ApiError::InvalidCredentials => {
                (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials)
            }
            ApiError::TooManyAttempts { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManyAttempts)
            }
            ApiError::NotLoggedIn => (StatusCode::UNAUTHORIZED, ErrorCode::NotLoggedIn),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            ApiError::OriginNotAllowed => (StatusCode::FORBIDDEN, ErrorCode::OriginNotAllowed),
            ApiError::CrossSiteRequest => (StatusCode::FORBIDDEN, ErrorCode::CrossSiteRequest),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
            ),
            ApiError::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed)
            }
            ApiError::Busy => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::ServerBusy),
            ApiError::StoreUnavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::StoreUnavailable)
            }
            ApiError::ClusterUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::ClusterUnavailable,
            ),
            ApiError::WeakPassword(_) => (StatusCode::BAD_REQUEST, ErrorCode::WeakPassword),
            ApiError::PasswordChangeRequired => {
                (StatusCode::FORBIDDEN, ErrorCode::PasswordChangeRequired)
            }
            ApiError::UsernameTaken => (StatusCode::CONFLICT, ErrorCode::UsernameTaken),
            ApiError::SecondFactorRequired => {
                (StatusCode::UNAUTHORIZED, ErrorCode::SecondFactorRequired)
            }
            ApiError::InvalidSecondFactor => {
                (StatusCode::UNAUTHORIZED, ErrorCode::InvalidSecondFactor)
            }
            ApiError::SecondFactorEnrolmentRequired => (
                StatusCode::FORBIDDEN,
                ErrorCode::SecondFactorEnrolmentRequired,
            ),
            ApiError::LastAdmin => (StatusCode::CONFLICT, ErrorCode::LastAdmin),
            ApiError::NotFound => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            ApiError::UnsupportedVersion => {
                (StatusCode::BAD_REQUEST, ErrorCode::UnsupportedVersion)
            }
            ApiError::InvalidSetting { .. } => (StatusCode::BAD_REQUEST, ErrorCode::InvalidSetting),
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
        let mut body = json!({ "code": code, "message": message });
        if let ApiError::InvalidSetting { field, .. } = &self {
            body["field"] = json!(field);
        }
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            ApiError::TooManyAttempts { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            ApiError::StoreUnavailable | ApiError::Busy => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            ApiError::ClusterUnavailable => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            }
            ApiError::MethodNotAllowed => {
                headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            }
            _ => {}
        }
        response
    }
}
