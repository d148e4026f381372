//! Staff cookies: the session (`__Host-haven_session` over HTTPS, `haven_session` otherwise)
//! and the device cookie that marks a browser a person has logged in from before. Both are
//! `HttpOnly; SameSite=Strict; Path=/`, with no `Domain`, `Secure` over HTTPS. Chatters never
//! get a cookie.

use http::{header, HeaderMap};

pub const NAME: &str = "haven_session";
pub const SECURE_NAME: &str = "__Host-haven_session";
pub const DEVICE_NAME: &str = "haven_device";
pub const SECURE_DEVICE_NAME: &str = "__Host-haven_device";
/// A device cookie lasts half a year.
pub const DEVICE_MAX_AGE_SECS: i64 = 180 * 24 * 3600;

pub fn session_name(secure: bool) -> &'static str {
    if secure {
        SECURE_NAME
    } else {
        NAME
    }
}

pub fn device_name(secure: bool) -> &'static str {
    if secure {
        SECURE_DEVICE_NAME
    } else {
        DEVICE_NAME
    }
}

/// The value of the cookie called `name`, if present.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
}

/// The session token, under whichever name this server uses, if well-formed.
pub fn session_token(headers: &HeaderMap, secure: bool) -> Option<String> {
    get(headers, session_name(secure)).filter(|v| {
        v.len() == crate::store::SESSION_TOKEN_BYTES * 2 && v.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// An opaque id for one session, for the hub to tell sessions apart without holding tokens.
pub fn login_id(token: &str) -> crate::hub::LoginId {
    use sha2::{Digest, Sha256};
    crate::hub::LoginId(Sha256::digest(token.as_bytes()).into())
}

fn attributes(secure: bool) -> &'static str {
    if secure {
        "HttpOnly; SameSite=Strict; Path=/; Secure"
    } else {
        "HttpOnly; SameSite=Strict; Path=/"
    }
}

pub fn set(token: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{}={token}; {}; Max-Age={max_age_secs}",
        session_name(secure),
        attributes(secure)
    )
}

pub fn clear(secure: bool) -> String {
    format!(
        "{}=; {}; Max-Age=0",
        session_name(secure),
        attributes(secure)
    )
}

pub fn set_device(value: &str, secure: bool) -> String {
    format!(
        "{}={value}; {}; Max-Age={DEVICE_MAX_AGE_SECS}",
        device_name(secure),
        attributes(secure)
    )
}
