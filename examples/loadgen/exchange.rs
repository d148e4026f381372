//! The measured part of a chatter, the same against Haven and against the bare relay: send on a
//! schedule (open loop) or keep N messages outstanding (closed loop), match every echo to its
//! send by the sequence number its text carries, and time the round trip. Only how an incoming
//! frame is read differs between the targets ([`Heard`]).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use tokio::time::{sleep_until, timeout, Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;

use crate::frames::{send, Ws};
use crate::percentile::micros;

/// How long chatters wait for the echoes still in flight after the last send.
pub const DRAIN: Duration = Duration::from_secs(3);

/// When the load phase happens, sent to every chatter once every pair is ready.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub start: Instant,
    pub measure_from: Instant,
    pub send_until: Instant,
}

/// What every chatter sends, and how fast.
#[derive(Clone, Debug)]
pub struct Load {
    /// Pairs in the run (to spread the open-loop schedules over one period).
    pub pairs: usize,
    /// Messages per second; 0 = closed loop.
    pub rate: f64,
    /// Closed loop: messages each chatter keeps outstanding.
    pub in_flight: usize,
    /// Bytes of text per message.
    pub text_bytes: usize,
    /// Stop after this many messages (warm-up included).
    pub messages: Option<u64>,
}

#[derive(Default, Debug)]
pub struct PairStats {
    /// Round trips (microseconds) of messages scheduled inside the measured window; their count
    /// is the pair's share of the throughput (fairness).
    pub rtt_us: Vec<u32>,
    /// Chatter message -> `ack` (microseconds), measured window only (Haven only).
    pub ack_us: Vec<u32>,
    pub sent: u64,
    pub echoed: u64,
    pub measured_sent: u64,
    pub lost: u64,
    pub errors: BTreeMap<String, u64>,
}

/// What a frame the chatter received means for the measurement.
pub enum Heard {
    /// The echo of message `seq`.
    Echo(u64),
    /// The server's `ack` of message `seq`.
    Ack(u64),
    Error(String),
    /// The chat is over.
    Ended,
    Other,
}

/// The chatter's message `seq`, as the chat page would send it: `{"type":"message","id":"c<seq>",
/// "text":"<seq> xxx…"}` with `text_bytes` of text.
pub fn message_frame(seq: u64, text_bytes: usize) -> Value {
    let mut text = format!("{seq} ");
    text.extend(std::iter::repeat_n(
        'x',
        text_bytes.saturating_sub(text.len()),
    ));
    json!({"type": "message", "id": format!("c{seq}"), "text": text})
}

/// The sequence number a message's text starts with.
pub fn parse_seq(text: &str) -> Option<u64> {
    text.split(' ').next()?.parse().ok()
}

/// The sequence number in a message id `c<seq>`.
pub fn parse_id(id: &str) -> Option<u64> {
    id.strip_prefix('c')?.parse().ok()
}

/// Waits for `want` setup tasks to report ready, until `deadline`.
pub async fn wait_ready(
    rx: &mut mpsc::Receiver<Result<usize>>,
    want: usize,
    deadline: Instant,
    what: &str,
) -> Result<()> {
    let mut got = 0;
    while got < want {
        match timeout(
            deadline.saturating_duration_since(Instant::now()),
            rx.recv(),
        )
        .await
        {
            Ok(Some(Ok(_))) => got += 1,
            Ok(Some(Err(e))) => {
                return Err(e.context(format!("setup failed ({got}/{want} {what})")))
            }
            Ok(None) => bail!("setup tasks ended early ({got}/{want} {what})"),
            Err(_) => bail!("setup timed out: {got}/{want} {what} (raise --setup-timeout?)"),
        }
    }
    Ok(())
}

/// Waits for the plan, reading the socket meanwhile so pings are answered.
pub async fn wait_for_plan(
    ws: &mut Ws,
    plan_rx: &mut watch::Receiver<Option<Plan>>,
    who: &str,
) -> Result<Plan> {
    loop {
        if let Some(plan) = *plan_rx.borrow_and_update() {
            return Ok(plan);
        }
        // Bounded by the setup of the others.
        tokio::select! {
            changed = plan_rx.changed() => {
                if changed.is_err() {
                    bail!("load generator stopped before the load phase");
                }
            }
            message = timeout(Duration::from_secs(600), ws.next()) => {
                match message {
                    Ok(Some(Ok(_))) => {}
                    _ => bail!("{who}: socket closed while waiting for the start"),
                }
            }
        }
    }
}

/// Sends and times messages as `load` says, from `plan.start` until every echo is back or
/// [`DRAIN`] after `plan.send_until`. `hear` reads each incoming frame.
pub async fn exchange(
    ws: &mut Ws,
    i: usize,
    load: &Load,
    plan: Plan,
    hear: impl Fn(&Value) -> Heard,
) -> Result<PairStats> {
    let mut stats = PairStats::default();
    let closed_loop = load.rate == 0.0;
    let period = if closed_loop {
        Duration::from_secs(3600)
    } else {
        Duration::from_secs_f64(1.0 / load.rate)
    };
    // Spread the pairs' schedules over one period so they do not all fire on the same tick.
    let offset = if closed_loop {
        Duration::ZERO
    } else {
        period.mul_f64((i % load.pairs.max(1)) as f64 / load.pairs as f64)
    };
    let mut ticker = tokio::time::interval_at(plan.start + offset, period);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let limit = load.messages.unwrap_or(u64::MAX);
    let mut out = Outgoing {
        in_flight: HashMap::new(),
        next_seq: 0,
        text_bytes: load.text_bytes,
    };
    let mut sending = true;
    let drain_until = plan.send_until + DRAIN;

    if closed_loop {
        sleep_until(plan.start).await;
        for _ in 0..load.in_flight.max(1) {
            if stats.sent >= limit {
                break;
            }
            let now = Instant::now();
            out.send(ws, now).await?;
            stats.count_sent(now, &plan);
        }
    }
    loop {
        if !sending && out.in_flight.is_empty() {
            break;
        }
        tokio::select! {
            scheduled = ticker.tick(), if sending && !closed_loop => {
                if scheduled >= plan.send_until || stats.sent >= limit {
                    sending = false;
                    continue;
                }
                if out.send(ws, scheduled).await.is_err() {
                    break;
                }
                stats.count_sent(scheduled, &plan);
            }
            _ = sleep_until(drain_until) => break,
            message = ws.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(frame))) => {
                        // E.g. Haven's `slow_consumer`: counted, so that the losses it causes
                        // have a name in the report.
                        let why = frame.map_or_else(|| "no reason".to_string(), |f| f.reason.to_string());
                        *stats.errors.entry(format!("closed: {why}")).or_default() += 1;
                        break;
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => {
                        *stats.errors.entry("socket lost".to_string()).or_default() += 1;
                        break;
                    }
                };
                let now = Instant::now();
                let Ok(frame) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                match hear(&frame) {
                    Heard::Echo(seq) => {
                        let Some(sent_at) = out.in_flight.remove(&seq) else { continue };
                        stats.echoed += 1;
                        if sent_at >= plan.measure_from && sent_at < plan.send_until {
                            stats.rtt_us.push(micros(now - sent_at));
                        }
                        if closed_loop && sending {
                            if now >= plan.send_until || stats.sent >= limit {
                                sending = false;
                            } else {
                                out.send(ws, now).await?;
                                stats.count_sent(now, &plan);
                            }
                        }
                    }
                    Heard::Ack(seq) => {
                        if let Some(sent_at) = out.in_flight.get(&seq) {
                            if *sent_at >= plan.measure_from && *sent_at < plan.send_until {
                                stats.ack_us.push(micros(now - *sent_at));
                            }
                        }
                    }
                    Heard::Error(code) => *stats.errors.entry(code).or_default() += 1,
                    Heard::Ended => break,
                    Heard::Other => {}
                }
            }
        }
    }
    stats.lost = out.in_flight.len() as u64;
    Ok(stats)
}

impl PairStats {
    fn count_sent(&mut self, at: Instant, plan: &Plan) {
        self.sent += 1;
        if at >= plan.measure_from {
            self.measured_sent += 1;
        }
    }
}

/// The messages a chatter sent and is still waiting to hear back.
struct Outgoing {
    /// Sequence number -> scheduled send time.
    in_flight: HashMap<u64, Instant>,
    next_seq: u64,
    text_bytes: usize,
}

impl Outgoing {
    async fn send(&mut self, ws: &mut Ws, at: Instant) -> Result<()> {
        self.next_seq += 1;
        let seq = self.next_seq;
        self.in_flight.insert(seq, at);
        send(ws, message_frame(seq, self.text_bytes))
            .await
            .map_err(|e| anyhow!("message {seq}: {e:#}"))
    }
}

/// What the other side of a pair (Haven's advocate, the relay's echoer) counted.
#[derive(Default, Debug)]
pub struct EchoerStats {
    pub echoed: u64,
    pub errors: BTreeMap<String, u64>,
    /// Haven's queue/advocates/overview snapshots among the frames received.
    pub snapshot_frames: u64,
    pub frames_in: u64,
    pub bytes_in: u64,
}

/// What a target's setup hands over: every pair connected and ready for the plan.
pub struct Started {
    pub chatters: Vec<tokio::task::JoinHandle<Result<PairStats>>>,
    pub echoers: Vec<tokio::task::JoinHandle<Result<EchoerStats>>>,
    /// Haven: the advocates' logins (seconds, and the server's RSS after them).
    pub logins_secs: Option<f64>,
    pub rss_logged_in: Option<u64>,
    /// When every echoing side was ready (Haven: every advocate available).
    pub echoers_ready_secs: f64,
}
