//! What staff on the console can do: connect, go available, claim, write, transfer, end.

use uuid::Uuid;
use zeroize::Zeroizing;

use super::{
    chat::{ChatState, Handover},
    events::{ChatEvent, EndedBy},
    outbox::{Frame, Outbox},
    roster::Advocate,
    state::{send, State},
    text::{ClientId, MessageText, Note},
    Hub,
};
use crate::{
    error::{ErrorCode, HubError},
    protocol::{
        encode_text, EndReason, Me, ReleaseReason, Sender, SystemNote, ToChatter, ToConsole,
    },
    staff::Staff,
};

/// The socket layer's reference to its staff member.
#[derive(Debug, Clone, Copy)]
pub struct AdvocateHandle {
    pub staff_id: Uuid,
    pub(super) conn: u64,
}

/// Which staff session a console was opened with (an opaque hash from the socket layer), so
/// that logging out one session closes only that session's console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginId(pub [u8; 32]);

pub enum TransferTarget {
    Advocate(Uuid),
    Queue(String),
}

impl Hub {
    /// Attaches a console. A newer console for the same person replaces the older one and
    /// takes over their chats (this is also how an advocate gets their chats back).
    pub fn advocate_connect(
        &self,
        staff: Staff,
        login: LoginId,
        outbox: &Outbox,
    ) -> AdvocateHandle {
        let settings = self.settings();
        let mut state = self.lock();
        let program = std::sync::Arc::clone(&state.program);
        let staff_id = staff.id;
        let capacity = state.capacity(staff_id, settings.max_chats);
        let advocate = state.advocates.entry(staff_id).or_insert_with(|| Advocate {
            staff: staff.clone(),
            outbox: None,
            conn: 0,
            login,
            available: false,
            chats: Vec::new(),
            last_assigned_ms: 0,
            grace_timer: None,
            told: Default::default(),
        });
        if let Some(timer) = advocate.grace_timer.take() {
            timer.abort();
        }
        if let Some(old) = advocate.outbox.replace(outbox.clone()) {
            send(
                Some(&old),
                &ToConsole::Error(crate::protocol::ErrorBody {
                    code: ErrorCode::Replaced,
                    message: "You opened the console somewhere else; this window is closed.",
                    chat_id: None,
                    id: None,
                }),
            );
            old.close(4000, ErrorCode::Replaced);
        }
        advocate.conn = outbox.id();
        advocate.login = login;
        advocate.staff = staff;
        send(
            Some(outbox),
            &ToConsole::Welcome {
                v: outbox.version().number(),
                me: Me {
                    id: advocate.staff.id,
                    username: &advocate.staff.username,
                    display_name: &advocate.staff.display_name,
                    role: advocate.staff.role,
                },
                available: advocate.available,
                capacity,
                queues: &program.queues,
                canned: &program.canned,
                may_read_transcripts: settings.may_read_transcripts
                    && advocate.staff.role.oversees(),
            },
        );
        let chats = advocate.chats.clone();
        for chat_id in chats {
            let Some(chat) = state.chats.get(&chat_id) else {
                continue;
            };
            outbox.send(chat.assigned_frame(None));
        }
        tracing::info!(staff = %staff_id, "console connected");
        state.publish(settings);
        AdvocateHandle {
            staff_id,
            conn: outbox.id(),
        }
    }

    pub fn advocate_status(&self, handle: &AdvocateHandle, available: bool) {
        let mut state = self.lock();
        let Some(advocate) = current(&mut state, handle) else {
            return;
        };
        advocate.available = available;
        tracing::info!(staff = %handle.staff_id, available, "availability changed");
        state.publish(self.settings());
    }

    /// Takes a waiting chatter. Under the hub lock, so of two claims exactly one wins.
    pub fn claim(&self, handle: &AdvocateHandle, chat_id: Uuid) -> Result<(), HubError> {
        let settings = self.settings();
        let mut state = self.lock();
        let load = current(&mut state, handle)
            .ok_or(HubError::ChatNotFound)?
            .load();
        let waiting = state
            .chats
            .get(&chat_id)
            .is_some_and(|c| matches!(c.state, ChatState::Waiting { .. }));
        if !waiting {
            return Err(HubError::AlreadyClaimed);
        }
        if load >= state.capacity(handle.staff_id, settings.max_chats) {
            return Err(HubError::AtCapacity);
        }
        state.assign(chat_id, handle.staff_id, None);
        state.publish(settings);
        Ok(())
    }

    pub fn advocate_message(
        &self,
        handle: &AdvocateHandle,
        chat_id: Uuid,
        id: ClientId,
        text: MessageText,
    ) -> Result<(), HubError> {
        let mut state = self.lock();
        own_chat(&mut state, handle, chat_id)?;
        let chat = state.chats.get(&chat_id).expect("checked");
        let (seq, at) = match chat
            .transcript
            .find_client_id(Sender::Advocate, id.as_str())
        {
            Some(done) => done,
            None => {
                let (seq, at) = state
                    .post(chat_id, Sender::Advocate, text.into_inner(), None)
                    .expect("chat exists");
                let chat = state.chats.get_mut(&chat_id).expect("chat exists");
                chat.transcript
                    .remember_client_id(Sender::Advocate, id.as_str(), seq, at);
                (seq, at)
            }
        };
        let advocate = state.advocates.get(&handle.staff_id).expect("checked");
        if let Some(outbox) = &advocate.outbox {
            outbox.send(Frame::Ack(encode_text(&ToConsole::Ack {
                chat_id,
                id: id.as_str(),
                seq,
                at,
            })));
        }
        Ok(())
    }

    pub fn advocate_typing(
        &self,
        handle: &AdvocateHandle,
        chat_id: Uuid,
        on: bool,
    ) -> Result<(), HubError> {
        let mut state = self.lock();
        own_chat(&mut state, handle, chat_id)?;
        let chat = state.chats.get(&chat_id).expect("checked");
        send(chat.chatter.as_ref(), &ToChatter::Typing { on });
        Ok(())
    }

    pub fn transfer(
        &self,
        handle: &AdvocateHandle,
        chat_id: Uuid,
        target: TransferTarget,
        note: Option<Note>,
    ) -> Result<(), HubError> {
        let settings = self.settings();
        let mut state = self.lock();
        own_chat(&mut state, handle, chat_id)?;
        let from = state.advocates[&handle.staff_id].staff.display_name.clone();
        let handover = Handover {
            from,
            note: note.map(|n| Zeroizing::new(n.into_inner())),
        };
        if let Some(chat) = state.chats.get(&chat_id) {
            state.record(ChatEvent::Transferred {
                queue: chat.queue.clone(),
                started_ms: chat.first_waited_ms,
            });
        }
        match target {
            TransferTarget::Advocate(to) => {
                if to == handle.staff_id {
                    return Err(HubError::InvalidTransfer);
                }
                let reason = ReleaseReason::Transferred;
                state.hand_to_advocate(chat_id, to, reason, Some(handover), settings.max_chats)?;
                tracing::info!(chat = %chat_id, from = %handle.staff_id, to = %to, "chat transferred to advocate");
            }
            TransferTarget::Queue(queue) => {
                let reason = ReleaseReason::Transferred;
                let queue = state.hand_to_queue(chat_id, &queue, reason, Some(handover))?;
                tracing::info!(chat = %chat_id, from = %handle.staff_id, queue = %queue, "chat transferred to queue");
            }
        }
        state.publish(settings);
        Ok(())
    }

    pub fn end_chat(&self, handle: &AdvocateHandle, chat_id: Uuid) -> Result<(), HubError> {
        let mut state = self.lock();
        own_chat(&mut state, handle, chat_id)?;
        let chat = state.chats.get(&chat_id).expect("checked");
        send(
            chat.chatter.as_ref(),
            &ToChatter::Ended {
                reason: EndReason::AdvocateEnded,
            },
        );
        state.release(chat_id, Some(ReleaseReason::EndedByYou));
        state.close(chat_id, EndedBy::Advocate);
        tracing::info!(chat = %chat_id, staff = %handle.staff_id, "advocate ended chat");
        state.publish(self.settings());
        Ok(())
    }

    /// The console's socket went away: keep the chats for the grace period.
    pub fn advocate_disconnected(&self, handle: &AdvocateHandle) {
        let mut state = self.lock();
        let Some(advocate) = current(&mut state, handle) else {
            return;
        };
        advocate.outbox = None;
        let chats = advocate.chats.clone();
        stop_typing_for(&state, &chats);
        tracing::info!(staff = %handle.staff_id, "console disconnected; grace period started");
        state.publish(self.settings());
        drop(state);
        let handle = *handle;
        let timer = self.after(self.settings().grace, move |hub| {
            let mut state = hub.lock();
            let gone = state
                .advocates
                .get(&handle.staff_id)
                .is_some_and(|a| a.conn == handle.conn && a.outbox.is_none());
            if gone {
                hand_back(&mut state, handle.staff_id);
                state.publish(hub.settings());
            }
        });
        if let Some(advocate) = self.lock().advocates.get_mut(&handle.staff_id) {
            if advocate.conn == handle.conn {
                if let Some(old) = advocate.grace_timer.replace(timer) {
                    old.abort();
                }
            }
        }
    }

    /// A staff session lapsed (expired, or was removed) while its console was open: close the
    /// console with `session_expired`. Unlike a logout, the chats stay the advocate's for the
    /// resume grace period (the closed socket starts it), so signing in again gets them back.
    pub fn staff_session_lapsed(&self, staff_id: Uuid, login: LoginId) {
        let state = self.lock();
        let Some(advocate) = state.advocates.get(&staff_id) else {
            return;
        };
        if advocate.login != login {
            return;
        }
        if let Some(outbox) = &advocate.outbox {
            send(
                Some(outbox),
                &ToConsole::Error(crate::protocol::ErrorBody {
                    code: ErrorCode::SessionExpired,
                    message: "Your session ended. Log in again.",
                    chat_id: None,
                    id: None,
                }),
            );
            outbox.close(4001, ErrorCode::SessionExpired);
        }
        tracing::info!(staff = %staff_id, "staff session lapsed; chats kept for the grace period");
    }

    /// Re-publishes the consoles' snapshots whenever service hours open or close, so that an
    /// available advocate sees the "closed" banner appear and go without any other event.
    /// Started by the first console (the socket layer, inside the runtime); once per hub.
    pub fn watch_service_hours(&self) {
        if std::mem::replace(&mut self.lock().service_watched, true) {
            return;
        }
        let weak = self.downgrade();
        tokio::spawn(async move {
            let mut was_open = None;
            let mut every = tokio::time::interval(SERVICE_CHECK);
            loop {
                every.tick().await;
                let Some(hub) = Hub::upgrade(&weak) else {
                    return;
                };
                let open = hub.is_open_now();
                if was_open.is_some_and(|was| was != open) {
                    hub.lock().publish(hub.settings());
                }
                was_open = Some(open);
            }
        });
    }

    /// A staff session ended by logout: if the console was opened with it, close the console
    /// now and hand its chats back to the queues.
    pub fn staff_signed_out(&self, staff_id: Uuid, login: LoginId) {
        let mut state = self.lock();
        let Some(advocate) = state.advocates.get(&staff_id) else {
            return;
        };
        if advocate.login != login {
            return;
        }
        if let Some(outbox) = &advocate.outbox {
            send(
                Some(outbox),
                &ToConsole::Error(crate::protocol::ErrorBody {
                    code: ErrorCode::SessionExpired,
                    message: "Your session ended. Log in again.",
                    chat_id: None,
                    id: None,
                }),
            );
            outbox.close(4001, ErrorCode::SessionExpired);
        }
        hand_back(&mut state, staff_id);
        state.publish(self.settings());
    }
}

/// How often the hub looks whether service hours opened or closed.
const SERVICE_CHECK: std::time::Duration = std::time::Duration::from_secs(30);

/// The advocate is gone (for now): their chatters must not keep seeing "typing…".
fn stop_typing_for(state: &State, chats: &[Uuid]) {
    for chat_id in chats {
        if let Some(chat) = state.chats.get(chat_id) {
            send(chat.chatter.as_ref(), &ToChatter::Typing { on: false });
        }
    }
}

/// The roster entry, if `handle` is still its live connection.
fn current<'a>(state: &'a mut State, handle: &AdvocateHandle) -> Option<&'a mut Advocate> {
    state
        .advocates
        .get_mut(&handle.staff_id)
        .filter(|a| a.conn == handle.conn)
}

/// Checks that `chat_id` is open and this advocate's.
fn own_chat(state: &mut State, handle: &AdvocateHandle, chat_id: Uuid) -> Result<(), HubError> {
    current(state, handle).ok_or(HubError::ChatNotFound)?;
    match state.chats.get(&chat_id) {
        Some(chat) if chat.advocate() == Some(handle.staff_id) => Ok(()),
        Some(chat) if !chat.is_open() => Err(HubError::ChatClosed),
        _ => Err(HubError::ChatNotFound),
    }
}

/// Removes an advocate from the roster, returning their chats to the front of their queues.
fn hand_back(state: &mut State, staff_id: Uuid) {
    let Some(advocate) = state.advocates.remove(&staff_id) else {
        return;
    };
    stop_typing_for(state, &advocate.chats);
    for chat_id in advocate.chats {
        let Some(queue) = state.chats.get(&chat_id).map(|c| c.queue.clone()) else {
            continue;
        };
        if let Some(chat) = state.chats.get_mut(&chat_id) {
            // Not through `release`: the advocate is already out of the roster.
            chat.state = ChatState::Waiting {
                since_ms: chat.first_waited_ms,
                transferred: true,
            };
        }
        state.post(
            chat_id,
            Sender::System,
            "Your advocate was disconnected. You keep your place in line for the next advocate."
                .into(),
            Some(SystemNote::AdvocateDisconnected),
        );
        let handover = Handover {
            from: advocate.staff.display_name.clone(),
            note: None,
        };
        state.requeue_front(chat_id, queue, Some(handover));
    }
    tracing::info!(staff = %staff_id, "staff left the console; chats handed back");
}
