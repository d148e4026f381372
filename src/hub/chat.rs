//! One chat: who is in it, where it stands, and its transcript.

use serde_json::{Map, Value};
use tokio::time::Instant;
use uuid::Uuid;

use super::{
    outbox::{Frame, Outbox},
    text::wipe_intake,
    transcript::Transcript,
};
use crate::protocol::{encode, ToConsole, TransferInfo};

pub enum ChatState {
    Waiting {
        /// Unix ms of the first time this chatter entered a queue.
        since_ms: u64,
        transferred: bool,
    },
    Active {
        advocate: Uuid,
        since_ms: u64,
    },
    Closed {
        /// When it closed; the purge task drops it after the retention period.
        at: Instant,
    },
}

/// A transfer's hand-over, kept until an advocate picks the chat up from a queue.
pub struct Handover {
    pub from: String,
    pub note: Option<zeroize::Zeroizing<String>>,
}

pub struct Chat {
    pub id: Uuid,
    /// SHA-256 of the resume token: the token itself is never kept.
    pub token_hash: [u8; 32],
    pub queue: String,
    pub language: Option<String>,
    pub intake: Option<Map<String, Value>>,
    pub state: ChatState,
    /// The chatter's live connection; `None` while they are away (within the grace period).
    pub chatter: Option<Outbox>,
    /// Id of the chatter's latest connection, so a stale socket's late events are ignored.
    pub chatter_conn: u64,
    /// Unix ms when the chatter first entered a queue; a transfer back to a queue keeps it.
    pub first_waited_ms: u64,
    /// Last `queued` position told to the chatter, to send only changes.
    pub told_position: Option<usize>,
    pub handover: Option<Handover>,
    pub transcript: Transcript,
    /// Unix ms when an advocate first joined; `None` while never answered.
    pub answered_ms: Option<u64>,
    /// Which voluntary forms this chat has sent (see `tickets.rs`).
    pub forms: FormsTaken,
    /// The grace timer started when the chatter's socket went away, cancelled on resume.
    pub grace_timer: Option<tokio::task::AbortHandle>,
}

/// Per chat, in memory only: forms sent, and whether the person said they are under 13.
#[derive(Debug, Default, Clone, Copy)]
pub struct FormsTaken {
    pub intake_taken: bool,
    pub survey_taken: bool,
    pub under_13: bool,
}

impl Chat {
    /// The `assigned` frame that hands this chat to an advocate, with its whole history.
    pub fn assigned_frame(&self, handover: Option<&Handover>) -> Frame {
        encode(&ToConsole::Assigned {
            chat_id: self.id,
            queue: &self.queue,
            language: self.language.as_deref(),
            intake: self.intake.as_ref(),
            history: self.transcript.all().map(|l| l.view()).collect(),
            chatter_connected: self.chatter.is_some(),
            transfer: handover.map(|h| TransferInfo {
                from: &h.from,
                note: h.note.as_deref().map(String::as_str),
            }),
        })
    }

    pub fn is_open(&self) -> bool {
        !matches!(self.state, ChatState::Closed { .. })
    }

    pub fn advocate(&self) -> Option<Uuid> {
        match self.state {
            ChatState::Active { advocate, .. } => Some(advocate),
            _ => None,
        }
    }

    /// Zeroizes everything a person typed into this chat.
    pub fn wipe(&mut self) {
        self.transcript.wipe();
        if let Some(intake) = self.intake.as_mut() {
            wipe_intake(intake);
        }
        self.intake = None;
        self.handover = None;
    }
}

impl Drop for Chat {
    fn drop(&mut self) {
        self.wipe();
    }
}
