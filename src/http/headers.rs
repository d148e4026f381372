//! Security headers on every response Haven writes (refused upgrades, 404 and 405 included).

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
};

use crate::startup::AppState;

/// Pages may load only from Haven itself; the chat page may be framed only by the configured
/// embedders, the console by nobody.
pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let framable = matches!(path.as_str(), "/" | "/chat" | "/chat/") || path.starts_with("/chat/");
    let ancestors = if framable {
        std::iter::once("'self'".to_string())
            .chain(state.config.server.frame_ancestors.iter().cloned())
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
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
    // A page from another site cannot hold a handle to Haven's window (a chatter's quick exit
    // or an advocate's console), nor embed Haven's responses.
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    // The widget's script is the one thing other sites load (`<script src=…/embed.js>`).
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static(if path == "/embed.js" {
            "cross-origin"
        } else {
            "same-origin"
        }),
    );
    if state.config.server.public_origin.starts_with("https://") {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        // Nothing Haven serves should linger in a shared device's cache.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
