//! What the hub holds in memory, kept in bounds: the budget for transcript text (closed chats
//! are purged early, oldest first, before a new chat is refused), and the room the maps give
//! back after a crowd has gone.

use super::{capacity::ReleaseSpare, chat::ChatState, state::State, transcript::Meter};

/// The transcript memory budget and what it measures.
pub(super) struct Memory {
    pub meter: Meter,
    pub budget: usize,
    /// Closed chats purged before their retention ended, to stay within the budget.
    pub purged_early: usize,
}

impl Default for Memory {
    fn default() -> Memory {
        Memory {
            meter: Meter::default(),
            budget: usize::MAX,
            purged_early: 0,
        }
    }
}

impl State {
    /// Gives back the room the maps kept from their busiest moment (after an attack, say).
    pub fn release_spare_capacity(&mut self) {
        self.chats.release_spare();
        self.tokens.release_spare();
        self.max_chats.release_spare();
        self.waiting.release_spare_capacity();
    }

    /// Purges closed chats early, the longest closed first, until `headroom` more bytes fit in
    /// the budget. Open chats are never touched. True when the headroom is there.
    pub fn relieve_memory(&mut self, headroom: usize) -> bool {
        let fits = |m: &Memory| m.meter.bytes().saturating_add(headroom) <= m.budget;
        while !fits(&self.memory) {
            let oldest = self
                .chats
                .values()
                .filter_map(|c| match c.state {
                    ChatState::Closed { at } => Some((at, c.id)),
                    _ => None,
                })
                .min();
            let Some((_, chat_id)) = oldest else {
                return false;
            };
            self.forget(chat_id);
            self.memory.purged_early += 1;
            tracing::info!(chat = %chat_id, "closed chat purged early: transcript memory budget");
        }
        true
    }
}
