//! One WebSocket connection, one task: a writer draining the hub's outbox ([`super::writer`])
//! and a reader loop applying the limits before handing text frames to the session.

use std::time::Duration;

use tokio::time::Instant;

use axum::extract::ws::{Message, WebSocket};
use futures_util::{future::FusedFuture, stream::SplitStream, FutureExt, StreamExt};
use serde::Serialize;
use tokio_tungstenite::tungstenite;

use super::{
    probe::{Pong, Probe},
    rate::RateLimiter,
    writer::write_loop,
};
use crate::{
    config::{LimitsConfig, ProtectionConfig},
    error::ErrorCode,
    hub::{
        outbox::{Inbox, Outbox},
        switch::Switch,
        text::ClientId,
    },
    metrics::{Metrics, Reason},
    protocol::{encode, ErrorBody},
};

/// Room kept in a connection's queue before its next frame is read: more than the replies one
/// client frame can cause on its own connection (`message` + `ack`, or an `error`).
const REPLY_HEADROOM: usize = 4;

/// What a socket's session does with what the client sends. Hub calls are synchronous, so
/// this is too.
pub trait Session {
    fn on_text(&mut self, text: &str, outbox: &Outbox);
    /// The socket is gone (whatever the reason).
    fn on_closed(&mut self);
    /// When the session wants a say although the client sent nothing (e.g. no `hello` yet).
    fn deadline(&self) -> Option<Instant> {
        None
    }
    /// The deadline passed: the close to send, or `None` to carry on.
    fn on_deadline(&mut self) -> Option<(u16, ErrorCode)> {
        None
    }
    /// The connection stopped answering Haven's probes (`true`), or answers again.
    fn on_stalled(&mut self, _stalled: bool) {}
}

#[derive(Clone, Copy)]
pub struct Limits {
    pub idle_timeout: Duration,
    pub rate_burst: u32,
    pub rate_per_sec: u32,
    pub violations_before_close: u32,
    /// How long one frame may take to go out before the client counts as not reading.
    pub write_timeout: Duration,
    /// How long to wait for the client's close frame after sending ours.
    pub close_timeout: Duration,
    /// How long a probe may go unanswered before the connection counts as stalled; `None`:
    /// no probes.
    pub stall_after: Option<Duration>,
}

impl Limits {
    pub fn scaled(self, factor: u32) -> Limits {
        Limits {
            rate_burst: self.rate_burst * factor,
            rate_per_sec: self.rate_per_sec * factor,
            ..self
        }
    }

    pub fn from_config(limits: &LimitsConfig, protection: &ProtectionConfig) -> Limits {
        Limits {
            idle_timeout: Duration::from_secs(limits.idle_timeout_secs),
            rate_burst: limits.rate_burst,
            rate_per_sec: limits.rate_per_sec,
            violations_before_close: limits.rate_violations_before_close,
            write_timeout: Duration::from_secs(protection.write_timeout_secs),
            close_timeout: Duration::from_secs(protection.close_timeout_secs),
            stall_after: (protection.stall_notice_ms > 0)
                .then(|| Duration::from_millis(protection.stall_notice_ms)),
        }
    }

    /// The same limits without stall probes.
    pub fn without_probes(self) -> Limits {
        Limits {
            stall_after: None,
            ..self
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

/// How the reading side ended.
enum Ending {
    /// The client closed or the connection broke: nothing more to say.
    Gone,
    /// Haven ends it with this close code.
    Close(u16, ErrorCode),
    /// The writer task has returned (slow consumer, unwritable socket, a queued close).
    WriterDone,
    /// The hub gave up on this connection; the writer is still saying goodbye.
    Killed,
}

/// Runs the connection until either side ends it, then tells the session. `closing` fires on
/// shutdown, after the hub has told the chats: every socket then gets a close frame.
///
/// The reader and the writer are two futures of one task, not two tasks: a reply to the
/// client's own frame (an `ack`, a `pong`) is written without waking another task, and a
/// connection costs one task (issue 10).
pub async fn run(
    socket: WebSocket,
    outbox: Outbox,
    inbox: Inbox,
    limits: Limits,
    session: &mut (impl Session + ?Sized),
    closing: Switch,
    metrics: &Metrics,
) {
    let (sink, mut stream) = socket.split();
    let stop_writer = Switch::new();
    let killed = inbox.kill.clone();
    let probe = limits.stall_after.map_or_else(Probe::off, Probe::new);
    let writer = write_loop(
        sink,
        inbox,
        limits,
        stop_writer.clone(),
        metrics.clone(),
        probe.clone(),
    )
    .fuse();
    // On the heap: the task's own allocation then stays in a smaller size class (about 1 KB
    // less per connection, measured with 10,000 waiting chatters).
    let mut writer = Box::pin(writer);
    let ending = tokio::select! {
        ending = read_loop(&mut stream, &outbox, limits, session, metrics, &probe) => ending,
        _ = &mut writer => Ending::WriterDone,
        // The hub gave up on this connection: the other side of the chat hears it now, not
        // when the writer has finished trying to say goodbye.
        _ = killed.cancelled() => Ending::Killed,
        _ = closing.cancelled() => Ending::Close(1001, ErrorCode::ServerClosing),
    };
    session.on_closed();
    match ending {
        Ending::WriterDone => {}
        Ending::Killed => {
            finish(writer.as_mut(), limits.write_timeout + limits.close_timeout).await
        }
        Ending::Gone => {
            stop_writer.cancel();
            finish(writer.as_mut(), limits.close_timeout).await;
        }
        Ending::Close(code, reason) => {
            outbox.close(code, reason);
            // Keep reading (and discarding) until the client's close or a timeout, while the
            // writer sends ours: closing a socket with unread input resets it, and the client
            // would never see the code.
            let writing = async {
                if !writer.is_terminated() {
                    (&mut writer).await;
                }
            };
            let both = futures_util::future::join(drain(&mut stream), writing);
            let wait = limits.close_timeout + Duration::from_millis(100);
            let _ = tokio::time::timeout(wait, both).await;
        }
    }
}

/// Waits briefly for the writer to flush and close, then drops it (which stops it).
async fn finish<F: FusedFuture<Output = ()> + ?Sized>(
    writer: std::pin::Pin<&mut F>,
    wait: Duration,
) {
    if !writer.is_terminated() {
        let _ = tokio::time::timeout(wait, writer).await;
    }
}

/// Reads until the client's close frame or the end of the stream. After a read error
/// tungstenite may have nothing sensible left to parse: then just linger, so that the client
/// reads our close frame before the connection goes.
async fn drain(stream: &mut SplitStream<WebSocket>) {
    loop {
        match stream.next().await {
            Some(Ok(Message::Close(_))) | None => return,
            Some(Ok(_)) => {}
            Some(Err(_)) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum RateLimitedFrame<'a> {
    Error {
        code: ErrorCode,
        message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<&'a str>,
        retry_after_ms: u64,
    },
}

/// The client's message `id` in a frame that was dropped, so the page knows what to re-send.
fn message_id(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct WithId {
        id: Option<String>,
    }
    serde_json::from_str::<WithId>(text)
        .ok()
        .and_then(|f| f.id)
        .filter(|id| id.chars().count() <= ClientId::MAX_LEN)
}

/// Reads until the client goes away or Haven ends the connection.
async fn read_loop(
    stream: &mut SplitStream<WebSocket>,
    outbox: &Outbox,
    limits: Limits,
    session: &mut (impl Session + ?Sized),
    metrics: &Metrics,
    probe: &Probe,
) -> Ending {
    let mut rate = RateLimiter::new(limits.rate_burst, limits.rate_per_sec);
    let mut violations = 0u32;
    loop {
        // A client that stopped reading fills the queue: its stall is still reported on time.
        if let Some(at) = probe.deadline() {
            if tokio::time::timeout_at(at, outbox.wait_for_room(REPLY_HEADROOM))
                .await
                .is_err()
            {
                if probe.check_stalled(Instant::now()) {
                    session.on_stalled(true);
                }
                continue;
            }
        } else {
            outbox.wait_for_room(REPLY_HEADROOM).await;
        }
        let idle = Instant::now() + limits.idle_timeout;
        let stall_at = probe.deadline();
        let wake = [session.deadline(), stall_at]
            .into_iter()
            .flatten()
            .fold(idle, Instant::min);
        let read = tokio::select! {
            read = tokio::time::timeout_at(wake, stream.next()) => read,
            // A probe went out: watch its deadline (`next` loses nothing when dropped).
            _ = probe.sent() => continue,
        };
        let message = match read {
            Err(_) if stall_at == Some(wake) => {
                if probe.check_stalled(Instant::now()) {
                    session.on_stalled(true);
                }
                continue;
            }
            Err(_) if wake < idle => match session.on_deadline() {
                Some((code, reason)) => {
                    metrics.rejected(match reason {
                        ErrorCode::HelloTimeout => Reason::hello_timeout,
                        _ => Reason::abandoned,
                    });
                    return Ending::Close(code, reason);
                }
                None => continue,
            },
            Err(_) => {
                tracing::debug!(conn = outbox.id(), "idle socket closed");
                return Ending::Close(1001, ErrorCode::ServerClosing);
            }
            Ok(None) => return Ending::Gone,
            Ok(Some(Err(error))) => return read_error(error, metrics),
            Ok(Some(Ok(message))) => message,
        };
        // Every frame costs a token, control frames too: a ping flood is answered by
        // tungstenite with pongs and would otherwise cost a core for free. Only the answer to
        // Haven's own probe is free.
        let (text, binary) = match message {
            Message::Close(_) => return Ending::Gone,
            Message::Text(text) => (Some(text), false),
            Message::Binary(_) => (None, true),
            Message::Pong(payload) => match probe.on_pong(&payload) {
                Pong::Recovered => {
                    session.on_stalled(false);
                    continue;
                }
                Pong::Answered => continue,
                Pong::Other => (None, false),
            },
            Message::Ping(_) => (None, false),
        };
        if !rate.try_take() {
            violations += 1;
            metrics.rejected(Reason::rate_limited);
            if violations >= limits.violations_before_close {
                tracing::warn!(conn = outbox.id(), "flooding socket closed");
                return Ending::Close(1008, ErrorCode::RateLimited);
            }
            if let Some(text) = &text {
                let id = message_id(text);
                outbox.send(encode(&RateLimitedFrame::Error {
                    code: ErrorCode::RateLimited,
                    message: "Too many frames; this one was dropped. Send it again after `retry_after_ms`.",
                    id: id.as_deref(),
                    retry_after_ms: rate.retry_after().as_millis() as u64,
                }));
            }
            continue;
        }
        violations = 0;
        match text {
            Some(text) => session.on_text(&text, outbox),
            None if binary => send_error(
                outbox,
                ErrorCode::BinaryNotSupported,
                "Haven speaks JSON text frames only.",
                None,
                None,
            ),
            None => {}
        }
    }
}
/// The close a read error deserves: 1009 for a frame over the limit, 1007 for a text frame
/// that is not UTF-8 (RFC 6455 §8.1); a broken connection needs none.
fn read_error(error: axum::Error, metrics: &Metrics) -> Ending {
    let Ok(error) = error.into_inner().downcast::<tungstenite::Error>() else {
        return Ending::Gone;
    };
    match *error {
        tungstenite::Error::Capacity(_) => {
            metrics.rejected(Reason::frame_too_large);
            Ending::Close(1009, ErrorCode::FrameTooLarge)
        }
        tungstenite::Error::Utf8(_) => {
            metrics.rejected(Reason::invalid_utf8);
            Ending::Close(1007, ErrorCode::InvalidFrame)
        }
        _ => Ending::Gone,
    }
}
