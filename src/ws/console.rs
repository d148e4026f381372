//! The advocate console's socket.

use uuid::Uuid;

use super::conn::{send_error, Session};
use crate::{
    error::{ErrorCode, HubError},
    hub::{
        outbox::Outbox,
        text::{ClientId, MessageText, Note},
        AdvocateHandle, Hub, TransferTarget,
    },
    protocol::{decode, encode, ConsoleFrame, ToConsole},
};

pub struct ConsoleSession {
    hub: Hub,
    me: AdvocateHandle,
    /// Where claims, transfers and ends are recorded (staff id and action only, issue 9).
    audit: Option<(crate::auth::Auth, Uuid)>,
}

impl ConsoleSession {
    pub fn new(hub: Hub, me: AdvocateHandle) -> ConsoleSession {
        hub.watch_service_hours();
        ConsoleSession {
            hub,
            me,
            audit: None,
        }
    }

    /// Records this staff member's claims, transfers, ends, reassignments and transcript
    /// readings in the audit log.
    pub fn audited(mut self, auth: crate::auth::Auth, staff: Uuid) -> ConsoleSession {
        self.audit = Some((auth, staff));
        self
    }

    /// Never the chat id or anything of the chat: who did which kind of thing, when.
    fn record(&self, action: &'static str) {
        if let Some((auth, staff)) = &self.audit {
            auth.audit
                .record(auth.clock.now(), Some(*staff), action, None, None);
        }
    }

    fn handle(&mut self, frame: ConsoleFrame, outbox: &Outbox) -> Result<(), HubError> {
        let hub = &self.hub;
        match frame {
            ConsoleFrame::Status { available } => hub.advocate_status(&self.me, available),
            ConsoleFrame::Claim { chat_id } => hub.claim(&self.me, chat_id)?,
            ConsoleFrame::Message { chat_id, id, text } => {
                let Some(id) = ClientId::parse(id) else {
                    send_error(
                        outbox,
                        ErrorCode::InvalidFrame,
                        "A message `id` is 1 to 64 characters.",
                        Some(chat_id),
                        None,
                    );
                    return Ok(());
                };
                let text = MessageText::parse(text, hub.settings().max_message_bytes);
                match text {
                    Ok(text) => hub.advocate_message(&self.me, chat_id, id, text)?,
                    Err(_) => {
                        let message = format!(
                            "A message is 1 to {} bytes of text.",
                            hub.settings().max_message_bytes
                        );
                        send_error(
                            outbox,
                            ErrorCode::MessageTooLong,
                            &message,
                            Some(chat_id),
                            Some(id.as_str()),
                        );
                    }
                }
            }
            ConsoleFrame::Typing { chat_id, on } => hub.advocate_typing(&self.me, chat_id, on)?,
            ConsoleFrame::Transfer {
                chat_id,
                to_advocate,
                to_queue,
                note,
            } => {
                let target = match (to_advocate, to_queue) {
                    (Some(advocate), None) => TransferTarget::Advocate(advocate),
                    (None, Some(queue)) => TransferTarget::Queue(queue),
                    _ => return Err(HubError::InvalidTransfer),
                };
                hub.transfer(&self.me, chat_id, target, Note::parse(note)?)?;
            }
            ConsoleFrame::End { chat_id } => hub.end(&self.me, chat_id)?,
            ConsoleFrame::ReadTranscript { chat_id } => hub.read_transcript(&self.me, chat_id)?,
            ConsoleFrame::Reassign {
                chat_id,
                to_advocate,
                to_queue,
            } => {
                let target = match (to_advocate, to_queue) {
                    (Some(advocate), None) => TransferTarget::Advocate(advocate),
                    (None, Some(queue)) => TransferTarget::Queue(queue),
                    _ => return Err(HubError::InvalidTransfer),
                };
                hub.reassign(&self.me, chat_id, target)?;
            }
            ConsoleFrame::Ping => {
                outbox.send(encode(&ToConsole::Pong));
            }
            ConsoleFrame::Advocates => hub.send_roster(&self.me)?,
        }
        Ok(())
    }
}

/// The chat a console frame is about, to put in its error.
fn chat_of(frame: &ConsoleFrame) -> Option<Uuid> {
    match frame {
        ConsoleFrame::Claim { chat_id }
        | ConsoleFrame::Message { chat_id, .. }
        | ConsoleFrame::Typing { chat_id, .. }
        | ConsoleFrame::Transfer { chat_id, .. }
        | ConsoleFrame::End { chat_id }
        | ConsoleFrame::Reassign { chat_id, .. }
        | ConsoleFrame::ReadTranscript { chat_id } => Some(*chat_id),
        ConsoleFrame::Status { .. } | ConsoleFrame::Ping | ConsoleFrame::Advocates => None,
    }
}

fn message_id(frame: &ConsoleFrame) -> Option<String> {
    match frame {
        ConsoleFrame::Message { id, .. } => Some(id.clone()),
        _ => None,
    }
}

impl Session for ConsoleSession {
    fn on_text(&mut self, text: &str, outbox: &Outbox) {
        let frame = match decode::<ConsoleFrame>(text, ConsoleFrame::TYPES) {
            Ok(frame) => frame,
            Err((code, message)) => {
                send_error(outbox, code, &message, None, None);
                return;
            }
        };
        let (chat_id, id) = (chat_of(&frame), message_id(&frame));
        let audited = match frame {
            ConsoleFrame::Claim { .. } => Some("chat_claimed"),
            ConsoleFrame::Transfer { .. } => Some("chat_transferred"),
            ConsoleFrame::End { .. } => Some("chat_ended"),
            ConsoleFrame::Reassign { .. } => Some("chat_reassigned"),
            // A supervisor reading a live transcript is what programs must be able to show.
            ConsoleFrame::ReadTranscript { .. } => Some("transcript_viewed"),
            _ => None,
        };
        let result = self.handle(frame, outbox);
        if let (Ok(()), Some(action)) = (&result, audited) {
            self.record(action);
        }
        if let Err(error) = result {
            send_error(
                outbox,
                error.code(),
                &error.to_string(),
                chat_id,
                id.as_deref(),
            );
        }
    }

    fn on_closed(&mut self) {
        self.hub.advocate_disconnected(&self.me);
    }
}
