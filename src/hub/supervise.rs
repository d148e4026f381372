//! What supervisors and admins may do to chats that are not theirs: end any open chat, or move
//! it to another advocate or queue. The role is checked here, in the hub, whatever the console
//! shows: an advocate gets `forbidden`.

use uuid::Uuid;

use super::{
    advocate::{AdvocateHandle, TransferTarget},
    chat::Handover,
    events::EndedBy,
    state::{send, State},
    Hub,
};
use crate::{
    error::HubError,
    protocol::{EndReason, ReleaseReason, ToChatter, ToConsole},
};

impl Hub {
    /// `end` from a console: one's own chat, or (supervisors and admins) any open chat. An
    /// advocate asking to end someone else's chat gets `chat_not_found`, as for any chat that
    /// is not theirs.
    pub fn end(&self, handle: &AdvocateHandle, chat_id: Uuid) -> Result<(), HubError> {
        match self.end_chat(handle, chat_id) {
            Err(HubError::ChatNotFound) if overseer(&self.lock(), handle).is_ok() => {
                self.supervisor_end(handle, chat_id)
            }
            other => other,
        }
    }

    /// A supervisor or admin ends an open chat (waiting or with any advocate).
    pub fn supervisor_end(&self, handle: &AdvocateHandle, chat_id: Uuid) -> Result<(), HubError> {
        let mut state = self.lock();
        overseer(&state, handle)?;
        open(&state, chat_id)?;
        let chat = state.chats.get(&chat_id).expect("checked");
        send(
            chat.chatter.as_ref(),
            &ToChatter::Ended {
                reason: EndReason::AdvocateEnded,
            },
        );
        state.release(chat_id, Some(ReleaseReason::EndedBySupervisor));
        // Counted as ended by staff in the statistics (who exactly is not recorded).
        state.close(chat_id, EndedBy::Supervisor);
        tracing::info!(chat = %chat_id, staff = %handle.staff_id, "supervisor ended chat");
        state.publish(self.settings());
        Ok(())
    }

    /// A supervisor or admin gives an open chat to another advocate (available, with room) or
    /// puts it in a queue. The chatter keeps their place in line and sees the usual system line.
    pub fn reassign(
        &self,
        handle: &AdvocateHandle,
        chat_id: Uuid,
        target: TransferTarget,
    ) -> Result<(), HubError> {
        let settings = self.settings();
        let mut state = self.lock();
        overseer(&state, handle)?;
        open(&state, chat_id)?;
        let chat = state.chats.get(&chat_id).expect("checked");
        let owner = chat.advocate();
        let handover = owner
            .and_then(|id| state.advocates.get(&id))
            .map(|a| Handover {
                from: a.staff.display_name.clone(),
                note: None,
            });
        match target {
            TransferTarget::Advocate(to) => {
                if owner == Some(to) {
                    return Err(HubError::InvalidTransfer);
                }
                let reason = ReleaseReason::Reassigned;
                state.hand_to_advocate(chat_id, to, reason, handover, settings.max_chats)?;
                tracing::info!(chat = %chat_id, staff = %handle.staff_id, to = %to, "supervisor reassigned chat to advocate");
            }
            TransferTarget::Queue(queue) => {
                let queue =
                    state.hand_to_queue(chat_id, &queue, ReleaseReason::Reassigned, handover)?;
                tracing::info!(chat = %chat_id, staff = %handle.staff_id, queue = %queue, "supervisor reassigned chat to queue");
            }
        }
        state.publish(settings);
        Ok(())
    }
}

impl Hub {
    /// A supervisor or admin reads an open chat's transcript, when the program allows it. Each
    /// reading is logged, with ids only.
    pub fn read_transcript(&self, handle: &AdvocateHandle, chat_id: Uuid) -> Result<(), HubError> {
        if !self.settings().may_read_transcripts {
            return Err(HubError::Forbidden);
        }
        let state = self.lock();
        overseer(&state, handle)?;
        open(&state, chat_id)?;
        let chat = state.chats.get(&chat_id).expect("checked");
        let advocate = chat
            .advocate()
            .and_then(|id| state.advocates.get(&id))
            .map_or("", |a| a.staff.display_name.as_str());
        let reader = state.advocates.get(&handle.staff_id).expect("checked");
        send(
            reader.outbox.as_ref(),
            &ToConsole::Transcript {
                chat_id,
                advocate,
                history: chat.transcript.all().map(|l| l.view()).collect(),
            },
        );
        tracing::info!(chat = %chat_id, staff = %handle.staff_id, "supervisor read a transcript");
        Ok(())
    }
}

/// The caller's console is live and their role oversees chats.
fn overseer(state: &State, handle: &AdvocateHandle) -> Result<(), HubError> {
    let advocate = state
        .advocates
        .get(&handle.staff_id)
        .filter(|a| a.conn == handle.conn)
        .ok_or(HubError::ChatNotFound)?;
    if advocate.staff.role.oversees() {
        Ok(())
    } else {
        Err(HubError::Forbidden)
    }
}

fn open(state: &State, chat_id: Uuid) -> Result<(), HubError> {
    match state.chats.get(&chat_id) {
        Some(chat) if chat.is_open() => Ok(()),
        Some(_) => Err(HubError::ChatClosed),
        None => Err(HubError::ChatNotFound),
    }
}
