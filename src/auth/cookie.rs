//! The staff session cookie: `HttpOnly; SameSite=Strict`, `Secure` when served over TLS.
//! Chatters never get a cookie.

use http::{header, HeaderMap};

pub const NAME: &str = "haven_session";

pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == NAME)
        .map(|(_, value)| value.to_owned())
        .filter(|v| {
            v.len() == crate::store::SESSION_TOKEN_BYTES * 2
                && v.bytes().all(|b| b.is_ascii_hexdigit())
        })
}

/// An opaque id for one session, for the hub to tell sessions apart without holding tokens.
pub fn login_id(token: &str) -> crate::hub::LoginId {
    use sha2::{Digest, Sha256};
    crate::hub::LoginId(Sha256::digest(token.as_bytes()).into())
}

pub fn set(token: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{NAME}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear(secure: bool) -> String {
    format!(
        "{NAME}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}
