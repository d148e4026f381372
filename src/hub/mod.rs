//! The chat hub: queues, chats, transcripts, advocates and the purge. Plain Rust: it knows
//! nothing of HTTP or WebSockets. The socket layer hands it an [`Outbox`] per connection and
//! calls it with parsed, validated input; the hub answers by queueing frames into outboxes.
//!
//! All state sits behind one mutex that is never held across an `.await`: one lock is what
//! makes a claim, a transfer or an auto-assignment atomic, and every operation under it is
//! a few map look-ups and `try_send`s (see `docs/benchmarks.md`).

mod advocate;
mod budget;
mod capacity;
mod chat;
mod chatter;
mod chatter_link;
pub mod events;
mod handover;
pub mod hours;
pub mod outbox;
mod program;
pub mod purge;
mod queue;
mod roster;
mod snapshots;
mod state;
mod supervise;
pub mod switch;
pub mod text;
mod tickets;
mod transcript;

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, MutexGuard, Weak,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use uuid::Uuid;

pub use advocate::{AdvocateHandle, LoginId, TransferTarget};
pub use chatter::{ChatterHandle, Hello};
pub use events::{ChatEvent, EndedBy, Recorder};
pub use program::ProgramSettings;
pub use roster::Presence;
use state::{send, State};
pub use tickets::{FormSlot, Ticket, TicketError};

use crate::{
    config::Config,
    error::ErrorCode,
    protocol::{EndReason, ToChatter, ToConsole},
};

/// The parts of the configuration the hub acts on.
pub struct Settings {
    pub max_message_bytes: usize,
    pub max_chats: usize,
    pub auto_assign: bool,
    pub grace: Duration,
    pub retention: Duration,
    pub purge_interval: Duration,
    pub max_transcript_messages: usize,
    pub max_transcript_bytes: usize,
    pub max_waiting: usize,
    /// The starting values of what admins may change while Haven runs (`Hub::set_program`).
    pub program: ProgramSettings,
    pub may_read_transcripts: bool,
    /// Intake answers every console must NOT see in the queue list: a name, other free text
    /// and the zip code go only to the advocate who takes the chat.
    pub queue_hidden_intake: Vec<String>,
    /// Where chat events go for the statistics; `None` counts nothing.
    pub recorder: Option<Arc<dyn Recorder>>,
    /// How long a waiting (not yet answered) chatter's place is kept after their socket drops.
    pub waiting_grace: Duration,
    /// Bytes of transcript text all chats together may hold (see `State::relieve_memory`).
    pub memory_budget: usize,
}

impl Settings {
    pub fn from_config(config: &Config) -> Settings {
        let chat = &config.chat;
        Settings {
            max_message_bytes: chat.max_message_bytes,
            max_chats: chat.max_chats_per_advocate,
            auto_assign: chat.auto_assign,
            grace: Duration::from_secs(chat.resume_grace_secs),
            retention: Duration::from_secs(chat.retention_after_close_secs),
            purge_interval: Duration::from_secs(chat.purge_interval_secs),
            max_transcript_messages: chat.max_transcript_messages,
            max_transcript_bytes: chat.max_transcript_bytes,
            max_waiting: chat.max_waiting,
            program: ProgramSettings::from_config(config),
            may_read_transcripts: config.supervisors.may_read_transcripts,
            queue_hidden_intake: config
                .forms
                .intake
                .questions
                .iter()
                .filter(|q| !q.kind.is_choice() || q.never_stored)
                .map(|q| q.id.clone())
                .collect(),
            recorder: None,
            waiting_grace: Duration::from_secs(config.protection.waiting_grace_secs),
            memory_budget: config.protection.transcript_memory_budget_bytes,
        }
    }
}

/// A cheap, cloneable handle to the hub.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    state: Mutex<State>,
    purge_runs: AtomicU64,
    chats_purged: AtomicU64,
    /// New chats refused because live chats fill the transcript memory budget.
    refused_for_memory: AtomicU64,
}

/// Totals of the purge since start (for metrics).
#[derive(Debug, Clone, Copy)]
pub struct PurgeStats {
    pub runs: u64,
    pub chats: u64,
}

/// Counts for health checks and logs: numbers only, never who.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Counts {
    pub waiting: usize,
    pub active: usize,
    pub closed_awaiting_purge: usize,
    pub staff_online: usize,
}

impl Hub {
    pub fn new(settings: Settings) -> Hub {
        let mut state = State::new(settings.program.clone());
        state.recorder = settings.recorder.clone();
        state.memory.budget = settings.memory_budget;
        Hub {
            inner: Arc::new(Inner {
                settings,
                state: Mutex::new(state),
                purge_runs: AtomicU64::new(0),
                chats_purged: AtomicU64::new(0),
                refused_for_memory: AtomicU64::new(0),
            }),
        }
    }

    /// Bytes of transcript text in memory, open and closed chats together.
    pub fn transcript_bytes(&self) -> usize {
        self.lock().memory.meter.bytes()
    }

    /// New chats refused (`offline` `busy`) to keep within the memory budget, since start.
    pub fn refused_for_memory(&self) -> u64 {
        self.inner.refused_for_memory.load(Ordering::Relaxed)
    }

    pub fn purge_stats(&self) -> PurgeStats {
        let i = &self.inner;
        PurgeStats {
            runs: i.purge_runs.load(Ordering::Relaxed),
            chats: i.chats_purged.load(Ordering::Relaxed) + self.lock().memory.purged_early as u64,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere must not stop every other chat: take the state as it is.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn downgrade(&self) -> Weak<Inner> {
        Arc::downgrade(&self.inner)
    }

    fn upgrade(weak: &Weak<Inner>) -> Option<Hub> {
        weak.upgrade().map(|inner| Hub { inner })
    }

    /// Runs `then` on the hub after `delay`, unless the hub is gone by then. The handle lets
    /// a reconnect cancel a grace timer that no longer matters, so that sockets which come and
    /// go do not pile up sleeping tasks.
    fn after(
        &self,
        delay: Duration,
        then: impl FnOnce(Hub) + Send + 'static,
    ) -> tokio::task::AbortHandle {
        let weak = self.downgrade();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Some(hub) = Hub::upgrade(&weak) {
                then(hub);
            }
        })
        .abort_handle()
    }

    pub fn is_open_now(&self) -> bool {
        self.lock().program.hours.is_open_now()
    }

    /// Advocates connected and available right now (a number, never who).
    pub fn on_duty(&self) -> usize {
        self.lock().on_duty()
    }

    pub fn counts(&self) -> Counts {
        let state = self.lock();
        let active = state
            .chats
            .values()
            .filter(|c| c.advocate().is_some())
            .count();
        let open = state.chats.values().filter(|c| c.is_open()).count();
        Counts {
            waiting: state.waiting.len(),
            active,
            closed_awaiting_purge: state.chats.len() - open,
            staff_online: state.advocates.values().filter(|a| a.connected()).count(),
        }
    }

    /// Drops closed chats older than the retention period; their text is zeroized.
    pub fn purge_closed(&self) -> usize {
        let retention = self.inner.settings.retention;
        let mut state = self.lock();
        let expired: Vec<Uuid> = state
            .chats
            .values()
            .filter(
                |c| matches!(c.state, chat::ChatState::Closed { at } if at.elapsed() >= retention),
            )
            .map(|c| c.id)
            .collect();
        for id in &expired {
            state.forget(*id);
        }
        state.release_spare_capacity();
        self.inner.purge_runs.fetch_add(1, Ordering::Relaxed);
        self.inner
            .chats_purged
            .fetch_add(expired.len() as u64, Ordering::Relaxed);
        expired.len()
    }

    /// Tells every chatter their chat ended and every console that Haven is closing.
    pub fn shutdown(&self) {
        let mut state = self.lock();
        state.closing = true;
        let open: Vec<Uuid> = state
            .chats
            .values()
            .filter(|c| c.is_open())
            .map(|c| c.id)
            .collect();
        for id in open {
            // The console hears about each chat it loses, then `server_closing` once.
            state.release(id, Some(crate::protocol::ReleaseReason::ServerClosing));
            if let Some(chat) = state.chats.get(&id) {
                send(
                    chat.chatter.as_ref(),
                    &ToChatter::Ended {
                        reason: EndReason::ServerClosing,
                    },
                );
                if let Some(outbox) = &chat.chatter {
                    outbox.close(1001, ErrorCode::ServerClosing);
                }
            }
            state.close(id, EndedBy::ServerClosing);
        }
        for advocate in state.advocates.values() {
            send(advocate.outbox.as_ref(), &ToConsole::ServerClosing);
            if let Some(outbox) = &advocate.outbox {
                outbox.close(1001, ErrorCode::ServerClosing);
            }
        }
        tracing::info!("hub told every connection that Haven is closing");
    }
}

/// Now, in Unix milliseconds (what the wire protocol carries).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Hashes a resume token so the hub never holds a usable token at rest.
pub fn token_hash(token: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes()).into()
}
#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod tests;
