//! The hub's state and the moves that change several parts of it at once. Everything here
//! runs under the hub's one lock, which is what makes claim, transfer and auto-assign atomic;
//! nothing here awaits.

use std::collections::{HashMap, VecDeque};

use serde::Serialize;
use tokio::time::Instant;
use uuid::Uuid;

use super::{
    budget::Memory,
    chat::{Chat, ChatState, Handover},
    events::{ChatEvent, EndedBy, Recorder},
    now_ms,
    outbox::{Outbox, Snapshot},
    queue::Waiting,
    roster::Advocate,
    snapshots::Published,
    Settings,
};
use crate::protocol::{encode, ReleaseReason, Sender, SystemNote, ToChatter, ToConsole};

/// How many recent waits the queue estimate averages.
const WAIT_SAMPLES: usize = 20;

pub(super) struct State {
    /// Boxed: a map keeps room for more entries than it holds, and a `Chat` is large.
    pub chats: HashMap<Uuid, Box<Chat>>,
    /// Resume-token hash → chat.
    pub tokens: HashMap<[u8; 32], Uuid>,
    pub waiting: Waiting,
    pub advocates: HashMap<Uuid, Advocate>,
    /// Seconds the last chatters waited before an advocate joined (no ids, just numbers).
    pub recent_waits: VecDeque<u64>,
    pub closing: bool,
    /// The task that re-publishes when service hours open or close is running.
    pub service_watched: bool,
    /// Where chat events go for the statistics.
    pub recorder: Option<std::sync::Arc<dyn Recorder>>,
    pub memory: Memory,
    /// What admins may change while Haven runs (`Hub::set_program`).
    pub program: std::sync::Arc<super::ProgramSettings>,
    /// Staff id → their own chat limit, where an admin set one (else `Settings::max_chats`).
    pub max_chats: HashMap<Uuid, usize>,
    /// The consoles' snapshots as last encoded (`snapshots.rs`).
    pub published: Published,
}

impl State {
    pub fn new(program: super::ProgramSettings) -> State {
        State {
            chats: HashMap::new(),
            tokens: HashMap::new(),
            waiting: Waiting::default(),
            advocates: HashMap::new(),
            recent_waits: VecDeque::new(),
            closing: false,
            service_watched: false,
            recorder: None,
            memory: Memory::default(),
            program: std::sync::Arc::new(program),
            max_chats: HashMap::new(),
            published: Published::default(),
        }
    }
}

pub(super) fn send<T: Serialize>(outbox: Option<&Outbox>, frame: &T) {
    if let Some(outbox) = outbox {
        outbox.send(encode(frame));
    }
}

impl State {
    pub fn record(&self, event: ChatEvent) {
        if let Some(recorder) = &self.recorder {
            recorder.record(event);
        }
    }

    pub fn on_duty(&self) -> usize {
        self.advocates
            .values()
            .filter(|a| a.connected() && a.available)
            .count()
    }

    /// Appends a line to a chat and shows it to both sides.
    pub fn post(
        &mut self,
        chat_id: Uuid,
        from: Sender,
        text: String,
        note: Option<SystemNote>,
    ) -> Option<(u64, u64)> {
        let chat = self.chats.get_mut(&chat_id)?;
        let advocate = chat.advocate();
        let chatter = chat.chatter.clone();
        let line = chat.transcript.push(from, text, now_ms(), note);
        let (seq, at) = (line.seq, line.at);
        let view = line.view();
        // In protocol 2 the writer of a line gets only its `ack`.
        let echo =
            |outbox: &Outbox, writer: Sender| from != writer || outbox.version().echoes_own_lines();
        if let Some(chatter) = chatter.as_ref().filter(|o| echo(o, Sender::Chatter)) {
            send(Some(chatter), &ToChatter::Message(view.clone()));
        }
        let advocate = advocate
            .and_then(|id| self.advocates.get(&id))
            .filter(|a| a.outbox.as_ref().is_some_and(|o| echo(o, Sender::Advocate)));
        if let Some(advocate) = advocate {
            send(
                advocate.outbox.as_ref(),
                &ToConsole::Message {
                    chat_id,
                    message: view,
                },
            );
        }
        let trimmed = self
            .chats
            .get_mut(&chat_id)
            .is_some_and(|c| c.transcript.take_trim_notice());
        if trimmed {
            self.post(
                chat_id,
                Sender::System,
                "Older messages in this chat were removed to keep it within its size limit.".into(),
                Some(SystemNote::LinesDropped),
            );
        }
        self.relieve_memory(0);
        Some((seq, at))
    }

    /// Removes a chat and its token; dropping it zeroizes its transcript and intake.
    pub fn forget(&mut self, chat_id: Uuid) {
        self.waiting.remove(chat_id);
        if let Some(chat) = self.chats.remove(&chat_id) {
            self.tokens.remove(&chat.token_hash);
        }
    }

    /// Gives a waiting chat to an advocate and introduces them to each other.
    pub fn assign(&mut self, chat_id: Uuid, staff_id: Uuid, transfer: Option<Handover>) {
        let (Some(chat), Some(advocate)) = (
            self.chats.get_mut(&chat_id),
            self.advocates.get_mut(&staff_id),
        ) else {
            return;
        };
        let now = now_ms();
        if let ChatState::Waiting {
            since_ms,
            transferred: false,
        } = chat.state
        {
            if self.recent_waits.len() == WAIT_SAMPLES {
                self.recent_waits.pop_front();
            }
            self.recent_waits
                .push_back(now.saturating_sub(since_ms) / 1000);
        }
        self.waiting.remove(chat_id);
        chat.state = ChatState::Active {
            advocate: staff_id,
            since_ms: now,
        };
        let first_answer = chat.answered_ms.is_none().then(|| ChatEvent::Answered {
            queue: chat.queue.clone(),
            started_ms: chat.first_waited_ms,
            waited_ms: now.saturating_sub(chat.first_waited_ms),
        });
        chat.answered_ms.get_or_insert(now);
        chat.told_position = None;
        if let Some(outbox) = &chat.chatter {
            // A position not yet sent must not arrive after `joined`.
            outbox.clear_snapshot(Snapshot::Position);
        }
        advocate.chats.push(chat_id);
        advocate.last_assigned_ms = now;
        let handover = transfer.or_else(|| chat.handover.take());
        if let Some(outbox) = &advocate.outbox {
            outbox.send(chat.assigned_frame(handover.as_ref()));
        }
        send(
            chat.chatter.as_ref(),
            &ToChatter::Joined {
                advocate: &advocate.staff.display_name,
            },
        );
        tracing::info!(chat = %chat_id, staff = %staff_id, "chat assigned");
        if let Some(event) = first_answer {
            self.record(event);
        }
    }

    /// Takes a chat away from its advocate (if any), telling them why.
    pub fn release(&mut self, chat_id: Uuid, reason: Option<ReleaseReason>) {
        let Some(staff_id) = self.chats.get(&chat_id).and_then(|chat| chat.advocate()) else {
            return;
        };
        if let Some(advocate) = self.advocates.get_mut(&staff_id) {
            advocate.chats.retain(|c| *c != chat_id);
            if let Some(reason) = reason {
                send(
                    advocate.outbox.as_ref(),
                    &ToConsole::Ended { chat_id, reason },
                );
            }
        }
    }

    /// Closes a chat: it leaves the queue and its advocate; its transcript waits for the purge.
    pub fn close(&mut self, chat_id: Uuid, by: EndedBy) {
        self.release(chat_id, None);
        self.waiting.remove(chat_id);
        if let Some(chat) = self.chats.get(&chat_id).filter(|c| c.is_open()) {
            let (queue, started_ms) = (chat.queue.clone(), chat.first_waited_ms);
            self.record(match chat.answered_ms {
                None => ChatEvent::Abandoned { queue, started_ms },
                Some(answered) => ChatEvent::Ended {
                    queue,
                    started_ms,
                    by,
                    lasted_ms: now_ms().saturating_sub(answered),
                },
            });
        }
        if let Some(chat) = self.chats.get_mut(&chat_id) {
            chat.state = ChatState::Closed { at: Instant::now() };
            if let Some(outbox) = &chat.chatter {
                outbox.clear_snapshot(Snapshot::Position);
            }
            tracing::info!(chat = %chat_id, "chat closed");
        }
    }

    /// Puts an active chat back in a queue, keeping the chatter's original place.
    /// A queue removed since the chat began means the default queue.
    pub fn requeue(&mut self, chat_id: Uuid, queue: String, handover: Option<Handover>) {
        let queue = self.program.queue_or_default(&queue).id.clone();
        let Some(chat) = self.chats.get_mut(&chat_id) else {
            return;
        };
        chat.queue = queue;
        chat.handover = handover;
        chat.told_position = None;
        chat.state = ChatState::Waiting {
            since_ms: chat.first_waited_ms,
            transferred: true,
        };
        self.waiting
            .insert(chat.first_waited_ms, &chat.queue, chat_id);
        self.waiting.set_away(chat_id, chat.chatter.is_none());
    }

    /// Like `requeue`, but to the front of the line: the chat's advocate vanished.
    pub fn requeue_front(&mut self, chat_id: Uuid, queue: String, handover: Option<Handover>) {
        self.requeue(chat_id, queue, handover);
        if let Some(chat) = self.chats.get(&chat_id) {
            self.waiting.remove(chat_id);
            self.waiting
                .insert_front(chat.first_waited_ms, &chat.queue, chat_id);
            self.waiting.set_away(chat_id, chat.chatter.is_none());
        }
    }

    /// Seconds until an advocate is likely to join, from recent waits; `None` without data.
    pub fn estimate_secs(&self, position: usize) -> Option<u64> {
        if self.recent_waits.is_empty() {
            return None;
        }
        let average = self.recent_waits.iter().sum::<u64>() / self.recent_waits.len() as u64;
        let on_duty = self.on_duty().max(1) as u64;
        Some((average.max(30) * position as u64).div_ceil(on_duty))
    }

    /// After any change to queues or staff: auto-assign, then tell everyone what changed.
    pub fn publish(&mut self, settings: &Settings) {
        if settings.auto_assign {
            self.auto_assign(settings.max_chats);
        }
        self.tell_positions();
        self.publish_snapshots(settings);
    }

    /// Sends `queued` to each waiting chatter whose position changed (only those behind a
    /// change are looked at).
    fn tell_positions(&mut self) {
        let positions = self.waiting.take_moved();
        for (chat_id, position) in positions {
            let estimate = self.estimate_secs(position);
            let Some(chat) = self.chats.get_mut(&chat_id) else {
                continue;
            };
            if chat.told_position == Some(position) || chat.chatter.is_none() {
                continue;
            }
            chat.told_position = Some(position);
            if let Some(outbox) = &chat.chatter {
                let queued = encode(&ToChatter::Queued {
                    queue: &chat.queue,
                    position,
                    estimate_secs: estimate,
                });
                outbox.snapshot(Snapshot::Position, &queued);
            }
        }
    }

    /// Oldest chatter first, to the least-loaded available advocate with room (their own
    /// limit, or `max_chats`).
    fn auto_assign(&mut self, max_chats: usize) {
        while let Some(chat_id) = self.waiting.oldest() {
            let Some(staff_id) = self
                .advocates
                .values()
                .filter(|a| {
                    a.connected() && a.available && a.load() < self.capacity(a.staff.id, max_chats)
                })
                .min_by_key(|a| (a.load(), a.last_assigned_ms))
                .map(|a| a.staff.id)
            else {
                return;
            };
            self.assign(chat_id, staff_id, None);
        }
    }
}
