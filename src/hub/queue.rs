//! The waiting line: oldest first across all queues, so the chatter who has waited longest is
//! offered first whatever queue they are in; positions are counted per queue.
//!
//! Every operation costs what it changes, not the length of the line: each queue keeps its own
//! line in rank order, an index says where each chat is, and the line remembers from where on
//! positions may have moved since they were last told ([`Waiting::take_moved`]). A `hello` at
//! the back moves nobody else; a claim at the front moves everyone behind it in that queue, and
//! each of them has a new position to hear. Chatters whose socket dropped (away, within the
//! waiting grace) are marked in the line itself, so that a flood of dropped hellos, each
//! expiring near the front, costs a pass over flags, not a lookup per absent chatter.

use std::collections::{HashMap, HashSet, VecDeque};

use uuid::Uuid;

use super::capacity::ReleaseSpare;

/// Where an entry stands: chats handed back after their advocate's grace period first, then
/// everyone else; within each, by the time they first started waiting; then by arrival, so
/// that equal times keep the order they came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    class: u8,
    since_ms: u64,
    arrival: u64,
}

/// One place in a line.
#[derive(Debug, Clone, Copy)]
struct Entry {
    rank: Rank,
    chat: Uuid,
    /// The chatter's socket is gone (see [`Waiting::set_away`]): nobody to tell a position.
    away: bool,
}

#[derive(Default)]
pub struct Waiting {
    /// Each queue's waiters in rank order.
    lines: HashMap<String, VecDeque<Entry>>,
    /// Each waiting chat's queue and rank.
    index: HashMap<Uuid, (String, Rank)>,
    /// Per queue, the first place whose position may have changed since [`Waiting::take_moved`].
    moved_from: HashMap<String, usize>,
    /// Waiting chats whose chatter's socket is gone (within the short waiting grace): they keep
    /// their place but not a real arrival out of the line.
    away: HashSet<Uuid>,
    arrivals: u64,
}

impl Waiting {
    /// Inserts by waiting time: a chatter transferred to a queue keeps the place their first
    /// wait earned them instead of starting over at the back.
    pub fn insert(&mut self, since_ms: u64, queue: &str, chat: Uuid) {
        self.insert_ranked(1, since_ms, queue, chat);
    }

    /// Inserts at the front, before every ordinary waiter: a chat whose advocate vanished has
    /// already waited once and was talking to someone (documented in docs/protocol.md).
    pub fn insert_front(&mut self, since_ms: u64, queue: &str, chat: Uuid) {
        self.insert_ranked(0, since_ms, queue, chat);
    }

    fn insert_ranked(&mut self, class: u8, since_ms: u64, queue: &str, chat: Uuid) {
        self.remove(chat);
        self.arrivals += 1;
        let rank = Rank {
            class,
            since_ms,
            arrival: self.arrivals,
        };
        self.place(rank, queue, chat);
    }

    fn place(&mut self, rank: Rank, queue: &str, chat: Uuid) {
        let line = self.lines.entry(queue.to_owned()).or_default();
        let at = line.partition_point(|e| e.rank < rank);
        line.insert(
            at,
            Entry {
                rank,
                chat,
                away: false,
            },
        );
        self.index.insert(chat, (queue.to_owned(), rank));
        self.moved(queue, at);
    }

    pub fn remove(&mut self, chat: Uuid) -> bool {
        let Some((queue, rank)) = self.index.remove(&chat) else {
            return false;
        };
        self.away.remove(&chat);
        let line = self
            .lines
            .get_mut(&queue)
            .expect("indexed chats have a line");
        let at = line.partition_point(|e| e.rank < rank);
        debug_assert_eq!(line.get(at).map(|e| e.chat), Some(chat));
        line.remove(at);
        if line.is_empty() {
            self.lines.remove(&queue);
            self.moved_from.remove(&queue);
        } else {
            self.moved(&queue, at);
        }
        true
    }

    /// Positions from place `at` on in `queue` may have changed.
    fn moved(&mut self, queue: &str, at: usize) {
        match self.moved_from.get_mut(queue) {
            Some(from) => *from = (*from).min(at),
            None => {
                self.moved_from.insert(queue.to_owned(), at);
            }
        }
    }

    /// Puts a waiting chat in another queue without changing its place in line.
    pub fn move_to_queue(&mut self, chat: Uuid, queue: &str) {
        if let Some((_, rank)) = self.index.get(&chat).cloned() {
            let away = self.away.contains(&chat);
            self.remove(chat);
            self.place(rank, queue, chat);
            self.set_away(chat, away);
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Marks a waiting chat's chatter as gone (`true`) or back.
    pub fn set_away(&mut self, chat: Uuid, away: bool) {
        let Some((queue, rank)) = self.index.get(&chat).cloned() else {
            self.away.remove(&chat);
            return;
        };
        let line = self
            .lines
            .get_mut(&queue)
            .expect("indexed chats have a line");
        let at = line.partition_point(|e| e.rank < rank);
        line[at].away = away;
        if away {
            self.away.insert(chat);
        } else if self.away.remove(&chat) {
            // Positions moved while they were away were not told: tell theirs now.
            self.moved(&queue, at);
        }
    }

    /// Waiting chats whose chatter is connected.
    pub fn present(&self) -> usize {
        self.index.len() - self.away.len()
    }

    pub fn count_in(&self, queue: &str) -> usize {
        self.lines.get(queue).map_or(0, VecDeque::len)
    }

    /// The chat that has waited longest, whatever its queue.
    pub fn oldest(&self) -> Option<Uuid> {
        self.lines
            .values()
            .filter_map(VecDeque::front)
            .min_by_key(|e| e.rank)
            .map(|e| e.chat)
    }

    /// Every waiting chat, oldest first across queues. Taking the first few costs a few steps
    /// per queue, not the whole line.
    pub fn iter(&self) -> impl Iterator<Item = Uuid> + '_ {
        let mut heads: Vec<(&VecDeque<Entry>, usize)> =
            self.lines.values().map(|line| (line, 0)).collect();
        std::iter::from_fn(move || {
            let (line, at) = heads
                .iter_mut()
                .filter(|(line, at)| *at < line.len())
                .min_by_key(|(line, at)| line[*at].rank)?;
            *at += 1;
            Some(line[*at - 1].chat)
        })
    }

    /// 1-based position among those waiting in the same queue.
    pub fn position(&self, chat: Uuid) -> Option<usize> {
        let (queue, rank) = self.index.get(&chat)?;
        let line = self.lines.get(queue)?;
        Some(line.partition_point(|e| e.rank < *rank) + 1)
    }

    /// When the chatter waiting longest in `queue` first started waiting (handed-back chats
    /// go first in line but may have started later).
    pub fn longest_waiting_since(&self, queue: &str) -> Option<u64> {
        let line = self.lines.get(queue)?;
        let first_ordinary = line.partition_point(|e| e.rank.class == 0);
        [line.front(), line.get(first_ordinary)]
            .into_iter()
            .flatten()
            .map(|e| e.rank.since_ms)
            .min()
    }

    /// Gives back the room the line kept from its longest moment.
    pub fn release_spare_capacity(&mut self) {
        self.lines
            .values_mut()
            .for_each(ReleaseSpare::release_spare);
        self.index.release_spare();
        self.away.release_spare();
    }

    /// The chats whose position may have changed since the last call, with their positions
    /// now: only those behind a change, so a change costs what it moves. Chatters who are away
    /// are left out (there is nobody to tell); they hear theirs when they come back.
    pub fn take_moved(&mut self) -> Vec<(Uuid, usize)> {
        let mut moved = Vec::new();
        for (queue, from) in self.moved_from.drain() {
            if let Some(line) = self.lines.get(&queue) {
                moved.extend(
                    line.iter()
                        .enumerate()
                        .skip(from)
                        .filter(|(_, e)| !e.away)
                        .map(|(at, e)| (e.chat, at + 1)),
                );
            }
        }
        moved
    }

    /// Whether every line is in rank order and the index agrees (for the state-machine test).
    #[cfg(test)]
    pub fn is_ordered(&self) -> bool {
        self.lines.iter().all(|(queue, line)| {
            line.iter()
                .zip(line.iter().skip(1))
                .all(|(a, b)| a.rank < b.rank)
                && line.iter().all(|e| {
                    self.index.get(&e.chat) == Some(&(queue.clone(), e.rank))
                        && e.away == self.away.contains(&e.chat)
                })
        }) && self.lines.values().map(VecDeque::len).sum::<usize>() == self.index.len()
            && self.away.iter().all(|chat| self.index.contains_key(chat))
    }
}

#[cfg(test)]
mod tests;
