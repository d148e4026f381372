//! Cross-site WebSocket hijacking defence: browsers send `Origin` on every upgrade, and only
//! Haven's own origin (`server.public_origin`, never derived from the `Host` header, which a
//! proxy may pass on from anyone) and the configured `server.allowed_origins` may open a
//! socket. Non-browser clients send no `Origin` and are let through: they could forge one
//! anyway (the console still needs a session cookie).

use axum::http::{header, HeaderMap};

use crate::http::error::ApiError;

pub fn check(headers: &HeaderMap, own: &[String], allowed: &[String]) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().map_err(|_| ApiError::OriginNotAllowed)?;
    if own
        .iter()
        .chain(allowed)
        .any(|a| a.eq_ignore_ascii_case(origin))
    {
        Ok(())
    } else {
        Err(ApiError::OriginNotAllowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: &str, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, origin.parse().unwrap());
        h.insert(header::HOST, host.parse().unwrap());
        h
    }

    #[test]
    fn own_and_listed_origins_pass_others_do_not() {
        let own = vec!["https://haven.example".to_string()];
        let allowed = vec!["https://program.example".to_string()];
        assert!(check(
            &headers("https://haven.example", "haven.example"),
            &own,
            &allowed
        )
        .is_ok());
        assert!(check(
            &headers("https://program.example", "haven.example"),
            &own,
            &allowed
        )
        .is_ok());
        assert!(check(
            &headers("https://evil.example", "haven.example"),
            &own,
            &allowed
        )
        .is_err());
        // The Host header alone proves nothing.
        assert!(check(
            &headers("http://evil.example", "evil.example"),
            &own,
            &allowed
        )
        .is_err());
    }
}
