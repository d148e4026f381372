//! Noticing a connection that stalls without closing: a phone that lost its network keeps its
//! socket "open" for a minute, and the kernel takes Haven's writes as if they were delivered.
//!
//! The writer sends a WebSocket ping behind the frames it writes (in the same flush, at most
//! every [`PROBE_SPACING`]) and with its keep-alive. TCP delivers in order, so the client's pong
//! says that everything written before the ping has arrived. A ping unanswered after
//! `stall_after` means the connection has stalled: the session is told at once (and again when
//! the pong finally comes). Browsers answer pings by themselves; so does every conforming
//! client, and one that does not read for that long has stalled by any measure.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::Message;
use tokio::time::Instant;

/// Probes are sent at most this often, so that a busy chat costs a ping now and then, not one
/// per line.
pub const PROBE_SPACING: Duration = Duration::from_millis(500);

/// What a pong meant.
#[derive(Debug, PartialEq, Eq)]
pub enum Pong {
    /// The answer to the probe in flight.
    Answered,
    /// The answer to a probe that had been reported stalled: the connection is back.
    Recovered,
    /// Not an answer to our probe (unsolicited, or an old keep-alive).
    Other,
}

#[derive(Default)]
struct State {
    /// The probe in flight: its number and when it went out.
    outstanding: Option<(u32, Instant)>,
    /// When the last probe went out.
    last_sent: Option<Instant>,
    /// Something was written since the last probe, and no probe covers it yet.
    uncovered: bool,
    /// The stall was reported and not yet cleared.
    reported: bool,
    next_id: u32,
}

/// Shared by a connection's writer (which sends probes) and reader (which sees pongs and
/// watches the deadline). `None` inside when probing is off.
#[derive(Clone, Default)]
pub struct Probe(Option<Arc<Shared>>);

struct Shared {
    stall_after: Duration,
    state: Mutex<State>,
    /// Wakes the reader when a probe goes out, so that it watches the new deadline.
    sent: tokio::sync::Notify,
}

impl Probe {
    /// Reports a connection stalled once a probe goes unanswered for `stall_after`.
    pub fn new(stall_after: Duration) -> Probe {
        Probe(Some(Arc::new(Shared {
            stall_after,
            state: Mutex::default(),
            sent: tokio::sync::Notify::new(),
        })))
    }

    /// No probing (consoles, or `protection.stall_notice_ms = 0`).
    pub fn off() -> Probe {
        Probe(None)
    }

    fn with<T>(&self, f: impl FnOnce(&mut State, Duration) -> T) -> Option<T> {
        let shared = self.0.as_deref()?;
        let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
        Some(f(&mut state, shared.stall_after))
    }

    /// Resolves when a probe has gone out since the last call (never when probing is off).
    pub async fn sent(&self) {
        match self.0.as_deref() {
            Some(shared) => shared.sent.notified().await,
            None => std::future::pending().await,
        }
    }

    /// Frames were written (or the keep-alive is due): the ping to send with them, if one is
    /// due now. If not (one is in flight, or the last went out less than [`PROBE_SPACING`]
    /// ago), [`Probe::due_at`] says when to send it.
    pub fn ping_if_due(&self, now: Instant) -> Option<Message> {
        let ping = self
            .with(|s, _| {
                s.uncovered = true;
                ping_if_due(s, now)
            })
            .flatten();
        if let (Some(_), Some(shared)) = (&ping, self.0.as_deref()) {
            shared.sent.notify_one();
        }
        ping
    }

    /// When a probe owed for written frames may go out.
    pub fn due_at(&self) -> Option<Instant> {
        self.with(|s, _| match (s.uncovered, s.outstanding, s.last_sent) {
            (true, None, Some(last)) => Some(last + PROBE_SPACING),
            (true, None, None) => Some(Instant::now()),
            _ => None,
        })
        .flatten()
    }

    /// When the probe in flight counts as unanswered (unless already reported).
    pub fn deadline(&self) -> Option<Instant> {
        self.with(|s, stall_after| match s.outstanding {
            Some((_, sent)) if !s.reported => Some(sent + stall_after),
            _ => None,
        })
        .flatten()
    }

    /// The deadline passed: whether this is news (the stall was not reported yet).
    pub fn check_stalled(&self, now: Instant) -> bool {
        self.with(|s, stall_after| match s.outstanding {
            Some((_, sent)) if !s.reported && now >= sent + stall_after => {
                s.reported = true;
                true
            }
            _ => false,
        })
        .unwrap_or(false)
    }

    /// A pong arrived with this payload.
    pub fn on_pong(&self, payload: &[u8]) -> Pong {
        self.with(|s, _| match s.outstanding {
            Some((id, _)) if payload == id.to_be_bytes() => {
                s.outstanding = None;
                if std::mem::take(&mut s.reported) {
                    Pong::Recovered
                } else {
                    Pong::Answered
                }
            }
            _ => Pong::Other,
        })
        .unwrap_or(Pong::Other)
    }
}

fn ping_if_due(s: &mut State, now: Instant) -> Option<Message> {
    let spaced = s.last_sent.is_none_or(|last| now >= last + PROBE_SPACING);
    if s.outstanding.is_some() || !spaced {
        return None;
    }
    s.next_id = s.next_id.wrapping_add(1);
    s.outstanding = Some((s.next_id, now));
    s.last_sent = Some(now);
    s.uncovered = false;
    Some(Message::Ping(s.next_id.to_be_bytes().to_vec().into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(message: Message) -> Vec<u8> {
        match message {
            Message::Ping(p) => p.to_vec(),
            other => panic!("expected a ping, got {other:?}"),
        }
    }

    #[test]
    fn a_probe_goes_out_with_the_first_write_and_one_at_a_time() {
        let probe = Probe::new(Duration::from_millis(1500));
        let t0 = Instant::now();
        let first = payload(
            probe
                .ping_if_due(t0)
                .expect("the first write carries a probe"),
        );
        assert!(probe.ping_if_due(t0 + Duration::from_secs(1)).is_none());
        assert_eq!(probe.deadline(), Some(t0 + Duration::from_millis(1500)));
        assert_eq!(probe.on_pong(&first), Pong::Answered);
        assert_eq!(probe.deadline(), None);
    }

    #[test]
    fn writes_soon_after_a_probe_wait_for_the_spacing() {
        let probe = Probe::new(Duration::from_millis(1500));
        let t0 = Instant::now();
        let first = payload(probe.ping_if_due(t0).unwrap());
        probe.on_pong(&first);
        assert!(probe.ping_if_due(t0 + Duration::from_millis(100)).is_none());
        assert_eq!(probe.due_at(), Some(t0 + PROBE_SPACING));
        assert!(probe.ping_if_due(t0 + PROBE_SPACING).is_some());
        assert_eq!(probe.due_at(), None, "the write is covered now");
    }

    #[test]
    fn an_unanswered_probe_is_reported_once_and_its_late_pong_recovers() {
        let probe = Probe::new(Duration::from_millis(1500));
        let t0 = Instant::now();
        let ping = payload(probe.ping_if_due(t0).unwrap());
        assert!(!probe.check_stalled(t0 + Duration::from_millis(1000)));
        assert!(probe.check_stalled(t0 + Duration::from_millis(1500)));
        assert!(
            !probe.check_stalled(t0 + Duration::from_millis(3000)),
            "reported once"
        );
        assert_eq!(probe.deadline(), None);
        assert_eq!(probe.on_pong(b"other"), Pong::Other);
        assert_eq!(probe.on_pong(&ping), Pong::Recovered);
    }

    #[test]
    fn probing_off_sends_nothing_and_never_stalls() {
        let probe = Probe::off();
        let t0 = Instant::now();
        assert!(probe.ping_if_due(t0).is_none());
        assert!(probe.ping_if_due(t0).is_none());
        assert_eq!(probe.deadline(), None);
        assert!(!probe.check_stalled(t0 + Duration::from_secs(60)));
    }
}
