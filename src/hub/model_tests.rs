//! The hub as a state machine (issue 8): random sequences of what chatters, advocates, timers
//! and the operator do, with the hub's invariants checked after every step.
//!
//! Invariants: no chat has two advocates; a message reaches only the two ends of its own chat;
//! every acknowledged message is in its transcript until the purge; a purged chat leaves
//! nothing in the hub's maps; the queue is in its documented order.

use std::{collections::HashMap, time::Duration};

use proptest::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::{
    chat::ChatState,
    outbox::{Frame, Inbox, Outbox},
    text::{ClientId, MessageText},
    AdvocateHandle, ChatterHandle, Hello, Hub, LoginId, Settings, TransferTarget,
};
use crate::{
    config::Config,
    staff::{Role, Staff},
};

const CHATTERS: usize = 4;
const ADVOCATES: usize = 2;

#[derive(Debug, Clone)]
enum Op {
    Hello(usize),
    Claim(usize, usize),
    ChatterSays(usize),
    AdvocateSays(usize, usize),
    Typing(usize),
    TransferToAdvocate(usize, usize),
    TransferToQueue(usize, usize),
    Drop(usize),
    Resume(usize),
    Leave(usize),
    End(usize, usize),
    AdvocateDrops(usize),
    AdvocateReturns(usize),
    SessionExpires(usize),
    Wait(u64),
    Purge,
    Shutdown,
}

fn op() -> impl Strategy<Value = Op> {
    let c = 0..CHATTERS;
    let a = 0..ADVOCATES;
    prop_oneof![
        4 => c.clone().prop_map(Op::Hello),
        4 => (a.clone(), c.clone()).prop_map(|(a, c)| Op::Claim(a, c)),
        4 => c.clone().prop_map(Op::ChatterSays),
        4 => (a.clone(), c.clone()).prop_map(|(a, c)| Op::AdvocateSays(a, c)),
        1 => c.clone().prop_map(Op::Typing),
        1 => (a.clone(), c.clone()).prop_map(|(a, c)| Op::TransferToAdvocate(a, c)),
        1 => (a.clone(), c.clone()).prop_map(|(a, c)| Op::TransferToQueue(a, c)),
        2 => c.clone().prop_map(Op::Drop),
        2 => c.clone().prop_map(Op::Resume),
        1 => c.clone().prop_map(Op::Leave),
        1 => (a.clone(), c.clone()).prop_map(|(a, c)| Op::End(a, c)),
        1 => a.clone().prop_map(Op::AdvocateDrops),
        1 => a.clone().prop_map(Op::AdvocateReturns),
        1 => a.prop_map(Op::SessionExpires),
        2 => (1u64..40).prop_map(Op::Wait),
        1 => Just(Op::Purge),
        1 => Just(Op::Shutdown),
    ]
}

struct Chatter {
    outbox: Outbox,
    inbox: Inbox,
    handle: Option<ChatterHandle>,
    token: Option<String>,
}

struct Advocate {
    staff: Staff,
    outbox: Outbox,
    inbox: Inbox,
    handle: AdvocateHandle,
}

/// What the test knows of the world, to judge the hub by.
struct World {
    hub: Hub,
    chatters: Vec<Chatter>,
    advocates: Vec<Advocate>,
    /// Message text → the chat it was written in.
    written: HashMap<String, Uuid>,
    /// Acknowledged message texts, by chat.
    acked: HashMap<Uuid, Vec<String>>,
    /// Chats each advocate was ever handed (an advocate may see messages only of these).
    handed: Vec<Vec<Uuid>>,
    next_text: usize,
}

fn staff(i: usize) -> Staff {
    Staff {
        id: Uuid::new_v4(),
        username: format!("a{i}"),
        display_name: format!("Advocate {i}"),
        role: Role::Advocate,
    }
}

fn frames(inbox: &mut Inbox) -> Vec<Value> {
    let mut out = Vec::new();
    while let Ok(frame) = inbox.rx.try_recv() {
        match frame {
            Frame::Text(text) | Frame::Ack(text) => out.push(serde_json::from_str(&text).unwrap()),
            Frame::Batch(texts) => {
                out.extend(texts.iter().map(|t| serde_json::from_str(t).unwrap()))
            }
            Frame::Close(..) => {}
        }
    }
    for text in inbox.latest.take() {
        out.push(serde_json::from_str(&text).unwrap());
    }
    out
}

impl World {
    fn new() -> World {
        let mut config = Config::embedded_defaults();
        config.chat.max_chats_per_advocate = 2;
        config.chat.resume_grace_secs = 30;
        config.chat.retention_after_close_secs = 60;
        config.protection.waiting_grace_secs = 10;
        let hub = Hub::new(Settings::from_config(&config));
        let advocates = (0..ADVOCATES)
            .map(|i| {
                let staff = staff(i);
                let (outbox, inbox) = Outbox::new(100_000);
                let handle = hub.advocate_connect(staff.clone(), LoginId::default(), &outbox);
                hub.advocate_status(&handle, true);
                Advocate {
                    staff,
                    outbox,
                    inbox,
                    handle,
                }
            })
            .collect();
        let chatters = (0..CHATTERS)
            .map(|_| {
                let (outbox, inbox) = Outbox::new(100_000);
                Chatter {
                    outbox,
                    inbox,
                    handle: None,
                    token: None,
                }
            })
            .collect();
        World {
            hub,
            chatters,
            advocates,
            written: HashMap::new(),
            acked: HashMap::new(),
            handed: vec![Vec::new(); ADVOCATES],
            next_text: 0,
        }
    }

    fn text(&mut self) -> String {
        self.next_text += 1;
        format!("line {}", self.next_text)
    }

    fn chat_of(&self, c: usize) -> Option<Uuid> {
        self.chatters[c].handle.map(|h| h.chat_id)
    }

    async fn apply(&mut self, op: &Op) {
        let hub = self.hub.clone();
        match *op {
            Op::Hello(c) => {
                let chatter = &mut self.chatters[c];
                if chatter.handle.is_some_and(|h| hub.chat_is_open(&h)) {
                    return;
                }
                let hello = Hello {
                    queue: None,
                    language: None,
                    intake: None,
                };
                if let Ok(Some(handle)) = hub.chatter_hello(&chatter.outbox, hello) {
                    chatter.handle = Some(handle);
                }
            }
            Op::Claim(a, c) => {
                if let Some(chat) = self.chat_of(c) {
                    if hub.claim(&self.advocates[a].handle, chat).is_ok() {
                        self.handed[a].push(chat);
                    }
                }
            }
            Op::ChatterSays(c) => {
                let text = self.text();
                if let Some(handle) = self.chatters[c].handle {
                    self.written.insert(text.clone(), handle.chat_id);
                    let id = ClientId::parse(text.clone()).unwrap();
                    let body = MessageText::parse(text, 4096).unwrap();
                    let _ = hub.chatter_message(&handle, id, body);
                }
            }
            Op::AdvocateSays(a, c) => {
                let text = self.text();
                if let Some(chat) = self.chat_of(c) {
                    self.written.insert(text.clone(), chat);
                    let id = ClientId::parse(text.clone()).unwrap();
                    let body = MessageText::parse(text, 4096).unwrap();
                    let _ = hub.advocate_message(&self.advocates[a].handle, chat, id, body);
                }
            }
            Op::Typing(c) => {
                if let Some(handle) = self.chatters[c].handle {
                    let _ = hub.chatter_typing(&handle, true);
                }
            }
            Op::TransferToAdvocate(a, c) => {
                if let Some(chat) = self.chat_of(c) {
                    let to = self.advocates[1 - a].staff.id;
                    let target = TransferTarget::Advocate(to);
                    if hub
                        .transfer(&self.advocates[a].handle, chat, target, None)
                        .is_ok()
                    {
                        self.handed[1 - a].push(chat);
                    }
                }
            }
            Op::TransferToQueue(a, c) => {
                if let Some(chat) = self.chat_of(c) {
                    let target = TransferTarget::Queue("referrals".into());
                    let _ = hub.transfer(&self.advocates[a].handle, chat, target, None);
                }
            }
            Op::Drop(c) => {
                let chatter = &mut self.chatters[c];
                if let Some(handle) = chatter.handle {
                    hub.chatter_disconnected(&handle);
                    // A new socket for the next resume or hello.
                    let (outbox, inbox) = Outbox::new(100_000);
                    chatter.outbox = outbox;
                    let old = std::mem::replace(&mut chatter.inbox, inbox);
                    drop(old);
                }
            }
            Op::Resume(c) => {
                let chatter = &mut self.chatters[c];
                if let Some(token) = &chatter.token {
                    if let Ok(handle) = hub.chatter_resume(&chatter.outbox, token, 0) {
                        chatter.handle = Some(handle);
                    }
                }
            }
            Op::Leave(c) => {
                if let Some(handle) = self.chatters[c].handle {
                    let _ = hub.chatter_leave(&handle, false);
                }
            }
            Op::End(a, c) => {
                if let Some(chat) = self.chat_of(c) {
                    let _ = hub.end_chat(&self.advocates[a].handle, chat);
                }
            }
            Op::AdvocateDrops(a) => hub.advocate_disconnected(&self.advocates[a].handle),
            Op::AdvocateReturns(a) => {
                let advocate = &mut self.advocates[a];
                let (outbox, inbox) = Outbox::new(100_000);
                advocate.handle =
                    hub.advocate_connect(advocate.staff.clone(), LoginId::default(), &outbox);
                hub.advocate_status(&advocate.handle, true);
                advocate.outbox = outbox;
                advocate.inbox = inbox;
            }
            Op::SessionExpires(a) => {
                hub.staff_signed_out(self.advocates[a].staff.id, LoginId::default())
            }
            Op::Wait(secs) => {
                tokio::time::sleep(Duration::from_secs(secs)).await;
            }
            Op::Purge => {
                hub.purge_closed();
            }
            Op::Shutdown => hub.shutdown(),
        }
        // Let timers that came due run.
        tokio::task::yield_now().await;
    }

    /// Reads every queued frame and checks who received what.
    fn check_deliveries(&mut self) {
        for c in 0..CHATTERS {
            let chat = self.chat_of(c);
            for frame in frames(&mut self.chatters[c].inbox) {
                match frame["type"].as_str() {
                    Some("welcome") => {
                        self.chatters[c].token = frame["token"].as_str().map(str::to_owned);
                    }
                    Some("message") if frame["from"] != "system" => {
                        let text = frame["text"].as_str().unwrap();
                        assert_eq!(
                            self.written.get(text).copied(),
                            chat,
                            "chatter {c} received a line of another chat: {frame}"
                        );
                    }
                    Some("ack") => {
                        let text = frame["id"].as_str().unwrap().to_owned();
                        let chat = self.written[&text];
                        self.acked.entry(chat).or_default().push(text);
                    }
                    _ => {}
                }
            }
        }
        for a in 0..ADVOCATES {
            for frame in frames(&mut self.advocates[a].inbox) {
                let chat_id = frame["chat_id"]
                    .as_str()
                    .map(|s| s.parse::<Uuid>().unwrap());
                match frame["type"].as_str() {
                    Some("assigned") => self.handed[a].push(chat_id.unwrap()),
                    Some("message") if frame["from"] != "system" => {
                        let chat_id = chat_id.unwrap();
                        let text = frame["text"].as_str().unwrap();
                        assert_eq!(
                            self.written.get(text).copied(),
                            Some(chat_id),
                            "advocate {a} got a line under the wrong chat: {frame}"
                        );
                        assert!(
                            self.handed[a].contains(&chat_id),
                            "advocate {a} got a line of a chat never handed to them: {frame}"
                        );
                    }
                    Some("ack") => {
                        let text = frame["id"].as_str().unwrap().to_owned();
                        self.acked.entry(chat_id.unwrap()).or_default().push(text);
                    }
                    _ => {}
                }
            }
        }
    }

    fn check_state(&self) {
        let state = self.hub.lock();
        // No chat has two advocates, and the roster and the chats agree.
        let mut holders: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for advocate in state.advocates.values() {
            for chat in &advocate.chats {
                holders.entry(*chat).or_default().push(advocate.staff.id);
            }
        }
        for (chat_id, who) in &holders {
            assert_eq!(who.len(), 1, "chat {chat_id} held by {who:?}");
            let chat = state.chats.get(chat_id).expect("a held chat exists");
            assert_eq!(chat.advocate(), Some(who[0]), "roster and chat disagree");
        }
        for chat in state.chats.values() {
            if let Some(advocate) = chat.advocate() {
                assert_eq!(
                    holders.get(&chat.id).map(Vec::as_slice),
                    Some(&[advocate][..]),
                    "an active chat is in its advocate's list"
                );
            }
        }
        // The waiting line holds exactly the waiting chats, once each, in order.
        let waiting: Vec<Uuid> = state.waiting.iter().collect();
        let mut unique = waiting.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), waiting.len(), "a chat waits twice");
        for chat in state.chats.values() {
            let is_waiting = matches!(chat.state, ChatState::Waiting { .. });
            assert_eq!(
                waiting.contains(&chat.id),
                is_waiting,
                "waiting line and chat state disagree"
            );
        }
        assert!(state.waiting.is_ordered(), "queue out of order");
        let present = waiting
            .iter()
            .filter(|id| state.chats.get(id).is_some_and(|c| c.chatter.is_some()))
            .count();
        assert_eq!(
            state.waiting.present(),
            present,
            "the line's count of connected waiters is wrong"
        );
        for (position_chat, told) in state
            .chats
            .values()
            .filter(|c| c.chatter.is_some())
            .filter_map(|c| Some((c.id, c.told_position?)))
        {
            if matches!(state.chats[&position_chat].state, ChatState::Waiting { .. }) {
                assert_eq!(
                    state.waiting.position(position_chat),
                    Some(told),
                    "a connected waiter was told a stale position"
                );
            }
        }
        // Purged chats leave nothing behind: every token and waiting entry points at a chat.
        for chat_id in state.tokens.values() {
            assert!(
                state.chats.contains_key(chat_id),
                "a token of a purged chat"
            );
        }
        assert!(waiting.iter().all(|id| state.chats.contains_key(id)));
        assert_eq!(state.tokens.len(), state.chats.len(), "one token per chat");
        // Every acknowledged message is still in its transcript while the chat exists.
        for (chat_id, texts) in &self.acked {
            let Some(chat) = state.chats.get(chat_id) else {
                continue;
            };
            for text in texts {
                assert!(
                    chat.transcript.all().any(|l| l.text.as_str() == text),
                    "acknowledged {text} missing from chat {chat_id}"
                );
            }
        }
        // The memory meter matches the transcripts it measures.
        let held: usize = state
            .chats
            .values()
            .flat_map(|c| c.transcript.all())
            .map(|l| l.text.len())
            .sum();
        assert_eq!(state.memory.meter.bytes(), held, "memory meter drifted");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_hub_keeps_its_invariants(ops in proptest::collection::vec(op(), 1..80)) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut world = World::new();
            for op in &ops {
                world.apply(op).await;
                world.check_deliveries();
                world.check_state();
            }
        });
    }
}
