//! The HTTP side: staff login, public settings, health, pages, and the security headers.

pub mod assets;
pub mod error;
mod headers;
mod public;
mod staff;

use axum::{
    extract::DefaultBodyLimit,
    middleware,
    routing::{get, post},
    Router,
};
use tower_http::compression::CompressionLayer;

use crate::startup::AppState;

pub fn routes(state: AppState) -> Router<AppState> {
    let pages_and_api = Router::new()
        .route("/healthz", get(public::healthz))
        .route("/api/public/config", get(public::config))
        .route("/api/staff/login", post(staff::login))
        .route("/api/staff/logout", post(staff::logout))
        .route("/api/staff/me", get(staff::me))
        .fallback(assets::serve)
        .layer(CompressionLayer::new())
        .layer(DefaultBodyLimit::max(16 * 1024));
    // Upgrades stay outside compression: a 101 response has no body to compress.
    pages_and_api
        .merge(crate::ws::routes())
        .layer(middleware::from_fn_with_state(
            state,
            headers::security_headers,
        ))
}
