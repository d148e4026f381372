//! The HTTP side: staff login, public settings, health, pages, and the security headers.

mod admin;
pub mod assets;
pub use headers::security_headers_for;
mod csrf;
pub mod error;
mod forms;
mod headers;
mod methods;
mod privacy;
mod public;
pub mod session;
mod settings;
mod staff;
mod stats;

use axum::{
    extract::DefaultBodyLimit,
    middleware,
    routing::{get, post},
    Router,
};
use tower_http::compression::CompressionLayer;

use crate::state::AppState;

/// Largest settings edit accepted, in bytes.
const SETTINGS_BODY_LIMIT: usize = 512 * 1024;

pub fn routes(state: AppState) -> Router<AppState> {
    let pages_and_api = Router::new()
        .route("/healthz", get(public::healthz))
        .route("/api/public/config", get(public::config))
        .route("/api/staff/login", post(staff::login))
        .route("/api/staff/logout", post(staff::logout))
        .route("/api/staff/me", get(staff::me))
        .route("/api/public/forms", get(forms::public_forms))
        .route("/api/forms/{form}", post(forms::submit))
        .route("/api/forget", post(forms::forget))
        .route("/privacy", get(privacy::page))
        .route("/api/stats", get(stats::json_report))
        .route("/api/stats.csv", get(stats::csv_report))
        .route("/api/stats/options", get(stats::options))
        .route("/api/stats/funder", get(stats::funder_json))
        .route("/api/stats/funder.csv", get(stats::funder_csv))
        .route("/api/stats/free_text", get(stats::free_text))
        .route("/api/followups", get(stats::followups))
        .route("/api/followups/{id}/done", post(stats::followup_done))
        .route("/api/staff/password", post(staff::change_password))
        .route(
            "/api/admin/staff",
            get(admin::list_staff).post(admin::add_staff),
        )
        .route("/api/admin/staff/{id}/role", post(admin::set_role))
        .route("/api/admin/staff/{id}/disable", post(admin::disable))
        .route("/api/admin/staff/{id}/enable", post(admin::enable))
        .route(
            "/api/admin/staff/{id}/reset-password",
            post(admin::reset_password),
        )
        .route(
            "/api/admin/staff/{id}/revoke-sessions",
            post(admin::revoke_sessions),
        )
        .route("/api/admin/staff/{id}/profile", post(admin::set_profile))
        .route("/api/staff/2fa/setup", post(staff::second_factor_setup))
        .route("/api/staff/2fa/confirm", post(staff::second_factor_confirm))
        .route(
            "/api/admin/staff/{id}/reset-2fa",
            post(admin::reset_second_factor),
        )
        .route(
            "/api/admin/settings/security",
            get(admin::security_settings).post(admin::set_security_settings),
        )
        .route("/api/admin/settings", get(settings::all))
        .route(
            "/api/admin/settings/{section}",
            get(settings::one)
                .post(settings::save)
                .put(settings::save)
                .layer(
                    // Canned responses and texts in several languages outgrow 16 KiB.
                    DefaultBodyLimit::max(SETTINGS_BODY_LIMIT),
                ),
        )
        .route("/api/admin/audit", get(admin::audit))
        .route("/api/admin/audit/export", post(admin::export_audit))
        .fallback(methods::pages)
        .layer(CompressionLayer::new())
        .layer(DefaultBodyLimit::max(16 * 1024));
    // Upgrades stay outside compression: a 101 response has no body to compress.
    pages_and_api
        .merge(crate::ws::routes())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            csrf::same_origin_json,
        ))
        .layer(middleware::from_fn_with_state(
            state,
            headers::security_headers,
        ))
}
