//! What admins may change while Haven runs (queues, canned responses, the offline contacts,
//! service hours, each person's chat limit), as plain values. `crate::settings` validates and
//! stores an edit and hands the result here; the hub only swaps it in under its lock, so a
//! claim, a `hello` or a transfer sees either the old values or the new ones, never a mix.

use std::sync::Arc;

use uuid::Uuid;

use super::{hours::ServiceHours, state::State, Hub};
use crate::{
    config::{CannedResponse, Config, QueueConfig},
    protocol::{encode, ToConsole},
};

/// The program's live settings, as the hub acts on them.
#[derive(Debug, Clone)]
pub struct ProgramSettings {
    /// At least one; the first is where a `hello` without a queue goes, and where waiting
    /// chatters go when their queue is removed.
    pub queues: Vec<QueueConfig>,
    pub canned: Vec<CannedResponse>,
    /// The `offline` frame's contacts (the default language; the page translates from
    /// `/api/public/config`).
    pub hotline_phone: String,
    pub hotline_text: String,
    pub offline_note: String,
    pub hours: ServiceHours,
}

impl ProgramSettings {
    /// From a validated configuration (the file's, or the file's with admins' edits over it).
    pub fn from_config(config: &Config) -> ProgramSettings {
        ProgramSettings {
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

    pub fn queue(&self, id: &str) -> Option<&QueueConfig> {
        self.queues.iter().find(|q| q.id == id)
    }

    /// `id` if it is still a queue, else the default queue (for chats whose queue was removed).
    pub fn queue_or_default(&self, id: &str) -> &QueueConfig {
        self.queue(id).unwrap_or(&self.queues[0])
    }
}

impl State {
    /// How many chats this person may hold: their own limit, or the configured default.
    pub fn capacity(&self, staff_id: Uuid, default: usize) -> usize {
        self.max_chats.get(&staff_id).copied().unwrap_or(default)
    }
}

impl Hub {
    /// The live settings now (a cheap clone of a shared value).
    pub fn program(&self) -> Arc<ProgramSettings> {
        Arc::clone(&self.lock().program)
    }

    /// Applies new live settings at once. Chatters waiting in a queue that no longer exists
    /// move to the first queue, keeping their place in line; chats in progress keep their
    /// queue label until they end. Every console gets the new queues and canned responses
    /// (`settings`), then fresh snapshots. Returns how many waiting chatters were moved.
    pub fn set_program(&self, program: ProgramSettings) -> usize {
        assert!(!program.queues.is_empty(), "validated: at least one queue");
        let mut state = self.lock();
        let orphans: Vec<Uuid> = state
            .waiting
            .iter()
            .filter(|id| {
                state
                    .chats
                    .get(id)
                    .is_some_and(|c| program.queue(&c.queue).is_none())
            })
            .collect();
        let default = program.queues[0].id.clone();
        for chat_id in &orphans {
            state.waiting.move_to_queue(*chat_id, &default);
            if let Some(chat) = state.chats.get_mut(chat_id) {
                chat.queue = default.clone();
                chat.told_position = None;
            }
        }
        if !orphans.is_empty() {
            tracing::info!(
                moved = orphans.len(),
                queue = %default,
                "waiting chatters moved out of a removed queue"
            );
        }
        let frame = encode(&ToConsole::Settings {
            queues: &program.queues,
            canned: &program.canned,
        });
        for advocate in state.advocates.values() {
            if let Some(outbox) = &advocate.outbox {
                outbox.send(frame.clone());
            }
        }
        state.program = Arc::new(program);
        tracing::info!("live settings applied");
        state.publish(self.settings());
        orphans.len()
    }

    /// Sets one person's chat limit (`None`: the configured default). A connected advocate's
    /// console shows the new capacity at once; chats they already hold stay theirs.
    pub fn set_max_chats(&self, staff_id: Uuid, max_chats: Option<usize>) {
        let mut state = self.lock();
        match max_chats {
            Some(max) => state.max_chats.insert(staff_id, max),
            None => state.max_chats.remove(&staff_id),
        };
        tracing::info!(staff = %staff_id, "chat limit changed");
        state.publish(self.settings());
    }
}
