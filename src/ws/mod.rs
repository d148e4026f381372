//! The two WebSockets: `/ws/chat` (anonymous chatters) and `/ws/console` (staff). This layer
//! checks the upgrade (origin, session), applies the socket limits, and turns frames into hub
//! calls; the hub decides everything else.

mod chatter;
mod conn;
mod console;
pub mod hosted;
mod origin;
mod probe;
mod rate;
mod writer;

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{rejection::QueryRejection, ws::WebSocketUpgrade, Query, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::get,
    Extension, Router,
};

use crate::{
    abuse::{proof::Challenge, Connection},
    auth::cookie,
    cluster::{Opening, Route},
    http::error::ApiError,
    hub::outbox::Outbox,
    metrics::Reason,
    protocol::Version,
    state::AppState,
};
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
/// `read_buffer` is what each read takes at most; tungstenite grows it for a larger frame.
fn limited(upgrade: WebSocketUpgrade, state: &AppState, read_buffer: usize) -> WebSocketUpgrade {
    let limits = &state.config.limits;
    upgrade
        .read_buffer_size(read_buffer)
        .write_buffer_size(limits.ws_read_buffer_bytes)
        .max_write_buffer_size(limits.ws_max_write_buffer_bytes)
        .max_message_size(limits.ws_max_message_bytes)
        .max_frame_size(limits.ws_max_message_bytes)
}

async fn chat_upgrade(
    State(state): State<AppState>,
    connection: Option<Extension<Connection>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    origin::check(
        &headers,
        &state.config.server.own_origins(),
        &state.config.server.allowed_origins,
    )?;
    let permit = Arc::clone(&state.chatter_slots)
        .try_acquire_owned()
        .map_err(|_| {
            state.metrics.rejected(Reason::chatter_cap);
            ApiError::Busy
        })?;
    // The address becomes a key here and goes no further.
    let key = connection
        .as_ref()
        .map(|Extension(c)| state.protection.key(c.peer, &headers));
    let client_permit = match key {
        Some(key) => Some(state.protection.open_socket(key).ok_or_else(|| {
            state.metrics.rejected(Reason::sockets_per_client);
            ApiError::Busy
        })?),
        None => None,
    };
    let route = route(&state)?;
    let limits = Limits::from_config(&state.config.limits, &state.config.protection);
    let queue_frames = state.config.limits.outbound_queue_frames;
    // A chatter sends a few small frames a minute: a small read buffer keeps a long waiting
    // line cheap (memory per waiting chatter, docs/benchmarks.md).
    let read_buffer = state.config.limits.ws_chatter_read_buffer_bytes;
    Ok(limited(upgrade, &state, read_buffer)
        .on_upgrade(move |socket| async move {
            // Held until the socket closes: the TCP connection's place under the cap.
            let _connection = connection;
            let (outbox, inbox) = Outbox::new(queue_frames);
            state.metrics.socket_opened(false);
            let closing = state.closing.clone();
            let mut session: Box<dyn conn::Session + Send> = match route {
                Route::There(mut tunnel) => {
                    let client = key.map(|key| key.to_bytes());
                    tunnel.open(Opening::Chatter { client }, &outbox);
                    Box::new(hosted::TunnelSession { tunnel })
                }
                Route::Here | Route::Nowhere => {
                    let client = key.map(|key| chatter::Client {
                        key,
                        protection: state.protection.clone(),
                        metrics: state.metrics.clone(),
                    });
                    Box::new(new_chatter_session(&state, client, &outbox))
                }
            };
            let metrics = &state.metrics;
            conn::run(
                socket,
                outbox,
                inbox,
                limits,
                &mut *session,
                closing,
                metrics,
            )
            .await;
            state.metrics.socket_closed(false);
            drop(client_permit);
            drop(permit);
        })
        .into_response())
}

/// Where a new socket's session runs: here, or on the cluster's coordinator (503 while no
/// coordinator is known, so that the load balancer or the page tries again).
fn route(state: &AppState) -> Result<Route, ApiError> {
    match state.cluster.as_ref().map_or(Route::Here, |c| c.route()) {
        Route::Nowhere => Err(ApiError::ClusterUnavailable),
        route => Ok(route),
    }
}

/// A chatter's session on this node's hub, with the program's deadlines and proof of work.
fn new_chatter_session(
    state: &AppState,
    client: Option<chatter::Client>,
    outbox: &Outbox,
) -> chatter::ChatterSession {
    let protection = &state.config.protection;
    let deadlines = chatter::Deadlines {
        hello: Duration::from_secs(protection.hello_timeout_secs),
        followup: Duration::from_secs(protection.followup_timeout_secs),
    };
    let session = chatter::ChatterSession::new(state.hub.clone(), deadlines, client);
    match protection.hello_proof_of_work_bits {
        0 => session,
        bits => session.with_challenge(Challenge::new(bits), outbox),
    }
}

/// The console's upgrade query: `?v=2` asks for protocol version 2.
#[derive(serde::Deserialize)]
struct ConsoleQuery {
    v: Option<u32>,
}

async fn console_upgrade(
    State(state): State<AppState>,
    connection: Option<Extension<Connection>>,
    headers: HeaderMap,
    query: Result<Query<ConsoleQuery>, QueryRejection>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let version = match query {
        Ok(Query(ConsoleQuery { v: None })) => Version::V1,
        Ok(Query(ConsoleQuery { v: Some(v) })) => {
            Version::parse(v).ok_or(ApiError::UnsupportedVersion)?
        }
        Err(_) => return Err(ApiError::UnsupportedVersion),
    };
    origin::check(
        &headers,
        &state.config.server.own_origins(),
        &state.config.server.allowed_origins,
    )?;
    let token =
        cookie::session_token(&headers, state.auth.secure_cookies).ok_or(ApiError::NotLoggedIn)?;
    let session = state
        .auth
        .session(token.clone())
        .await?
        .ok_or(ApiError::NotLoggedIn)?;
    if session.must_change_password {
        return Err(ApiError::PasswordChangeRequired);
    }
    if session.needs_second_factor {
        return Err(ApiError::SecondFactorEnrolmentRequired);
    }
    let staff = session.staff;
    if !staff.role.can_chat() {
        return Err(ApiError::Forbidden);
    }
    // An advocate with several chats types and writes in all of them: a larger allowance.
    // Stall probes tell an advocate about the chatter's connection; nobody needs them about
    // the console's (its own page notices a dead socket).
    let limits = Limits::from_config(&state.config.limits, &state.config.protection)
        .scaled(CONSOLE_RATE_FACTOR)
        .without_probes();
    let queue_frames = state.config.limits.outbound_queue_frames;
    let read_buffer = state.config.limits.ws_read_buffer_bytes;
    let route = route(&state)?;
    Ok(limited(upgrade, &state, read_buffer)
        .on_upgrade(move |socket| async move {
            let _connection = connection;
            let (outbox, inbox) = Outbox::new(queue_frames);
            let outbox = outbox.speaking(version);
            let staff_id = staff.id;
            let login = cookie::login_id(&token);
            // Notice a session that ended elsewhere (expiry, logout in another tab).
            let watch = tokio::spawn(watch_session(
                state.clone(),
                token,
                staff_id,
                outbox.clone(),
            ));
            state.metrics.socket_opened(true);
            let closing = state.closing.clone();
            let mut session: Box<dyn conn::Session + Send> = match route {
                Route::There(mut tunnel) => {
                    let opening = Opening::Console {
                        staff,
                        login: login.0,
                        version: version.number(),
                    };
                    tunnel.open(opening, &outbox);
                    Box::new(hosted::TunnelSession { tunnel })
                }
                Route::Here | Route::Nowhere => {
                    let me = state.hub.advocate_connect(staff, login, &outbox);
                    let session = console::ConsoleSession::new(state.hub.clone(), me)
                        .audited(state.auth.clone(), staff_id);
                    Box::new(session)
                }
            };
            let metrics = &state.metrics;
            conn::run(
                socket,
                outbox,
                inbox,
                limits,
                &mut *session,
                closing,
                metrics,
            )
            .await;
            state.metrics.socket_closed(true);
            watch.abort();
        })
        .into_response())
}

/// Closes the console when its session ends. A revocation (logout, disable, role or password
/// change) is heard at once and hands the chats back; a session gone without one (expired) is
/// found by re-checking every `auth.console_session_check_secs` and closes the socket only, so
/// the advocate keeps the resume grace to sign in again before their chats go back.
async fn watch_session(state: AppState, token: String, staff_id: uuid::Uuid, outbox: Outbox) {
    use crate::auth::revoked::Revoked;
    let mut revocations = state.auth.revocations();
    let mine = crate::auth::token_hash(&token);
    let every = Duration::from_secs(state.config.auth.console_session_check_secs);
    let mut every = tokio::time::interval(every);
    every.tick().await;
    loop {
        let revoked = tokio::select! {
            _ = every.tick() => false,
            heard = revocations.recv() => match heard {
                Ok(Revoked::Staff(id)) => id == staff_id,
                Ok(Revoked::Session(hash)) => hash == mine,
                // Missed some: re-check below.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => false,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
        };
        if outbox.is_killed() {
            return;
        }
        if revoked {
            // This console's session predates the revocation it just heard: it ends now,
            // without asking the database, which may not have caught up yet.
            tracing::info!(staff = %staff_id, "staff session revoked; closing console");
            state
                .coordinator
                .staff_signed_out(staff_id, cookie::login_id(&token))
                .await;
            return;
        }
        let live = match state.auth.session(token.clone()).await {
            Ok(live) => live.is_some(),
            // A failing disk does not end a shift; revocations are checked in memory first.
            Err(_) => true,
        };
        if live {
            continue;
        }
        tracing::info!(staff = %staff_id, "staff session ended; closing console");
        state
            .coordinator
            .staff_session_lapsed(staff_id, cookie::login_id(&token))
            .await;
        return;
    }
}
