//! The chatter's socket: anonymous, one chat at a time.

use std::time::Duration;

use tokio::time::Instant;

use super::conn::{send_error, Session};
use crate::{
    abuse::{proof::Challenge, ClientKey, Protection},
    error::{ErrorCode, HubError},
    hub::{
        outbox::Outbox,
        text::{parse_language, ClientId, Intake, MessageText},
        ChatterHandle, Hello, Hub,
    },
    metrics::{Metrics, Reason},
    protocol::{decode, encode, ChatterFrame, LeaveReason, OfflineReason, ToChatter, Version},
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

/// How long a socket may go without starting a chat, and a new chat without the page's own
/// next frame (any frame: the page pings every 20 s).
#[derive(Clone, Copy)]
pub struct Deadlines {
    pub hello: Duration,
    pub followup: Duration,
}

/// Where the socket stands on its way to a real chat.
enum Stage {
    /// Connected; no `hello` or `resume` yet (by `at`).
    Connected { until: Instant },
    /// A new chat: the page must send something else by `until`.
    Hello { until: Instant },
    /// The page has spoken since, or this is a resumed chat.
    Started,
}

/// Who the socket belongs to, for the per-client limits.
pub struct Client {
    pub key: ClientKey,
    pub protection: Protection,
    pub metrics: Metrics,
}

pub struct ChatterSession {
    hub: Hub,
    chat: Option<ChatterHandle>,
    deadlines: Deadlines,
    stage: Stage,
    client: Option<Client>,
    /// This socket's proof-of-work challenge, when the program switched it on.
    challenge: Option<Challenge>,
}

impl ChatterSession {
    pub fn new(hub: Hub, deadlines: Deadlines, client: Option<Client>) -> ChatterSession {
        ChatterSession {
            hub,
            chat: None,
            stage: Stage::Connected {
                until: Instant::now() + deadlines.hello,
            },
            deadlines,
            client,
            challenge: None,
        }
    }

    /// Asks for proof of work before `hello`: the challenge goes out as the socket's first
    /// frame.
    pub fn with_challenge(mut self, challenge: Challenge, outbox: &Outbox) -> ChatterSession {
        outbox.send(encode(&ToChatter::Challenge {
            challenge: challenge.text(),
            bits: challenge.bits(),
        }));
        self.challenge = Some(challenge);
        self
    }

    /// Whether `hello` proved the work asked of it; if not, the page was told why.
    fn proof_holds(&self, proof: Option<&str>, outbox: &Outbox) -> bool {
        let Some(challenge) = &self.challenge else {
            return true;
        };
        let (code, message) = match proof {
            Some(nonce) if challenge.accepts(nonce) => return true,
            Some(_) => (
                ErrorCode::ProofInvalid,
                "The proof of work does not solve this connection's challenge.",
            ),
            None => (
                ErrorCode::ProofRequired,
                "This server asks for proof of work: solve the `challenge` and send it as `proof` in `hello`.",
            ),
        };
        send_error(outbox, code, message, None, None);
        false
    }

    /// The per-client allowance of new chats; refusal is `offline` with reason `busy`, so the
    /// person still sees the hotline.
    fn allow_new_chat(&self, outbox: &Outbox) -> bool {
        let Some(client) = &self.client else {
            return true;
        };
        if client.protection.allow_new_chat(client.key) {
            return true;
        }
        client.metrics.rejected(Reason::new_chats_per_client);
        self.hub.offer_offline(outbox, OfflineReason::Busy);
        false
    }

    fn handle(&mut self, frame: ChatterFrame, outbox: &Outbox) -> Result<(), Refusal> {
        match frame {
            ChatterFrame::Hello {
                v,
                queue,
                language,
                intake,
                proof,
            } => {
                let version = self.check_version(v, outbox)?;
                self.check_not_started()?;
                if !self.proof_holds(proof.as_deref(), outbox) {
                    return Err(Refusal::Answered);
                }
                let intake = Intake::parse(intake)?;
                let hello = Hello {
                    queue,
                    language: parse_language(language),
                    intake,
                };
                if !self.allow_new_chat(outbox) {
                    self.stage = Stage::Started;
                    return Ok(());
                }
                let outbox = outbox.clone().speaking(version);
                self.chat = self.hub.chatter_hello(&outbox, hello)?;
                self.stage = match self.chat {
                    Some(_) => Stage::Hello {
                        until: Instant::now() + self.deadlines.followup,
                    },
                    // `offline`: no place is held, and the page may stay to read the contacts.
                    None => Stage::Started,
                };
            }
            ChatterFrame::Resume { v, token, last_seq } => {
                let version = self.check_version(v, outbox)?;
                self.check_not_started()?;
                let outbox = outbox.clone().speaking(version);
                self.chat = Some(self.hub.chatter_resume(&outbox, &token, last_seq)?);
                self.stage = Stage::Started;
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
            ChatterFrame::Leave { reason } => {
                let chat = self.chat.ok_or(HubError::NotStarted)?;
                self.hub
                    .chatter_leave(&chat, reason == Some(LeaveReason::QuickExit))?;
            }
            ChatterFrame::Ping => {
                outbox.send(encode(&ToChatter::Pong));
            }
        }
        Ok(())
    }

    fn check_version(&self, v: u32, outbox: &Outbox) -> Result<Version, Refusal> {
        Version::parse(v).ok_or_else(|| {
            send_error(
                outbox,
                ErrorCode::UnsupportedVersion,
                "This server speaks protocol versions 1 and 2.",
                None,
                None,
            );
            Refusal::Answered
        })
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
    fn deadline(&self) -> Option<Instant> {
        match self.stage {
            Stage::Connected { until } | Stage::Hello { until } => Some(until),
            Stage::Started => None,
        }
    }

    fn on_deadline(&mut self) -> Option<(u16, ErrorCode)> {
        match self.stage {
            Stage::Connected { until } if Instant::now() >= until => {
                Some((1008, ErrorCode::HelloTimeout))
            }
            Stage::Hello { until } if Instant::now() >= until => {
                if let Some(chat) = self.chat.take() {
                    self.hub.chatter_abandoned(&chat);
                }
                Some((1008, ErrorCode::Abandoned))
            }
            _ => None,
        }
    }

    fn on_text(&mut self, text: &str, outbox: &Outbox) {
        // Anything after `hello` shows a page behind it.
        if matches!(self.stage, Stage::Hello { .. }) {
            self.stage = Stage::Started;
        }
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

    fn on_stalled(&mut self, stalled: bool) {
        if let Some(chat) = &self.chat {
            self.hub.chatter_stalled(chat, stalled);
        }
    }

    fn on_closed(&mut self) {
        if let Some(chat) = &self.chat {
            self.hub.chatter_disconnected(chat);
        }
    }
}
