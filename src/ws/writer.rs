//! The writing half of a connection: drains the hub's outbox, sends snapshots at most every
//! [`SNAPSHOT_DEBOUNCE`], pings to keep the socket alive, and writes every frame already queued
//! with one flush, with a stall probe behind them ([`super::probe`]). It gives up on a client that does not read (write timeout) or that the hub
//! has dropped (kill switch).

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{stream::SplitSink, SinkExt};
use tokio::time::Instant;

use super::{conn::Limits, probe::Probe};
use crate::{
    error::ErrorCode,
    hub::{
        outbox::{Frame, Inbox},
        switch::Switch,
    },
    metrics::{Metrics, Reason},
};

/// Snapshots (queue, roster, status) go out at most this often per connection: a burst of
/// changes costs one frame, not one per change per console.
const SNAPSHOT_DEBOUNCE: Duration = Duration::from_millis(50);

/// How long the `ack` of a client's own message may wait for another frame to the same socket
/// (in a conversation, usually the reply) so that both go out in one write, as TCP holds its
/// own acknowledgements: one write and one read instead of two on each side (issue 10).
const ACK_DELAY: Duration = Duration::from_millis(5);

pub(super) async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut inbox: Inbox,
    limits: Limits,
    stop: Switch,
    metrics: Metrics,
    probe: Probe,
) {
    let mut ping = tokio::time::interval((limits.idle_timeout / 3).max(Duration::from_millis(100)));
    ping.tick().await;
    let kill = inbox.kill.clone();
    let mut out = Writer {
        sink: &mut sink,
        timeout: limits.write_timeout,
        kill: &kill,
    };
    // When the newest snapshots go out; changes in between replace them.
    let mut flush_at: Option<Instant> = None;
    // Acks waiting for company (`ACK_DELAY`), and until when.
    let mut held: Vec<Message> = Vec::new();
    let mut held_until: Option<Instant> = None;
    // What to say last: a close frame, or nothing (stopped, or the client cannot take it).
    let last = 'frames: loop {
        let message = tokio::select! {
            biased;
            _ = stop.cancelled() => break None,
            _ = kill.cancelled() => break Some(close_message(1013, ErrorCode::SlowConsumer)),
            frame = inbox.rx.recv() => match frame {
                Some(first) => {
                    // What is already queued goes out with one flush: a burst costs one write
                    // instead of one per frame.
                    let (ready, close, only_acks) = ready_frames(first, &mut inbox.rx);
                    if only_acks && close.is_none() && held.len() + ready.len() < MAX_BATCH {
                        held.extend(ready);
                        held_until.get_or_insert_with(|| Instant::now() + ACK_DELAY);
                        continue;
                    }
                    held_until = None;
                    let mut messages = std::mem::take(&mut held);
                    messages.extend(ready);
                    // No probe before a close: there is nothing left to watch.
                    if close.is_none() {
                        messages.extend(probe.ping_if_due(Instant::now()));
                    }
                    if let Err(last) = out.send_all(messages).await {
                        if last.is_none() {
                            metrics.rejected(Reason::write_timeout);
                        }
                        break 'frames last;
                    }
                    match close {
                        Some(close) => break Some(close),
                        None => continue,
                    }
                }
                None => break None,
            },
            _ = inbox.latest.changed.notified() => {
                flush_at.get_or_insert_with(|| Instant::now() + SNAPSHOT_DEBOUNCE);
                continue;
            }
            // One timer for held acks, due snapshots and the stall probe: each `Sleep` is part
            // of every connection's memory.
            _ = sleep_until_some([held_until, flush_at, probe.due_at()].into_iter().flatten().min()) => {
                let now = Instant::now();
                let snapshots_due = flush_at.is_some_and(|at| at <= now);
                let mut batch = Vec::new();
                if snapshots_due || held_until.is_some_and(|at| at <= now) {
                    held_until = None;
                    batch.append(&mut held);
                }
                if snapshots_due {
                    flush_at = None;
                    batch.extend(inbox.latest.take().iter().map(|t| Message::Text(t.as_ref().into())));
                }
                if !batch.is_empty() || probe.due_at().is_some_and(|at| at <= now) {
                    batch.extend(probe.ping_if_due(now));
                }
                if batch.is_empty() {
                    continue;
                }
                if let Err(last) = out.send_all(batch).await {
                    if last.is_none() {
                        metrics.rejected(Reason::write_timeout);
                    }
                    break 'frames last;
                }
                continue;
            }
            // The keep-alive doubles as a probe, so a quiet chat's stall is noticed too.
            _ = ping.tick() => probe.ping_if_due(Instant::now()).unwrap_or(Message::Ping(Default::default())),
        };
        if let Err(last) = out.send(message).await {
            if last.is_none() {
                metrics.rejected(Reason::write_timeout);
            }
            break last;
        }
    };
    if let Some(close) = last {
        let _ = tokio::time::timeout(limits.write_timeout, sink.send(close)).await;
    }
    // Flushes what tungstenite still owes (e.g. the reply to the client's close).
    let _ = tokio::time::timeout(limits.close_timeout, sink.close()).await;
}

/// The sending half with the write timeout and the hub's kill switch.
struct Writer<'a> {
    sink: &'a mut SplitSink<WebSocket, Message>,
    timeout: Duration,
    kill: &'a Switch,
}

impl Writer<'_> {
    /// Sends `messages` with one flush at the end, under the same timeout and kill switch as
    /// [`Writer::send`].
    async fn send_all(&mut self, messages: Vec<Message>) -> Result<(), Option<Message>> {
        let sink = &mut *self.sink;
        let write = async move {
            for message in messages {
                sink.feed(message).await?;
            }
            sink.flush().await
        };
        tokio::select! {
            biased;
            _ = self.kill.cancelled() => Err(Some(close_message(1013, ErrorCode::SlowConsumer))),
            sent = tokio::time::timeout(self.timeout, write) => match sent {
                Ok(Ok(())) => Ok(()),
                _ => Err(None),
            },
        }
    }

    /// Sends one message. Fails when the client has not taken it within the write timeout (it
    /// is not reading: no close frame could reach it either) or when the hub gave up on it
    /// meanwhile (then the error holds the slow-consumer close frame to try).
    async fn send(&mut self, message: Message) -> Result<(), Option<Message>> {
        tokio::select! {
            biased;
            _ = self.kill.cancelled() => Err(Some(close_message(1013, ErrorCode::SlowConsumer))),
            sent = tokio::time::timeout(self.timeout, self.sink.send(message)) => match sent {
                Ok(Ok(())) => Ok(()),
                _ => Err(None),
            },
        }
    }
}

/// Frames written with one flush at most (so one burst cannot hold the writer for long).
const MAX_BATCH: usize = 64;

/// `first` and the frames already queued behind it (up to [`MAX_BATCH`]), as messages; a close
/// ends the burst and is returned apart, to be sent after them. The flag: they are all acks.
fn ready_frames(
    first: Frame,
    rx: &mut crate::hub::outbox::Receiver,
) -> (Vec<Message>, Option<Message>, bool) {
    let mut messages = Vec::new();
    let mut only_acks = true;
    let mut next = Some(first);
    while let Some(frame) = next.take() {
        only_acks &= matches!(frame, Frame::Ack(_));
        match frame {
            Frame::Text(text) | Frame::Ack(text) => {
                messages.push(Message::Text(text.as_ref().into()))
            }
            Frame::Batch(texts) => {
                messages.extend(texts.iter().map(|t| Message::Text(t.as_ref().into())))
            }
            Frame::Close(code, reason) => {
                return (messages, Some(close_message(code, reason)), false)
            }
        }
        if messages.len() < MAX_BATCH {
            next = rx.try_recv().ok();
        }
    }
    (messages, None, only_acks)
}

/// Waits for `at`, or forever when there is nothing to wait for.
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

pub(super) fn close_message(code: u16, reason: ErrorCode) -> Message {
    let reason = serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}
