//! The waiting line. One list for all queues, oldest first, so the chatter who has waited
//! longest is offered first whatever queue they are in; positions are counted per queue.

use std::collections::VecDeque;

use uuid::Uuid;

#[derive(Default)]
pub struct Waiting {
    /// (waiting since in Unix ms, queue id, chat id), sorted by the first.
    entries: VecDeque<(u64, String, Uuid)>,
}

impl Waiting {
    /// Inserts by waiting time: a chatter handed back to a queue keeps the place their first
    /// wait earned them instead of starting over at the back.
    pub fn insert(&mut self, since_ms: u64, queue: &str, chat: Uuid) {
        let at = self.entries.partition_point(|(t, _, _)| *t <= since_ms);
        self.entries.insert(at, (since_ms, queue.to_owned(), chat));
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

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn oldest(&self) -> Option<Uuid> {
        self.entries.front().map(|(_, _, c)| *c)
    }

    pub fn iter(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.entries.iter().map(|(_, _, c)| *c)
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
    }
}
