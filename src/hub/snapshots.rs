//! What the consoles are shown of the whole hub: the first page of the waiting line, the staff
//! roster, the supervisors' overview and each one's own status. Every change in the hub
//! publishes; a `hello` at the back of a long line changes only the line's total. So each
//! snapshot is encoded again only when what it shows changed, the line's first page is kept as
//! encoded text, and each console is sent only a snapshot it has not had yet: a change costs
//! what it changes, not the roster times the number of consoles (issue 10).

use std::sync::Arc;

use uuid::Uuid;

use super::{
    chat::ChatState,
    outbox::{Frame, Snapshot},
    state::State,
    Settings,
};
use crate::protocol::{
    encode_text, AdvocateEntry, OverviewChat, OverviewQueue, QueueEntry, ToConsole, QUEUE_PAGE,
};

/// The snapshots as last encoded. A `version` goes up when a frame's text changes.
#[derive(Default)]
pub(super) struct Published {
    /// The first page of the line: what it was made of, and its entries as a JSON array.
    page: Option<(PageKey, String)>,
    queue: Versioned,
    roster_key: Option<Vec<RosterKey>>,
    roster: Versioned,
    /// The supervisors' list of chats in progress: what it was made of, and its JSON array.
    overview_chats: Option<(Vec<OverviewKey>, String)>,
    overview: Versioned,
}

/// What a console has been sent, so that a snapshot goes to it once.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Told {
    /// The connection these versions were sent on: a new console starts from nothing.
    conn: u64,
    queue: u64,
    roster: u64,
    overview: u64,
    status: Option<StatusKey>,
}

#[derive(Default)]
struct Versioned {
    frame: Option<Frame>,
    version: u64,
}

impl Versioned {
    fn set(&mut self, text: String) {
        let same = matches!(&self.frame, Some(Frame::Text(old)) if **old == *text);
        if !same {
            self.frame = Some(Frame::Text(Arc::from(text)));
            self.version += 1;
        }
    }
}

/// The line's first page changes when someone in it moves, leaves or changes queue, or when
/// the program's settings (what the queue may show of the intake) change.
#[derive(PartialEq)]
struct PageKey {
    entries: Vec<(Uuid, u64, bool, String)>,
    program: usize,
    hidden_intake: Vec<String>,
}

#[derive(PartialEq)]
struct RosterKey {
    id: Uuid,
    display_name: String,
    available: bool,
    load: usize,
    capacity: usize,
    connected: bool,
}

#[derive(PartialEq)]
struct OverviewKey {
    chat_id: Uuid,
    advocate_id: Uuid,
    advocate: String,
    queue: String,
    since: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct StatusKey {
    available: bool,
    load: usize,
    capacity: usize,
    open_now: bool,
    queue_full: bool,
}

impl super::Hub {
    /// Sends a console the staff roster as it stands (protocol 2's `advocates` request).
    pub fn send_roster(
        &self,
        handle: &super::AdvocateHandle,
    ) -> Result<(), crate::error::HubError> {
        let state = self.lock();
        let advocate = state
            .advocates
            .get(&handle.staff_id)
            .filter(|a| a.conn == handle.conn)
            .ok_or(crate::error::HubError::NotStarted)?;
        if let (Some(outbox), Some(frame)) = (&advocate.outbox, &state.published.roster.frame) {
            outbox.send(frame.clone());
        }
        Ok(())
    }
}

impl State {
    /// Brings every connected console up to date with the snapshots that changed.
    pub(super) fn publish_snapshots(&mut self, settings: &Settings) {
        let mut published = std::mem::take(&mut self.published);
        let queue = self.queue_text(&mut published, settings);
        published.queue.set(queue);
        self.update_roster(&mut published, settings);
        let oversight = self
            .advocates
            .values()
            .any(|a| a.outbox.is_some() && a.staff.role.oversees());
        if oversight {
            let text = self.overview_text(&mut published);
            published.overview.set(text);
        }
        // What chatters who arrive now are told (the same tests as `hello`).
        let open_now = self.program.hours.is_open_now();
        let queue_full = self.waiting.len() >= settings.max_waiting;
        let max_chats = &self.max_chats;
        for advocate in self.advocates.values_mut() {
            let Some(outbox) = advocate.outbox.as_ref() else {
                continue;
            };
            let told = &mut advocate.told;
            if told.conn != outbox.id() {
                *told = Told {
                    conn: outbox.id(),
                    ..Told::default()
                };
            }
            let show = |kind, seen: &mut u64, versioned: &Versioned| {
                if let (true, Some(frame)) = (*seen != versioned.version, &versioned.frame) {
                    outbox.snapshot(kind, frame);
                    *seen = versioned.version;
                }
            };
            show(Snapshot::Queue, &mut told.queue, &published.queue);
            // Protocol 2 asks for the roster when it needs it (`Hub::send_roster`): pushed to
            // every console after every change, it is the square of the staff on duty.
            if outbox.version().pushes_roster() {
                show(Snapshot::Advocates, &mut told.roster, &published.roster);
            }
            if oversight && advocate.staff.role.oversees() {
                show(Snapshot::Overview, &mut told.overview, &published.overview);
            }
            let status = StatusKey {
                available: advocate.available,
                load: advocate.chats.len(),
                capacity: max_chats
                    .get(&advocate.staff.id)
                    .copied()
                    .unwrap_or(settings.max_chats),
                open_now,
                queue_full,
            };
            if told.status != Some(status) {
                let text = encode_text(&ToConsole::Status {
                    available: status.available,
                    load: status.load,
                    capacity: status.capacity,
                    open_now,
                    queue_full,
                });
                outbox.snapshot(Snapshot::Status, &Frame::Text(text));
                told.status = Some(status);
            }
        }
        self.published = published;
    }

    /// The `queue` frame: the first page (encoded again only when it changed) and the total.
    fn queue_text(&self, published: &mut Published, settings: &Settings) -> String {
        let page: Vec<_> = self
            .waiting
            .iter()
            .take(QUEUE_PAGE)
            .filter_map(|id| self.chats.get(&id))
            .filter_map(|chat| match chat.state {
                ChatState::Waiting {
                    since_ms,
                    transferred,
                } => Some((chat, since_ms, transferred)),
                _ => None,
            })
            .collect();
        let key = PageKey {
            entries: page
                .iter()
                .map(|(chat, since, transferred)| {
                    (chat.id, *since, *transferred, chat.queue.clone())
                })
                .collect(),
            program: Arc::as_ptr(&self.program) as usize,
            hidden_intake: settings.queue_hidden_intake.clone(),
        };
        if published.page.as_ref().is_none_or(|(old, _)| *old != key) {
            let entries: Vec<_> = page
                .iter()
                .map(|(chat, since_ms, transferred)| QueueEntry {
                    chat_id: chat.id,
                    queue: &chat.queue,
                    language: chat.language.as_deref(),
                    waiting_since: *since_ms,
                    intake: chat.intake.as_ref().map(|intake| {
                        intake
                            .iter()
                            .filter(|(key, _)| !settings.queue_hidden_intake.contains(key))
                            .map(|(key, value)| (key.clone(), value.clone()))
                            .collect()
                    }),
                    transferred: *transferred,
                })
                .collect();
            let json = serde_json::to_string(&entries).expect("entries always serialise");
            published.page = Some((key, json));
        }
        let (_, entries) = published.page.as_ref().expect("set above");
        format!(
            r#"{{"type":"queue","entries":{entries},"total":{}}}"#,
            self.waiting.len()
        )
    }

    /// The `advocates` roster, encoded again only when someone's entry in it changed.
    fn update_roster(&self, published: &mut Published, settings: &Settings) {
        let mut roster: Vec<RosterKey> = self
            .advocates
            .values()
            .map(|a| RosterKey {
                id: a.staff.id,
                display_name: a.staff.display_name.clone(),
                available: a.available && a.connected(),
                load: a.load(),
                capacity: self.capacity(a.staff.id, settings.max_chats),
                connected: a.connected(),
            })
            .collect();
        roster.sort_by(|a, b| a.display_name.cmp(&b.display_name).then(a.id.cmp(&b.id)));
        if published.roster_key.as_ref() == Some(&roster) {
            return;
        }
        published
            .roster
            .set(encode_text_string(&ToConsole::Advocates {
                advocates: roster
                    .iter()
                    .map(|a| AdvocateEntry {
                        id: a.id,
                        display_name: &a.display_name,
                        available: a.available,
                        load: a.load,
                        capacity: a.capacity,
                        connected: a.connected,
                    })
                    .collect(),
            }));
        published.roster_key = Some(roster);
    }

    /// The supervisors' `overview`: chats in progress (found through the advocates, not by
    /// looking at every chat, most of which may be waiting) and each queue's line.
    fn overview_text(&self, published: &mut Published) -> String {
        let active: Vec<_> = self
            .advocates
            .values()
            .flat_map(|a| a.chats.iter().map(move |id| (a, id)))
            .filter_map(|(a, id)| {
                let chat = self.chats.get(id)?;
                match chat.state {
                    ChatState::Active { advocate, since_ms } if advocate == a.staff.id => {
                        Some((chat, a, since_ms))
                    }
                    _ => None,
                }
            })
            .collect();
        let key: Vec<OverviewKey> = active
            .iter()
            .map(|(chat, a, since)| OverviewKey {
                chat_id: chat.id,
                advocate_id: a.staff.id,
                advocate: a.staff.display_name.clone(),
                queue: chat.queue.clone(),
                since: *since,
            })
            .collect();
        if published
            .overview_chats
            .as_ref()
            .is_none_or(|(old, _)| *old != key)
        {
            let chats: Vec<_> = active
                .iter()
                .map(|(chat, a, since)| OverviewChat {
                    chat_id: chat.id,
                    advocate: &a.staff.display_name,
                    queue: &chat.queue,
                    since: *since,
                    advocate_id: a.staff.id,
                    language: chat.language.as_deref(),
                })
                .collect();
            let json = serde_json::to_string(&chats).expect("chats always serialise");
            published.overview_chats = Some((key, json));
        }
        let queues: Vec<_> = self
            .program
            .queues
            .iter()
            .map(|q| OverviewQueue {
                id: &q.id,
                waiting: self.waiting.count_in(&q.id),
                longest_waiting_since: self.waiting.longest_waiting_since(&q.id),
            })
            .collect();
        let queues = serde_json::to_string(&queues).expect("queues always serialise");
        let (_, chats) = published.overview_chats.as_ref().expect("set above");
        format!(r#"{{"type":"overview","chats":{chats},"queues":{queues}}}"#)
    }
}

fn encode_text_string<T: serde::Serialize>(frame: &T) -> String {
    serde_json::to_string(frame).expect("frames always serialise")
}
