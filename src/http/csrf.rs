//! Cross-site request forgery defence for every state-changing request (anything but GET,
//! HEAD and OPTIONS): the browser must say the request comes from Haven's own origin
//! (`Origin` equal to `server.public_origin`, or, without `Origin`, `Sec-Fetch-Site:
//! same-origin`), and a body must be JSON, which a cross-site HTML form cannot send. A request
//! with neither header is refused: every browser Haven supports sends them, and a script can
//! add them. State never changes on GET.

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::error::ApiError;
use crate::state::AppState;

pub async fn same_origin_json(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    if let Err(error) = check(request.headers(), &state.config.server.own_origins()) {
        return error.into_response();
    }
    next.run(request).await
}

fn check(headers: &HeaderMap, own: &[String]) -> Result<(), ApiError> {
    match headers.get(header::ORIGIN) {
        Some(origin) => {
            let origin = origin.to_str().map_err(|_| ApiError::CrossSiteRequest)?;
            if !own.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
                return Err(ApiError::CrossSiteRequest);
            }
        }
        None => {
            let same = headers
                .get("sec-fetch-site")
                .is_some_and(|v| v.as_bytes() == b"same-origin");
            if !same {
                return Err(ApiError::CrossSiteRequest);
            }
        }
    }
    let has_body = headers
        .get(header::CONTENT_LENGTH)
        .is_some_and(|l| l.as_bytes() != b"0")
        || headers.contains_key(header::TRANSFER_ENCODING);
    match headers.get(header::CONTENT_TYPE) {
        Some(kind) => {
            let kind = kind.to_str().unwrap_or_default();
            let essence = kind.split(';').next().unwrap_or_default().trim();
            if !essence.eq_ignore_ascii_case("application/json") {
                return Err(ApiError::UnsupportedMediaType);
            }
        }
        None if has_body => return Err(ApiError::UnsupportedMediaType),
        None => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_own_origin_json_passes() {
        let own = vec!["https://chat.example".to_string()];
        let json = ("content-type", "application/json");
        assert!(check(&headers(&[("origin", "https://chat.example"), json]), &own).is_ok());
        assert!(check(&headers(&[("sec-fetch-site", "same-origin"), json]), &own).is_ok());
        assert!(check(&headers(&[("origin", "https://evil.example"), json]), &own).is_err());
        assert!(check(&headers(&[("sec-fetch-site", "cross-site"), json]), &own).is_err());
        assert!(check(&headers(&[json]), &own).is_err(), "no origin at all");
        let form = ("content-type", "application/x-www-form-urlencoded");
        assert!(check(&headers(&[("origin", "https://chat.example"), form]), &own).is_err());
        let bodyless = [("origin", "https://chat.example"), ("content-length", "0")];
        assert!(check(&headers(&bodyless), &own).is_ok());
        let body = [("origin", "https://chat.example"), ("content-length", "5")];
        assert!(check(&headers(&body), &own).is_err());
    }
}
