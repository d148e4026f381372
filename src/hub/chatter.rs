//! What a chatter can do: start, resume, write, type, leave, drop.

use rand::RngCore;
use uuid::Uuid;

use super::{
    chat::{Chat, ChatState},
    now_ms,
    outbox::{Frame, Outbox},
    state::send,
    text::{ClientId, Intake, MessageText},
    token_hash,
    transcript::Transcript,
    Hub,
};
use crate::{
    error::{ErrorCode, HubError},
    protocol::{
        encode_text, Contacts, EndReason, LeftReason, OfflineReason, Sender, ToChatter, ToConsole,
        PROTOCOL_VERSION,
    },
};

/// The socket layer's reference to its chat.
#[derive(Debug, Clone, Copy)]
pub struct ChatterHandle {
    pub chat_id: Uuid,
    conn: u64,
}

pub struct Hello {
    pub queue: Option<String>,
    pub language: Option<String>,
    pub intake: Option<Intake>,
}

impl Hub {
    /// Starts a chat, or answers `offline` (and returns `None`) when nobody can take it.
    pub fn chatter_hello(
        &self,
        outbox: &Outbox,
        hello: Hello,
    ) -> Result<Option<ChatterHandle>, HubError> {
        let settings = self.settings();
        let queue = match hello.queue {
            Some(id) => settings.queue(&id).ok_or(HubError::UnknownQueue)?,
            None => &settings.queues[0],
        };
        let mut state = self.lock();
        let offline = if !settings.hours.is_open_now() {
            Some(OfflineReason::OutsideHours)
        } else if state.on_duty() == 0 || state.closing {
            Some(OfflineReason::NoAdvocates)
        } else if state.waiting.len() >= settings.max_waiting {
            Some(OfflineReason::QueueFull)
        } else {
            None
        };
        if let Some(reason) = offline {
            send(
                Some(outbox),
                &ToChatter::Offline {
                    reason,
                    contacts: Contacts {
                        phone: &settings.hotline_phone,
                        text: &settings.hotline_text,
                        note: &settings.offline_note,
                    },
                },
            );
            tracing::info!(reason = ?reason, "chatter offered offline contacts");
            return Ok(None);
        }

        let mut raw = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let token = hex::encode(raw);
        let id = Uuid::new_v4();
        let now = now_ms();
        let chat = Chat {
            id,
            token_hash: token_hash(&token),
            queue: queue.id.clone(),
            language: hello.language,
            intake: hello.intake.map(Intake::into_inner),
            state: ChatState::Waiting {
                since_ms: now,
                transferred: false,
            },
            chatter: Some(outbox.clone()),
            chatter_conn: outbox.id(),
            first_waited_ms: now,
            told_position: None,
            handover: None,
            transcript: Transcript::new(
                settings.max_transcript_messages,
                settings.max_transcript_bytes,
            ),
        };
        state.tokens.insert(chat.token_hash, id);
        state.waiting.insert(now, &chat.queue, id);
        state.chats.insert(id, chat);
        send(
            Some(outbox),
            &ToChatter::Welcome {
                v: PROTOCOL_VERSION,
                token: &token,
                grace_secs: settings.grace.as_secs(),
                resumed: false,
            },
        );
        tracing::info!(chat = %id, queue = %queue.id, "chat started");
        state.publish(settings);
        Ok(Some(ChatterHandle {
            chat_id: id,
            conn: outbox.id(),
        }))
    }

    /// Re-attaches a chatter to their chat and replays what they missed.
    pub fn chatter_resume(
        &self,
        outbox: &Outbox,
        token: &str,
        last_seq: u64,
    ) -> Result<ChatterHandle, HubError> {
        let settings = self.settings();
        let mut state = self.lock();
        let chat_id = *state
            .tokens
            .get(&token_hash(token))
            .ok_or(HubError::ChatPurged)?;
        let chat = state.chats.get_mut(&chat_id).ok_or(HubError::ChatPurged)?;
        if !chat.is_open() {
            return Err(HubError::ChatClosed);
        }
        if let Some(old) = chat.chatter.replace(outbox.clone()) {
            old.close(4000, ErrorCode::Replaced);
        }
        chat.chatter_conn = outbox.id();
        chat.told_position = None;
        send(
            Some(outbox),
            &ToChatter::Welcome {
                v: PROTOCOL_VERSION,
                token,
                grace_secs: settings.grace.as_secs(),
                resumed: true,
            },
        );
        let advocate = chat.advocate();
        if let Some(name) = advocate
            .and_then(|id| state.advocates.get(&id))
            .map(|a| a.staff.display_name.clone())
        {
            send(Some(outbox), &ToChatter::Joined { advocate: &name });
        }
        let chat = state.chats.get(&chat_id).expect("looked up above");
        // One queue place for the whole replay, however long the chat was.
        let missed: Vec<_> = chat
            .transcript
            .since(last_seq)
            .map(|line| encode_text(&ToChatter::Message(line.view())))
            .collect();
        if !missed.is_empty() {
            outbox.send(Frame::Batch(missed));
        }
        if let Some(advocate) = advocate.and_then(|id| state.advocates.get(&id)) {
            send(
                advocate.outbox.as_ref(),
                &ToConsole::ChatterReconnected { chat_id },
            );
        }
        tracing::info!(chat = %chat_id, "chatter resumed");
        state.publish(settings);
        Ok(ChatterHandle {
            chat_id,
            conn: outbox.id(),
        })
    }

    pub fn chatter_message(
        &self,
        handle: &ChatterHandle,
        id: ClientId,
        text: MessageText,
    ) -> Result<(), HubError> {
        let mut state = self.lock();
        let chat = state
            .chats
            .get_mut(&handle.chat_id)
            .ok_or(HubError::ChatClosed)?;
        if chat.chatter_conn != handle.conn {
            return Err(HubError::NotStarted);
        }
        if !chat.is_open() {
            return Err(HubError::ChatClosed);
        }
        let (seq, at) = match chat.transcript.find_client_id(Sender::Chatter, id.as_str()) {
            Some(done) => done,
            None => {
                let (seq, at) = state
                    .post(handle.chat_id, Sender::Chatter, text.into_inner(), None)
                    .expect("chat exists");
                let chat = state.chats.get_mut(&handle.chat_id).expect("chat exists");
                chat.transcript
                    .remember_client_id(Sender::Chatter, id.as_str(), seq, at);
                (seq, at)
            }
        };
        let chat = state.chats.get(&handle.chat_id).expect("chat exists");
        send(
            chat.chatter.as_ref(),
            &ToChatter::Ack {
                id: id.as_str(),
                seq,
                at,
            },
        );
        Ok(())
    }

    /// Forwards the typing flag to the advocate; before one joined there is nobody to tell.
    pub fn chatter_typing(&self, handle: &ChatterHandle, on: bool) -> Result<(), HubError> {
        let state = self.lock();
        let chat = open_chat(&state, handle)?;
        if let Some(advocate) = chat.advocate().and_then(|id| state.advocates.get(&id)) {
            send(
                advocate.outbox.as_ref(),
                &ToConsole::Typing {
                    chat_id: handle.chat_id,
                    on,
                },
            );
        }
        Ok(())
    }

    pub fn chatter_leave(&self, handle: &ChatterHandle) -> Result<(), HubError> {
        let mut state = self.lock();
        let chat = open_chat(&state, handle)?;
        send(
            chat.chatter.as_ref(),
            &ToChatter::Ended {
                reason: EndReason::ChatterLeft,
            },
        );
        tell_advocate_left(&state, handle.chat_id, LeftReason::Left);
        state.close(handle.chat_id);
        tracing::info!(chat = %handle.chat_id, "chatter left");
        state.publish(self.settings());
        Ok(())
    }

    pub fn chat_is_open(&self, handle: &ChatterHandle) -> bool {
        self.lock()
            .chats
            .get(&handle.chat_id)
            .is_some_and(|c| c.is_open() && c.chatter_conn == handle.conn)
    }

    /// The chatter's socket went away without `leave`: keep the chat for the grace period.
    pub fn chatter_disconnected(&self, handle: &ChatterHandle) {
        let mut state = self.lock();
        let Some(chat) = state.chats.get_mut(&handle.chat_id) else {
            return;
        };
        if chat.chatter_conn != handle.conn || !chat.is_open() {
            return;
        }
        chat.chatter = None;
        if let Some(advocate) = chat.advocate().and_then(|id| state.advocates.get(&id)) {
            send(
                advocate.outbox.as_ref(),
                &ToConsole::ChatterDisconnected {
                    chat_id: handle.chat_id,
                },
            );
        }
        tracing::info!(chat = %handle.chat_id, "chatter disconnected; grace period started");
        drop(state);
        let handle = *handle;
        self.after(self.settings().grace, move |hub| hub.expire_chatter(handle));
    }

    fn expire_chatter(&self, handle: ChatterHandle) {
        let mut state = self.lock();
        let Some(chat) = state.chats.get(&handle.chat_id) else {
            return;
        };
        if chat.chatter.is_some() || chat.chatter_conn != handle.conn || !chat.is_open() {
            return;
        }
        tell_advocate_left(&state, handle.chat_id, LeftReason::TimedOut);
        state.close(handle.chat_id);
        tracing::info!(chat = %handle.chat_id, "chatter did not come back; chat closed");
        state.publish(self.settings());
    }
}

/// The handle's chat, if it is still open.
fn open_chat<'a>(state: &'a super::State, handle: &ChatterHandle) -> Result<&'a Chat, HubError> {
    match state.chats.get(&handle.chat_id) {
        Some(chat) if chat.is_open() => Ok(chat),
        _ => Err(HubError::ChatClosed),
    }
}

fn tell_advocate_left(state: &super::State, chat_id: Uuid, reason: LeftReason) {
    let advocate = state
        .chats
        .get(&chat_id)
        .and_then(|c| c.advocate())
        .and_then(|id| state.advocates.get(&id));
    if let Some(advocate) = advocate {
        send(
            advocate.outbox.as_ref(),
            &ToConsole::ChatterLeft { chat_id, reason },
        );
    }
}
