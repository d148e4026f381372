//! The staff session as an extractor: handlers that take [`LoggedIn`] run only for a live
//! session whose password needs no change; [`AnySession`] also lets through a session that must
//! first replace a temporary password or set up a required second factor (for `me`, `password`,
//! the second-factor set-up and `logout`).

use axum::{extract::FromRequestParts, http::request::Parts};

use super::error::ApiError;
use crate::{auth::cookie, state::AppState, store::SessionRow};

/// A live session, its token, and a password that needs no change.
pub struct LoggedIn {
    pub session: SessionRow,
    pub token: String,
}

/// A live session that may still have to replace a temporary password.
pub struct AnySession(pub LoggedIn);

impl FromRequestParts<AppState> for AnySession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = cookie::session_token(&parts.headers, state.auth.secure_cookies)
            .ok_or(ApiError::NotLoggedIn)?;
        let session = state
            .auth
            .session(token.clone())
            .await?
            .ok_or(ApiError::NotLoggedIn)?;
        Ok(AnySession(LoggedIn { session, token }))
    }
}

impl FromRequestParts<AppState> for LoggedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AnySession(logged_in) = AnySession::from_request_parts(parts, state).await?;
        if logged_in.session.must_change_password {
            return Err(ApiError::PasswordChangeRequired);
        }
        // The "required second factor" gate: nothing but enrolment until it is set up.
        if logged_in.session.needs_second_factor {
            return Err(ApiError::SecondFactorEnrolmentRequired);
        }
        Ok(logged_in)
    }
}
