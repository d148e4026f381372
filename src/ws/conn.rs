//! One WebSocket connection: a writer task draining the hub's outbox (plus keep-alive pings)
//! and a reader loop applying the limits before handing text frames to the session.

use std::time::Duration;

use tokio::time::Instant;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tokio_tungstenite::tungstenite;
use tokio_util::sync::CancellationToken;

use super::rate::RateLimiter;
use crate::{
    config::LimitsConfig,
    error::ErrorCode,
    hub::outbox::{Frame, Inbox, Outbox},
    protocol::{encode, ErrorBody},
};

/// Snapshots (queue, roster, status) go out at most this often per connection: a burst of
/// changes costs one frame, not one per change per console.
const SNAPSHOT_DEBOUNCE: Duration = Duration::from_millis(50);

/// Room kept in a connection's queue before its next frame is read: more than the replies one
/// client frame can cause on its own connection (`message` + `ack`, or an `error`).
const REPLY_HEADROOM: usize = 4;

/// What a socket's session does with what the client sends. Hub calls are synchronous, so
/// this is too.
pub trait Session {
    fn on_text(&mut self, text: &str, outbox: &Outbox);
    /// The socket is gone (whatever the reason).
    fn on_closed(&mut self);
}

#[derive(Clone, Copy)]
pub struct Limits {
    pub idle_timeout: Duration,
    pub rate_burst: u32,
    pub rate_per_sec: u32,
    pub violations_before_close: u32,
}

impl Limits {
    pub fn scaled(self, factor: u32) -> Limits {
        Limits {
            rate_burst: self.rate_burst * factor,
            rate_per_sec: self.rate_per_sec * factor,
            ..self
        }
    }

    pub fn from_config(limits: &LimitsConfig) -> Limits {
        Limits {
            idle_timeout: Duration::from_secs(limits.idle_timeout_secs),
            rate_burst: limits.rate_burst,
            rate_per_sec: limits.rate_per_sec,
            violations_before_close: limits.rate_violations_before_close,
        }
    }
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ErrorFrame<'a> {
    Error(ErrorBody<'a>),
}

/// Queues an `error` frame for the client.
pub fn send_error(
    outbox: &Outbox,
    code: ErrorCode,
    message: &str,
    chat_id: Option<uuid::Uuid>,
    id: Option<&str>,
) {
    outbox.send(encode(&ErrorFrame::Error(ErrorBody {
        code,
        message,
        chat_id,
        id,
    })));
}

/// Runs the connection until either side ends it, then tells the session.
pub async fn run(
    socket: WebSocket,
    outbox: Outbox,
    inbox: Inbox,
    limits: Limits,
    session: &mut impl Session,
) {
    let (sink, stream) = socket.split();
    let stop_writer = CancellationToken::new();
    let mut writer = tokio::spawn(write_loop(
        sink,
        inbox,
        limits.idle_timeout / 3,
        stop_writer.clone(),
    ));
    let (close, writer_done) = tokio::select! {
        close = read_loop(stream, &outbox, limits, session) => (close, false),
        _ = &mut writer => (None, true),
    };
    session.on_closed();
    if !writer_done {
        match close {
            Some((code, reason)) => outbox.close(code, reason),
            None => stop_writer.cancel(),
        }
        if tokio::time::timeout(Duration::from_secs(2), &mut writer)
            .await
            .is_err()
        {
            writer.abort();
        }
    }
}

/// Reads until the client goes away; returns a close code when Haven ends it.
async fn read_loop(
    mut stream: futures_util::stream::SplitStream<WebSocket>,
    outbox: &Outbox,
    limits: Limits,
    session: &mut impl Session,
) -> Option<(u16, ErrorCode)> {
    let mut rate = RateLimiter::new(limits.rate_burst, limits.rate_per_sec);
    let mut violations = 0u32;
    loop {
        outbox.wait_for_room(REPLY_HEADROOM).await;
        let message = match tokio::time::timeout(limits.idle_timeout, stream.next()).await {
            Err(_) => {
                tracing::debug!(conn = outbox.id(), "idle socket closed");
                return Some((1001, ErrorCode::ServerClosing));
            }
            Ok(None) => return None,
            Ok(Some(Err(error))) => return read_error(error),
            Ok(Some(Ok(message))) => message,
        };
        let text = match message {
            Message::Text(text) => text,
            Message::Binary(_) => {
                send_error(
                    outbox,
                    ErrorCode::BinaryNotSupported,
                    "Haven speaks JSON text frames only.",
                    None,
                    None,
                );
                continue;
            }
            Message::Close(_) => return None,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        if !rate.try_take() {
            violations += 1;
            if violations >= limits.violations_before_close {
                tracing::warn!(conn = outbox.id(), "flooding socket closed");
                return Some((1008, ErrorCode::RateLimited));
            }
            send_error(
                outbox,
                ErrorCode::RateLimited,
                "Too many frames; this one was dropped. Send it again in a moment.",
                None,
                None,
            );
            continue;
        }
        violations = 0;
        session.on_text(&text, outbox);
    }
}

fn read_error(error: axum::Error) -> Option<(u16, ErrorCode)> {
    let too_large = error
        .into_inner()
        .downcast::<tungstenite::Error>()
        .is_ok_and(|e| matches!(*e, tungstenite::Error::Capacity(_)));
    too_large.then_some((1009, ErrorCode::FrameTooLarge))
}

async fn write_loop(
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
    mut inbox: Inbox,
    ping_every: Duration,
    stop: CancellationToken,
) {
    let mut ping = tokio::time::interval(ping_every.max(Duration::from_millis(100)));
    ping.tick().await;
    // When the newest snapshots go out; changes in between replace them.
    let mut flush_at: Option<Instant> = None;
    loop {
        let message = tokio::select! {
            biased;
            _ = stop.cancelled() => return,
            _ = inbox.kill.cancelled() => close_message(1013, ErrorCode::SlowConsumer),
            frame = inbox.rx.recv() => match frame {
                Some(Frame::Text(text)) => Message::Text(text.as_ref().into()),
                Some(Frame::Batch(texts)) => {
                    for text in texts {
                        if !send_within(&mut sink, Message::Text(text.as_ref().into())).await {
                            return;
                        }
                    }
                    continue;
                }
                Some(Frame::Close(code, reason)) => close_message(code, reason),
                None => return,
            },
            _ = inbox.latest.changed.notified() => {
                flush_at.get_or_insert_with(|| Instant::now() + SNAPSHOT_DEBOUNCE);
                continue;
            }
            _ = sleep_until_some(flush_at) => {
                flush_at = None;
                for text in inbox.latest.take() {
                    if !send_within(&mut sink, Message::Text(text.as_ref().into())).await {
                        return;
                    }
                }
                continue;
            }
            _ = ping.tick() => Message::Ping(Default::default()),
        };
        let closing = matches!(message, Message::Close(_));
        if !send_within(&mut sink, message).await || closing {
            let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
            return;
        }
    }
}

/// Waits for `at`, or forever when there is nothing to wait for.
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Sends one message, giving up on a peer that has not taken it in 10 s.
async fn send_within(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    message: Message,
) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(10), sink.send(message)).await,
        Ok(Ok(()))
    )
}

fn close_message(code: u16, reason: ErrorCode) -> Message {
    let reason = serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}
