//! Security headers on every response Haven writes (refused upgrades, 404 and 405 included;
//! hyper's own 400 and 431 get the same list from [`crate::serve`]).

use axum::{
    extract::{Request, State},
    http::{header, HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};

use crate::{config::Config, state::AppState};

pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in security_headers_for(&state.config, &path) {
        headers.insert(name, value);
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        // Nothing Haven serves should linger in a shared device's cache.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The security headers for a response to `path`. Pages may load only from Haven itself; the
/// chat page may be framed only by the configured embedders, everything else by nobody.
pub fn security_headers_for(config: &Config, path: &str) -> Vec<(HeaderName, HeaderValue)> {
    let framable = matches!(path, "/" | "/chat" | "/chat/") || path.starts_with("/chat/");
    let ancestors = if framable {
        std::iter::once("'self'".to_string())
            .chain(config.server.frame_ancestors.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        "'none'".to_string()
    };
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors {ancestors}"
    );
    let mut headers = Vec::with_capacity(8);
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.push((header::CONTENT_SECURITY_POLICY, value));
    }
    headers.push((
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ));
    headers.push((
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ));
    headers.push((
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    ));
    // A page from another site cannot hold a handle to Haven's window (a chatter's quick exit
    // or an advocate's console), nor embed Haven's responses.
    headers.push((
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    ));
    // The widget's script is the one thing other sites load (`<script src=…/embed.js>`).
    headers.push((
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static(if path == "/embed.js" {
            "cross-origin"
        } else {
            "same-origin"
        }),
    ));
    if serves_https(config) {
        headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    headers
}

/// HSTS is sent when browsers reach Haven over HTTPS: its own TLS, or a proxy's.
fn serves_https(config: &Config) -> bool {
    config.server.public_origin.starts_with("https://") || config.server.tls_enabled()
}
