//! The chatter's connection, apart from what the chatter does: it drops (a grace period
//! begins), stalls (the advocate is told at once, the chat goes on), or never follows its
//! `hello` (the place goes to someone real).

use super::{
    chat::ChatState, chatter::tell_advocate_left, events::EndedBy, state::send, ChatterHandle, Hub,
};
use crate::protocol::{LeftReason, ToConsole};

impl Hub {
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
        // A chatter nobody answered yet keeps their place only briefly: a script that says
        // `hello` and drops must not hold places for the whole in-chat grace.
        let grace = match chat.state {
            ChatState::Waiting { .. } => self.settings().waiting_grace,
            _ => self.settings().grace,
        };
        if let Some(advocate) = chat.advocate().and_then(|id| state.advocates.get(&id)) {
            send(
                advocate.outbox.as_ref(),
                &ToConsole::ChatterDisconnected {
                    chat_id: handle.chat_id,
                },
            );
        }
        // A waiter who is gone keeps their place, but not a real arrival out of the line.
        state.waiting.set_away(handle.chat_id, true);
        tracing::info!(chat = %handle.chat_id, "chatter disconnected; grace period started");
        drop(state);
        let handle = *handle;
        let timer = self.after(grace, move |hub| hub.expire_chatter(handle));
        if let Some(chat) = self.lock().chats.get_mut(&handle.chat_id) {
            if chat.chatter_conn == handle.conn {
                if let Some(old) = chat.grace_timer.replace(timer) {
                    old.abort();
                }
            }
        }
    }

    /// A `hello` that nothing followed: the chat is removed (it holds no messages, or the page
    /// would have sent something) and its place goes to someone real.
    pub fn chatter_abandoned(&self, handle: &ChatterHandle) {
        let mut state = self.lock();
        let waiting = state.chats.get(&handle.chat_id).is_some_and(|c| {
            c.chatter_conn == handle.conn && matches!(c.state, ChatState::Waiting { .. })
        });
        if !waiting {
            return;
        }
        state.forget(handle.chat_id);
        tracing::info!(chat = %handle.chat_id, "hello without follow-up; place given up");
        state.publish(self.settings());
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
        state.close(handle.chat_id, EndedBy::TimedOut);
        tracing::info!(chat = %handle.chat_id, "chatter did not come back; chat closed");
        state.publish(self.settings());
    }

    /// The chatter's connection stopped answering (`stalled`), or answers again: the advocate
    /// hears it at once, so that they know their lines may not be arriving. The chat goes on;
    /// if the connection really is gone, `chatter_disconnected` follows.
    pub fn chatter_stalled(&self, handle: &ChatterHandle, stalled: bool) {
        let state = self.lock();
        let Some(chat) = state.chats.get(&handle.chat_id) else {
            return;
        };
        if chat.chatter_conn != handle.conn || !chat.is_open() {
            return;
        }
        let Some(advocate) = chat.advocate().and_then(|id| state.advocates.get(&id)) else {
            return;
        };
        let chat_id = handle.chat_id;
        let frame = if stalled {
            ToConsole::ChatterStalled { chat_id }
        } else {
            ToConsole::ChatterReconnected { chat_id }
        };
        send(advocate.outbox.as_ref(), &frame);
        tracing::info!(chat = %chat_id, stalled, "chatter connection stall changed");
    }
}
