//! The waiting line. One list for all queues, oldest first, so the chatter who has waited
//! longest is offered first whatever queue they are in; positions are counted per queue.

use std::collections::VecDeque;

use uuid::Uuid;

/// Where an entry stands: chats handed back after their advocate's grace period first, then
/// everyone else; within each, by the time they first started waiting.
type Rank = (u8, u64);

#[derive(Default)]
pub struct Waiting {
    /// (rank, queue id, chat id), sorted by rank.
    entries: VecDeque<(Rank, String, Uuid)>,
}

impl Waiting {
    /// Inserts by waiting time: a chatter transferred to a queue keeps the place their first
    /// wait earned them instead of starting over at the back.
    pub fn insert(&mut self, since_ms: u64, queue: &str, chat: Uuid) {
        self.insert_ranked((1, since_ms), queue, chat);
    }

    /// Inserts at the front, before every ordinary waiter: a chat whose advocate vanished has
    /// already waited once and was talking to someone (documented in docs/protocol.md).
    pub fn insert_front(&mut self, since_ms: u64, queue: &str, chat: Uuid) {
        self.insert_ranked((0, since_ms), queue, chat);
    }

    fn insert_ranked(&mut self, rank: Rank, queue: &str, chat: Uuid) {
        let at = self.entries.partition_point(|(r, _, _)| *r <= rank);
        self.entries.insert(at, (rank, queue.to_owned(), chat));
    }

    pub fn remove(&mut self, chat: Uuid) -> bool {
        match self.entries.iter().position(|(_, _, c)| *c == chat) {
            Some(i) => {
                self.entries.remove(i);
                true
            }
            None => false,
        }
    }

    /// Puts a waiting chat in another queue without changing its place in line.
    pub fn move_to_queue(&mut self, chat: Uuid, queue: &str) {
        if let Some(entry) = self.entries.iter_mut().find(|(_, _, c)| *c == chat) {
            entry.1 = queue.to_owned();
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn oldest(&self) -> Option<Uuid> {
        self.entries.front().map(|(_, _, c)| *c)
    }

    pub fn iter(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.entries.iter().map(|(_, _, c)| *c)
    }

    /// Every waiting chat with its 1-based position in its own queue, in one pass: asking
    /// [`Waiting::position`] for each would cost the square of the line's length per change.
    pub fn positions(&self) -> impl Iterator<Item = (Uuid, usize)> + '_ {
        let mut ahead: std::collections::HashMap<&str, usize> = Default::default();
        self.entries.iter().map(move |(_, queue, chat)| {
            let count = ahead.entry(queue.as_str()).or_default();
            *count += 1;
            (*chat, *count)
        })
    }

    /// 1-based position among those waiting in the same queue.
    pub fn position(&self, chat: Uuid) -> Option<usize> {
        let (_, queue, _) = self.entries.iter().find(|(_, _, c)| *c == chat)?;
        let ahead = self
            .entries
            .iter()
            .take_while(|(_, _, c)| *c != chat)
            .filter(|(_, q, _)| q == queue)
            .count();
        Some(ahead + 1)
    }

    /// Whether the entries are in rank order (for the state-machine test).
    #[cfg(test)]
    pub fn is_ordered(&self) -> bool {
        self.entries
            .iter()
            .zip(self.entries.iter().skip(1))
            .all(|(a, b)| a.0 <= b.0)
    }

    pub fn count_in(&self, queue: &str) -> usize {
        self.entries.iter().filter(|(_, q, _)| q == queue).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oldest_first_and_positions_per_queue() {
        let mut w = Waiting::default();
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        w.insert(10, "general", a);
        w.insert(20, "referrals", b);
        w.insert(30, "general", c);
        assert_eq!(w.oldest(), Some(a));
        assert_eq!(w.position(c), Some(2));
        assert_eq!(w.position(b), Some(1));
        // A transferred chat that first waited at 5 goes to the front.
        let d = Uuid::new_v4();
        w.insert(5, "general", d);
        assert_eq!(w.oldest(), Some(d));
        assert!(w.remove(a));
        assert_eq!(w.position(c), Some(2));
        // A chat handed back after its advocate's grace goes before every ordinary waiter,
        // however late it first waited.
        let e = Uuid::new_v4();
        w.insert_front(50, "general", e);
        assert_eq!(w.oldest(), Some(e));
        let f = Uuid::new_v4();
        w.insert_front(40, "general", f);
        assert_eq!(w.iter().take(3).collect::<Vec<_>>(), vec![f, e, d]);
    }

    proptest::proptest! {
        /// The one-pass positions agree with counting each chat's own (the reference).
        #[test]
        fn positions_in_one_pass_equal_each_chats_own(
            steps in proptest::collection::vec((0u8..3, 0u64..50, 0usize..3, proptest::bool::ANY), 0..60)
        ) {
            let queues = ["general", "referrals", "youth"];
            let mut w = Waiting::default();
            let mut ids = Vec::new();
            for (kind, since, queue, front) in steps {
                match kind {
                    0 | 1 => {
                        let id = Uuid::new_v4();
                        if front { w.insert_front(since, queues[queue], id) } else { w.insert(since, queues[queue], id) }
                        ids.push(id);
                    }
                    _ => if let Some(id) = ids.get(since as usize % ids.len().max(1)).copied() {
                        w.remove(id);
                    },
                }
            }
            let fast: Vec<(Uuid, usize)> = w.positions().collect();
            let reference: Vec<(Uuid, usize)> =
                w.iter().map(|id| (id, w.position(id).unwrap())).collect();
            proptest::prop_assert_eq!(fast, reference);
        }
    }
}
