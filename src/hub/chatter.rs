//! What a chatter can do: start, resume, write, type, leave, drop.

use std::sync::atomic::Ordering;

use rand::RngCore;
use uuid::Uuid;

use super::{
    chat::{Chat, ChatState},
    events::{ChatEvent, EndedBy},
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
        encode_text, Contacts, EndReason, ErrorBody, LeftReason, OfflineReason, Sender, SystemNote,
        ToChatter, ToConsole,
    },
};

/// The socket layer's reference to its chat.
#[derive(Debug, Clone, Copy)]
pub struct ChatterHandle {
    pub chat_id: Uuid,
    pub(super) conn: u64,
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
        let mut state = self.lock();
        // Read under the lock: an admin's edit applies wholly before or wholly after this.
        let program = std::sync::Arc::clone(&state.program);
        let queue = match hello.queue {
            Some(id) => program.queue(&id).ok_or(HubError::UnknownQueue)?,
            None => &program.queues[0],
        };
        // Waiters whose socket dropped keep their place for a short grace but do not keep a
        // real arrival out.
        let waiting = state.waiting.present();
        let offline = if !program.hours.is_open_now() {
            Some(OfflineReason::OutsideHours)
        } else if state.on_duty() == 0 || state.closing {
            Some(OfflineReason::NoAdvocates)
        } else if waiting >= settings.max_waiting {
            Some(OfflineReason::QueueFull)
        } else if !state.relieve_memory(settings.max_transcript_bytes) {
            // Live chats keep their memory; a new one would not have room to grow.
            Some(OfflineReason::Busy)
        } else {
            None
        };
        if let Some(reason) = offline {
            state.record(ChatEvent::TurnedAway {
                queue: queue.id.clone(),
                reason,
            });
            drop(state);
            if matches!(reason, OfflineReason::Busy) {
                self.inner
                    .refused_for_memory
                    .fetch_add(1, Ordering::Relaxed);
            }
            self.offer_offline(outbox, reason);
            return Ok(None);
        }

        let token = new_token();
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
                state.memory.meter.clone(),
            ),
            answered_ms: None,
            grace_timer: None,
            forms: Default::default(),
        };
        state.tokens.insert(chat.token_hash, id);
        state.waiting.insert(now, &chat.queue, id);
        state.chats.insert(id, Box::new(chat));
        send(
            Some(outbox),
            &ToChatter::Welcome {
                v: outbox.version().number(),
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

    /// Answers `offline` with the program's other ways to reach someone.
    pub fn offer_offline(&self, outbox: &Outbox, reason: OfflineReason) {
        let program = self.program();
        send(
            Some(outbox),
            &ToChatter::Offline {
                reason,
                contacts: Contacts {
                    phone: &program.hotline_phone,
                    text: &program.hotline_text,
                    note: &program.offline_note,
                },
            },
        );
        tracing::info!(reason = ?reason, "chatter offered offline contacts");
    }

    /// Re-attaches a chatter to their chat and replays what they missed. The token is replaced
    /// (the new one is in `welcome`), so a token seen once cannot be replayed later.
    pub fn chatter_resume(
        &self,
        outbox: &Outbox,
        token: &str,
        last_seq: u64,
    ) -> Result<ChatterHandle, HubError> {
        let settings = self.settings();
        let mut guard = self.lock();
        // Fields borrowed apart (the chat, the line) through one guard.
        let state = &mut *guard;
        let chat_id = *state
            .tokens
            .get(&token_hash(token))
            .ok_or(HubError::ChatPurged)?;
        let chat = state.chats.get_mut(&chat_id).ok_or(HubError::ChatPurged)?;
        if !chat.is_open() {
            return Err(HubError::ChatClosed);
        }
        state.waiting.set_away(chat_id, false);
        if let Some(old) = chat.chatter.replace(outbox.clone()) {
            send(
                Some(&old),
                &ToChatter::Error(ErrorBody {
                    code: ErrorCode::Replaced,
                    message: "This chat was resumed on another connection.",
                    chat_id: None,
                    id: None,
                }),
            );
            old.close(4000, ErrorCode::Replaced);
        }
        chat.chatter_conn = outbox.id();
        chat.told_position = None;
        if let Some(timer) = chat.grace_timer.take() {
            timer.abort();
        }
        let resumed = ChatEvent::Resumed {
            queue: chat.queue.clone(),
            started_ms: chat.first_waited_ms,
        };
        let old_hash = chat.token_hash;
        let token = new_token();
        chat.token_hash = token_hash(&token);
        let new_hash = chat.token_hash;
        state.tokens.remove(&old_hash);
        state.tokens.insert(new_hash, chat_id);
        send(
            Some(outbox),
            &ToChatter::Welcome {
                v: outbox.version().number(),
                token: &token,
                grace_secs: settings.grace.as_secs(),
                resumed: true,
            },
        );
        // Then where they stand, then what they missed (docs/protocol.md).
        let advocate = state.chats[&chat_id].advocate();
        if let Some(name) = advocate
            .and_then(|id| state.advocates.get(&id))
            .map(|a| a.staff.display_name.clone())
        {
            send(Some(outbox), &ToChatter::Joined { advocate: &name });
        } else if let Some(position) = state.waiting.position(chat_id) {
            let estimate_secs = state.estimate_secs(position);
            let chat = state.chats.get_mut(&chat_id).expect("looked up above");
            chat.told_position = Some(position);
            send(
                Some(outbox),
                &ToChatter::Queued {
                    queue: &chat.queue,
                    position,
                    estimate_secs,
                },
            );
        }
        let chat = state.chats.get(&chat_id).expect("looked up above");
        // One queue place for the whole replay, however long the chat was.
        let missed: Vec<_> = chat
            .transcript
            .since(last_seq)
            .map(|line| encode_text(&ToChatter::Message(line.view())))
            .collect();
        // Lines after `last_seq` that are no longer held were lost to this reader: say so.
        let gap = chat
            .transcript
            .first_seq()
            .is_some_and(|first| first > last_seq.saturating_add(1))
            && chat.transcript.last_seq() > last_seq;
        if !missed.is_empty() {
            outbox.send(Frame::Batch(missed));
        }
        if gap {
            state.post(
                chat_id,
                Sender::System,
                "Some messages could not be delivered while the connection was interrupted.".into(),
                Some(SystemNote::LinesDropped),
            );
        }
        if let Some(advocate) = advocate.and_then(|id| state.advocates.get(&id)) {
            send(
                advocate.outbox.as_ref(),
                &ToConsole::ChatterReconnected { chat_id },
            );
        }
        tracing::info!(chat = %chat_id, "chatter resumed");
        state.record(resumed);
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
        if let Some(chatter) = &chat.chatter {
            chatter.send(Frame::Ack(encode_text(&ToChatter::Ack {
                id: id.as_str(),
                seq,
                at,
            })));
        }
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

    /// The chatter ends the chat; `quick` when they used Quick exit, which the advocate is told.
    pub fn chatter_leave(&self, handle: &ChatterHandle, quick: bool) -> Result<(), HubError> {
        let mut state = self.lock();
        let chat = open_chat(&state, handle)?;
        send(
            chat.chatter.as_ref(),
            &ToChatter::Ended {
                reason: EndReason::ChatterLeft,
            },
        );
        let (reason, by) = if quick {
            (LeftReason::QuickExit, EndedBy::QuickExit)
        } else {
            (LeftReason::Left, EndedBy::Chatter)
        };
        tell_advocate_left(&state, handle.chat_id, reason);
        state.close(handle.chat_id, by);
        tracing::info!(chat = %handle.chat_id, quick, "chatter left");
        state.publish(self.settings());
        Ok(())
    }

    pub fn chat_is_open(&self, handle: &ChatterHandle) -> bool {
        self.lock()
            .chats
            .get(&handle.chat_id)
            .is_some_and(|c| c.is_open() && c.chatter_conn == handle.conn)
    }
}

/// A fresh resume token: 128 random bits, hex.
fn new_token() -> String {
    let mut raw = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    hex::encode(raw)
}

/// The handle's chat, if it is still open.
fn open_chat<'a>(state: &'a super::State, handle: &ChatterHandle) -> Result<&'a Chat, HubError> {
    match state.chats.get(&handle.chat_id) {
        Some(chat) if chat.is_open() => Ok(chat),
        _ => Err(HubError::ChatClosed),
    }
}

pub(super) fn tell_advocate_left(state: &super::State, chat_id: Uuid, reason: LeftReason) {
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
