//! The two WebSockets: `/ws/chat` (anonymous chatters) and `/ws/console` (staff). This layer
//! checks the upgrade (origin, session), applies the socket limits, and turns frames into hub
//! calls; the hub decides everything else.

mod chatter;
mod conn;
mod console;
mod origin;
mod rate;

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{ws::WebSocketUpgrade, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::get,
    Router,
};

use crate::{auth::cookie, http::error::ApiError, hub::outbox::Outbox, startup::AppState};
use conn::Limits;

/// The console's frame allowance, as a multiple of the chatter's.
const CONSOLE_RATE_FACTOR: u32 = 3;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ws/chat", get(chat_upgrade))
        .route("/ws/console", get(console_upgrade))
}

/// Applies the configured frame, message and buffer limits (tungstenite's defaults are a
/// 128 KiB read buffer and 16 MiB frames per connection).
fn limited(upgrade: WebSocketUpgrade, state: &AppState) -> WebSocketUpgrade {
    let limits = &state.config.limits;
    upgrade
        .read_buffer_size(limits.ws_read_buffer_bytes)
        .write_buffer_size(limits.ws_read_buffer_bytes)
        .max_write_buffer_size(limits.ws_max_write_buffer_bytes)
        .max_message_size(limits.ws_max_message_bytes)
        .max_frame_size(limits.ws_max_message_bytes)
}

async fn chat_upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    origin::check(&headers, &state.config.server.allowed_origins)?;
    let permit = Arc::clone(&state.chatter_slots)
        .try_acquire_owned()
        .map_err(|_| ApiError::Busy)?;
    let limits = Limits::from_config(&state.config.limits);
    let queue_frames = state.config.limits.outbound_queue_frames;
    let hub = state.hub.clone();
    Ok(limited(upgrade, &state)
        .on_upgrade(move |socket| async move {
            let (outbox, inbox) = Outbox::new(queue_frames);
            let mut session = chatter::ChatterSession::new(hub);
            conn::run(socket, outbox, inbox, limits, &mut session).await;
            drop(permit);
        })
        .into_response())
}

async fn console_upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    origin::check(&headers, &state.config.server.allowed_origins)?;
    let token = cookie::session_token(&headers).ok_or(ApiError::NotLoggedIn)?;
    let staff = state
        .auth
        .session(token.clone())
        .await?
        .ok_or(ApiError::NotLoggedIn)?;
    if !staff.role.can_chat() {
        return Err(ApiError::Forbidden);
    }
    // An advocate with several chats types and writes in all of them: a larger allowance.
    let limits = Limits::from_config(&state.config.limits).scaled(CONSOLE_RATE_FACTOR);
    let queue_frames = state.config.limits.outbound_queue_frames;
    Ok(limited(upgrade, &state)
        .on_upgrade(move |socket| async move {
            let (outbox, inbox) = Outbox::new(queue_frames);
            let staff_id = staff.id;
            let me = state
                .hub
                .advocate_connect(staff, cookie::login_id(&token), &outbox);
            // Notice a session that ended elsewhere (expiry, logout in another tab).
            let watch = tokio::spawn(watch_session(
                state.clone(),
                token,
                staff_id,
                outbox.clone(),
            ));
            let mut session = console::ConsoleSession::new(state.hub.clone(), me);
            conn::run(socket, outbox, inbox, limits, &mut session).await;
            watch.abort();
        })
        .into_response())
}

/// Re-checks the staff session every minute while the console is open.
async fn watch_session(state: AppState, token: String, staff_id: uuid::Uuid, outbox: Outbox) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    every.tick().await;
    loop {
        every.tick().await;
        if outbox.is_killed() {
            return;
        }
        if let Ok(None) = state.auth.session(token.clone()).await {
            tracing::info!(staff = %staff_id, "staff session ended; closing console");
            state
                .hub
                .staff_signed_out(staff_id, cookie::login_id(&token));
            return;
        }
    }
}
