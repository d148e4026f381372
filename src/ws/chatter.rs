//! The chatter's socket: anonymous, one chat at a time.

use super::conn::{send_error, Session};
use crate::{
    error::{ErrorCode, HubError},
    hub::{
        outbox::Outbox,
        text::{parse_language, ClientId, Intake, MessageText},
        ChatterHandle, Hello, Hub,
    },
    protocol::{decode, encode, ChatterFrame, ToChatter, PROTOCOL_VERSION},
};

/// Why a frame was not carried out.
enum Refusal {
    /// The hub said no; `id` is the client message id it concerned.
    Hub(HubError, Option<String>),
    /// Already answered with its own error frame.
    Answered,
}

impl From<HubError> for Refusal {
    fn from(error: HubError) -> Refusal {
        Refusal::Hub(error, None)
    }
}

pub struct ChatterSession {
    hub: Hub,
    chat: Option<ChatterHandle>,
}

impl ChatterSession {
    pub fn new(hub: Hub) -> ChatterSession {
        ChatterSession { hub, chat: None }
    }

    fn handle(&mut self, frame: ChatterFrame, outbox: &Outbox) -> Result<(), Refusal> {
        match frame {
            ChatterFrame::Hello {
                v,
                queue,
                language,
                intake,
            } => {
                self.check_version(v, outbox)?;
                self.check_not_started()?;
                let intake = Intake::parse(intake)?;
                let hello = Hello {
                    queue,
                    language: parse_language(language),
                    intake,
                };
                self.chat = self.hub.chatter_hello(outbox, hello)?;
            }
            ChatterFrame::Resume { v, token, last_seq } => {
                self.check_version(v, outbox)?;
                self.check_not_started()?;
                self.chat = Some(self.hub.chatter_resume(outbox, &token, last_seq)?);
            }
            ChatterFrame::Message { id, text } => {
                let chat = self.chat.ok_or(HubError::NotStarted)?;
                let Some(client_id) = ClientId::parse(id) else {
                    send_error(
                        outbox,
                        ErrorCode::InvalidFrame,
                        "A message `id` is 1 to 64 characters.",
                        None,
                        None,
                    );
                    return Ok(());
                };
                let text = MessageText::parse(text, self.hub.settings().max_message_bytes)
                    .map_err(|e| Refusal::Hub(e, Some(client_id.as_str().to_owned())))?;
                let id = client_id.as_str().to_owned();
                self.hub
                    .chatter_message(&chat, client_id, text)
                    .map_err(|e| Refusal::Hub(e, Some(id)))?;
            }
            ChatterFrame::Typing { on } => {
                let chat = self.chat.ok_or(HubError::NotStarted)?;
                self.hub.chatter_typing(&chat, on)?;
            }
            ChatterFrame::Leave => {
                let chat = self.chat.ok_or(HubError::NotStarted)?;
                self.hub.chatter_leave(&chat)?;
            }
            ChatterFrame::Ping => {
                outbox.send(encode(&ToChatter::Pong));
            }
        }
        Ok(())
    }

    fn check_version(&self, v: u32, outbox: &Outbox) -> Result<(), Refusal> {
        if v != PROTOCOL_VERSION {
            send_error(
                outbox,
                ErrorCode::UnsupportedVersion,
                "This server speaks protocol version 1.",
                None,
                None,
            );
            return Err(Refusal::Answered);
        }
        Ok(())
    }

    /// A socket holds one open chat; after it ended, a new `hello` may start another.
    fn check_not_started(&self) -> Result<(), Refusal> {
        match &self.chat {
            Some(chat) if self.hub.chat_is_open(chat) => Err(HubError::AlreadyStarted.into()),
            _ => Ok(()),
        }
    }
}

impl Session for ChatterSession {
    fn on_text(&mut self, text: &str, outbox: &Outbox) {
        let frame = match decode::<ChatterFrame>(text, ChatterFrame::TYPES) {
            Ok(frame) => frame,
            Err((code, message)) => {
                send_error(outbox, code, &message, None, None);
                return;
            }
        };
        if let Err(Refusal::Hub(error, id)) = self.handle(frame, outbox) {
            let message = if error == HubError::MessageTooLong {
                format!(
                    "A message is 1 to {} bytes of text.",
                    self.hub.settings().max_message_bytes
                )
            } else {
                error.to_string()
            };
            send_error(outbox, error.code(), &message, None, id.as_deref());
        }
    }

    fn on_closed(&mut self) {
        if let Some(chat) = &self.chat {
            self.hub.chatter_disconnected(chat);
        }
    }
}
