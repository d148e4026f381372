//! Moving an open chat from whoever holds it to another advocate or a queue: one path for an
//! advocate's transfer and a supervisor's reassignment, so both tell the chatter the same way
//! and respect the same limits.

use uuid::Uuid;

use super::{
    chat::{ChatState, Handover},
    state::State,
};
use crate::{
    error::HubError,
    protocol::{ReleaseReason, Sender, SystemNote},
};

impl State {
    /// Gives `chat_id` to advocate `to`, who must be connected, available and below their own
    /// limit (or `max_chats`). The chatter sees the usual system line.
    pub fn hand_to_advocate(
        &mut self,
        chat_id: Uuid,
        to: Uuid,
        reason: ReleaseReason,
        handover: Option<Handover>,
        max_chats: usize,
    ) -> Result<(), HubError> {
        let ready = self.advocates.get(&to).is_some_and(|a| {
            a.connected() && a.available && a.load() < self.capacity(to, max_chats)
        });
        if !ready {
            return Err(HubError::TargetUnavailable);
        }
        self.post(
            chat_id,
            Sender::System,
            "You are being connected to another advocate.".into(),
            Some(SystemNote::TransferToAdvocate),
        );
        self.release(chat_id, Some(reason));
        if let Some(chat) = self.chats.get_mut(&chat_id) {
            chat.state = ChatState::Waiting {
                since_ms: chat.first_waited_ms,
                transferred: true,
            };
        }
        self.assign(chat_id, to, handover);
        Ok(())
    }

    /// Puts `chat_id` in line in `queue`, keeping the place its first wait earned; the chatter
    /// is told so. Returns the queue's id.
    pub fn hand_to_queue(
        &mut self,
        chat_id: Uuid,
        queue: &str,
        reason: ReleaseReason,
        handover: Option<Handover>,
    ) -> Result<String, HubError> {
        let program = std::sync::Arc::clone(&self.program);
        let queue = program.queue(queue).ok_or(HubError::UnknownQueue)?;
        self.post(
            chat_id,
            Sender::System,
            format!(
                "You are being transferred to {}. Please stay: you keep your place in line.",
                queue.name
            ),
            Some(SystemNote::TransferToQueue),
        );
        self.release(chat_id, Some(reason));
        // A supervisor may move a chat that is still waiting; an advocate's is never in line.
        self.waiting.remove(chat_id);
        self.requeue(chat_id, queue.id.clone(), handover);
        Ok(queue.id.clone())
    }
}
