//! Whether a chat may take a voluntary form: the forms endpoint proves with the resume token
//! that a real chat exists (so the statistics cannot be stuffed), and each form is taken once.
//! Nothing links the stored answers back: the hub only answers yes or no and the queue.
//! Tokens arrive hashed (`hub::token_hash`): in cluster mode they cross to another node.

use std::time::Duration;

use super::{chat::ChatState, Hub};

/// Which form a ticket is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormSlot {
    Intake,
    Survey,
}

/// What the forms layer may know about the chat behind a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub queue: String,
    /// The person said they are under 13 (in this chat's intake): store none of their answers.
    pub under_13: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("no chat that is open or ended recently goes with this token")]
    NoChat,
    #[error("this chat has already sent this form")]
    AlreadyTaken,
}

impl Hub {
    /// Takes the chat's one ticket for `slot`: the chat must be open or have closed less than
    /// `window` ago.
    pub fn take_form_ticket(
        &self,
        token_hash: &[u8; 32],
        slot: FormSlot,
        window: Duration,
    ) -> Result<Ticket, TicketError> {
        let mut state = self.lock();
        let chat_id = *state.tokens.get(token_hash).ok_or(TicketError::NoChat)?;
        let chat = state.chats.get_mut(&chat_id).ok_or(TicketError::NoChat)?;
        if let ChatState::Closed { at } = chat.state {
            if at.elapsed() > window {
                return Err(TicketError::NoChat);
            }
        }
        let taken = match slot {
            FormSlot::Intake => &mut chat.forms.intake_taken,
            FormSlot::Survey => &mut chat.forms.survey_taken,
        };
        if *taken {
            return Err(TicketError::AlreadyTaken);
        }
        *taken = true;
        Ok(Ticket {
            queue: chat.queue.clone(),
            under_13: chat.forms.under_13,
        })
    }

    /// Gives a ticket back when its answers could not be stored, so the person may retry.
    pub fn return_form_ticket(&self, token_hash: &[u8; 32], slot: FormSlot) {
        let mut state = self.lock();
        let Some(chat_id) = state.tokens.get(token_hash).copied() else {
            return;
        };
        if let Some(chat) = state.chats.get_mut(&chat_id) {
            match slot {
                FormSlot::Intake => chat.forms.intake_taken = false,
                FormSlot::Survey => chat.forms.survey_taken = false,
            }
        }
    }

    /// Remembers, for this chat only and in memory only, that its person is under 13.
    pub fn mark_under_13(&self, token_hash: &[u8; 32]) {
        let mut state = self.lock();
        let Some(chat_id) = state.tokens.get(token_hash).copied() else {
            return;
        };
        if let Some(chat) = state.chats.get_mut(&chat_id) {
            chat.forms.under_13 = true;
        }
    }
}
