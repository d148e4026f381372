//! Cross-site WebSocket hijacking defence: browsers send `Origin` on every upgrade, and only
//! Haven's own origin (same host) and the configured ones may open a socket. Non-browser
//! clients send no `Origin` and are let through: they could forge one anyway.

use axum::http::{header, HeaderMap};

use crate::http::error::ApiError;

pub fn check(headers: &HeaderMap, allowed: &[String]) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().map_err(|_| ApiError::OriginNotAllowed)?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let same_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|rest| !host.is_empty() && rest.eq_ignore_ascii_case(host));
    if same_host || allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)) {
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
        let allowed = vec!["https://program.example".to_string()];
        assert!(check(
            &headers("http://127.0.0.1:8080", "127.0.0.1:8080"),
            &allowed
        )
        .is_ok());
        assert!(check(
            &headers("https://program.example", "haven.example"),
            &allowed
        )
        .is_ok());
        assert!(check(&headers("https://evil.example", "haven.example"), &allowed).is_err());
        assert!(check(
            &headers("http://127.0.0.1:9999", "127.0.0.1:8080"),
            &allowed
        )
        .is_err());
    }
}
