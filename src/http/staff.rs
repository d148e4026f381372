//! Staff login, logout, "who am I" and changing one's own password.

use std::net::SocketAddr;

use axum::{
    extract::{rejection::JsonRejection, ConnectInfo, State},
    http::{header, HeaderMap, StatusCode},
    response::{AppendHeaders, IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{error::ApiError, session::AnySession};
use crate::{
    auth::{cookie, LoginAttempt},
    staff::Staff,
    state::AppState,
    store::SessionRow,
};

#[derive(Deserialize)]
pub struct Login {
    username: String,
    password: Zeroizing<String>,
    /// A TOTP code or a recovery code, for accounts with a second factor.
    #[serde(default)]
    code: Option<Zeroizing<String>>,
}

/// What `login` and `me` answer: the staff member, and whether a temporary password must be
/// replaced before anything else.
#[derive(Serialize)]
pub struct Me {
    #[serde(flatten)]
    staff: Staff,
    must_change_password: bool,
    totp_enabled: bool,
    /// The role must use a second factor and none is set up yet.
    needs_second_factor: bool,
}

impl From<&SessionRow> for Me {
    fn from(session: &SessionRow) -> Me {
        Me {
            staff: session.staff.clone(),
            must_change_password: session.must_change_password,
            totp_enabled: session.totp_enabled,
            needs_second_factor: session.needs_second_factor,
        }
    }
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<Login>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(login) = body.map_err(|_| ApiError::InvalidRequest)?;
    let secure = state.auth.secure_cookies;
    // A new session id at every login: a session cookie already in the browser is ended.
    if let Some(old) = cookie::session_token(&headers, secure) {
        state.auth.logout(old, None).await;
    }
    let logged_in = state
        .auth
        .login(LoginAttempt {
            username: login.username,
            password: login.password,
            // Behind a reverse proxy every login comes from the proxy: the throttle must count
            // the client it forwards, or one attacker would slow every staff member's login.
            source: state.protection.client_address(peer, &headers),
            device_cookie: cookie::get(&headers, cookie::device_name(secure)),
            second_factor: login.code.map(|c| c.to_string()),
        })
        .await?;
    tracing::info!(staff = %logged_in.session.staff.id, "staff logged in");
    let cookies = AppendHeaders([
        (
            header::SET_COOKIE,
            cookie::set(&logged_in.token, state.auth.session_max_age_secs(), secure),
        ),
        (
            header::SET_COOKIE,
            cookie::set_device(&logged_in.device_cookie, secure),
        ),
    ]);
    Ok((cookies, Json(Me::from(&logged_in.session))).into_response())
}

/// Ends the session (at once in memory, even if the database is failing) and closes that
/// session's console socket. Answers 204 with or without a session.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let secure = state.auth.secure_cookies;
    if let Some(token) = cookie::session_token(&headers, secure) {
        let staff = state.auth.session(token.clone()).await.ok().flatten();
        let staff_id = staff.map(|s| s.staff.id);
        state.auth.logout(token.clone(), staff_id).await;
        if let Some(id) = staff_id {
            state
                .coordinator
                .staff_signed_out(id, cookie::login_id(&token))
                .await;
            tracing::info!(staff = %id, "staff logged out");
        }
    }
    let clear = cookie::clear(secure);
    (StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response()
}

pub async fn me(AnySession(me): AnySession) -> Json<Me> {
    Json(Me::from(&me.session))
}

#[derive(Deserialize)]
pub struct PasswordChange {
    current_password: Zeroizing<String>,
    new_password: Zeroizing<String>,
}

/// Replaces one's own password (a temporary one too). Every session of the account ends; this
/// browser gets a new one.
pub async fn change_password(
    State(state): State<AppState>,
    AnySession(me): AnySession,
    body: Result<Json<PasswordChange>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(change) = body.map_err(|_| ApiError::InvalidRequest)?;
    let token = state
        .auth
        .change_own_password(&me.session, change.current_password, change.new_password)
        .await?;
    state
        .hub
        .staff_signed_out(me.session.staff.id, cookie::login_id(&me.token));
    let cookie = cookie::set(
        &token,
        state.auth.session_max_age_secs(),
        state.auth.secure_cookies,
    );
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

#[derive(Serialize)]
pub struct Enrolment {
    secret: String,
    otpauth_uri: String,
    qr_svg: String,
}

/// Starts TOTP enrolment: the secret, its `otpauth://` address and a QR code of it (SVG drawn
/// by Haven). Nothing changes until a code is confirmed.
pub async fn second_factor_setup(
    State(state): State<AppState>,
    AnySession(me): AnySession,
) -> Result<Json<Enrolment>, ApiError> {
    if me.session.must_change_password {
        return Err(ApiError::PasswordChangeRequired);
    }
    let enrolment = state
        .auth
        .start_second_factor(&me.session, &state.config.program.name)
        .await?;
    Ok(Json(Enrolment {
        secret: enrolment.secret_base32,
        otpauth_uri: enrolment.otpauth_uri,
        qr_svg: enrolment.qr_svg,
    }))
}

#[derive(Deserialize)]
pub struct Confirm {
    code: String,
}

#[derive(Serialize)]
pub struct RecoveryCodes {
    recovery_codes: Vec<String>,
}

/// Confirms enrolment with a code from the app; answers the ten recovery codes, once.
pub async fn second_factor_confirm(
    State(state): State<AppState>,
    AnySession(me): AnySession,
    body: Result<Json<Confirm>, JsonRejection>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    let Json(confirm) = body.map_err(|_| ApiError::InvalidRequest)?;
    if me.session.must_change_password {
        return Err(ApiError::PasswordChangeRequired);
    }
    let recovery_codes = state
        .auth
        .confirm_second_factor(&me.session, &confirm.code)
        .await?;
    Ok(Json(RecoveryCodes { recovery_codes }))
}
