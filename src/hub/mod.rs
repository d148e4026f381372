//! The chat hub: queues, chats, transcripts, advocates and the purge. Plain Rust: it knows
//! nothing of HTTP or WebSockets. The socket layer hands it an [`Outbox`] per connection and
//! calls it with parsed, validated input; the hub answers by queueing frames into outboxes.
//!
//! All state sits behind one mutex that is never held across an `.await`: one lock is what
//! makes a claim, a transfer or an auto-assignment atomic, and every operation under it is
//! a few map look-ups and `try_send`s (see `docs/benchmarks.md`).

mod advocate;
mod chat;
mod chatter;
pub mod hours;
pub mod outbox;
pub mod purge;
mod queue;
mod roster;
mod state;
pub mod text;
mod transcript;

use std::{
    sync::{Arc, Mutex, MutexGuard, Weak},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use uuid::Uuid;

pub use advocate::{AdvocateHandle, LoginId, TransferTarget};
pub use chatter::{ChatterHandle, Hello};
use hours::ServiceHours;
use state::{send, State};

use crate::{
    config::{CannedResponse, Config, QueueConfig},
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
    pub queues: Vec<QueueConfig>,
    pub canned: Vec<CannedResponse>,
    pub hotline_phone: String,
    pub hotline_text: String,
    pub offline_note: String,
    pub hours: ServiceHours,
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
            queues: config.queues.clone(),
            canned: config.canned.clone(),
            hotline_phone: config.program.hotline_phone.clone(),
            hotline_text: config.program.hotline_text.clone(),
            offline_note: config.program.offline_note.clone(),
            hours: ServiceHours::parse(
                &config.service_hours.windows,
                config.service_hours.utc_offset_minutes,
            )
            .expect("validated with the configuration"),
        }
    }

    fn queue(&self, id: &str) -> Option<&QueueConfig> {
        self.queues.iter().find(|q| q.id == id)
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
        Hub {
            inner: Arc::new(Inner {
                settings,
                state: Mutex::new(State::default()),
            }),
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

    /// Runs `then` on the hub after `delay`, unless the hub is gone by then.
    fn after(&self, delay: Duration, then: impl FnOnce(Hub) + Send + 'static) {
        let weak = self.downgrade();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Some(hub) = Hub::upgrade(&weak) {
                then(hub);
            }
        });
    }

    pub fn is_open_now(&self) -> bool {
        self.inner.settings.hours.is_open_now()
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
            if let Some(chat) = state.chats.remove(id) {
                state.tokens.remove(&chat.token_hash);
                // Dropping the chat zeroizes its transcript and intake (`Chat::drop`).
            }
        }
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
            state.close(id);
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
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Hashes a resume token so the hub never holds a usable token at rest.
fn token_hash(token: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes()).into()
}
#[cfg(test)]
mod tests;
