use std::collections::HashMap;

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
    assert_eq!(w.longest_waiting_since("general"), Some(5));
    assert_eq!(w.longest_waiting_since("youth"), None);
}

#[test]
fn a_hello_at_the_back_moves_nobody_else_and_a_claim_moves_those_behind() {
    let mut w = Waiting::default();
    let ids: Vec<Uuid> = (0..1000).map(|_| Uuid::new_v4()).collect();
    for (i, id) in ids.iter().enumerate() {
        w.insert(i as u64, "general", *id);
    }
    w.take_moved();
    let late = Uuid::new_v4();
    w.insert(5_000, "general", late);
    assert_eq!(w.take_moved(), vec![(late, 1001)]);
    w.remove(ids[0]);
    let moved = w.take_moved();
    assert_eq!(moved.len(), 1000);
    assert_eq!(moved[0], (ids[1], 1));
    w.remove(ids[998]);
    assert_eq!(w.take_moved(), vec![(ids[999], 998), (late, 999)]);
}

/// The reference: one list sorted by (class, since), ties in arrival order; positions counted
/// the slow way.
#[derive(Default)]
struct Model {
    entries: Vec<((u8, u64), String, Uuid)>,
}

impl Model {
    fn insert(&mut self, rank: (u8, u64), queue: &str, chat: Uuid) {
        self.remove(chat);
        let at = self.entries.partition_point(|(r, _, _)| *r <= rank);
        self.entries.insert(at, (rank, queue.to_owned(), chat));
    }
    fn remove(&mut self, chat: Uuid) -> bool {
        let before = self.entries.len();
        self.entries.retain(|(_, _, c)| *c != chat);
        before != self.entries.len()
    }
    fn move_to_queue(&mut self, chat: Uuid, queue: &str) {
        if let Some(entry) = self.entries.iter_mut().find(|(_, _, c)| *c == chat) {
            entry.1 = queue.to_owned();
        }
    }
    fn order(&self) -> Vec<Uuid> {
        self.entries.iter().map(|(_, _, c)| *c).collect()
    }
    fn position(&self, chat: Uuid) -> Option<usize> {
        let (_, queue, _) = self.entries.iter().find(|(_, _, c)| *c == chat)?;
        Some(
            self.entries
                .iter()
                .take_while(|(_, _, c)| *c != chat)
                .filter(|(_, q, _)| q == queue)
                .count()
                + 1,
        )
    }
}

proptest::proptest! {
    /// After any sequence of arrivals, hand-backs, removals, queue moves and chatters leaving
    /// and coming back, the line equals the reference model: order, positions, counts, oldest;
    /// and the positions told through `take_moved` are every present chat's true position.
    #[test]
    fn the_line_equals_a_simple_model(
        steps in proptest::collection::vec((0u8..6, 0u64..40, 0usize..3, 0usize..64), 0..80)
    ) {
        let queues = ["general", "referrals", "youth"];
        let mut w = Waiting::default();
        let mut model = Model::default();
        let mut ids: Vec<Uuid> = Vec::new();
        let mut told: HashMap<Uuid, usize> = HashMap::new();
        let mut away: std::collections::HashSet<Uuid> = Default::default();
        for (kind, since, queue, pick) in steps {
            let existing = (!ids.is_empty()).then(|| ids[pick % ids.len()]);
            match (kind, existing) {
                (0, _) | (_, None) => {
                    let id = Uuid::new_v4();
                    w.insert(since, queues[queue], id);
                    model.insert((1, since), queues[queue], id);
                    ids.push(id);
                    away.remove(&id);
                }
                (1, Some(id)) => {
                    w.insert_front(since, queues[queue], id);
                    model.insert((0, since), queues[queue], id);
                    away.remove(&id);
                }
                (2, Some(id)) => {
                    proptest::prop_assert_eq!(w.remove(id), model.remove(id));
                    told.remove(&id);
                    away.remove(&id);
                }
                (4, Some(id)) => {
                    w.set_away(id, true);
                    if model.position(id).is_some() {
                        away.insert(id);
                        told.remove(&id);
                    }
                }
                (5, Some(id)) => {
                    w.set_away(id, false);
                    away.remove(&id);
                }
                (_, Some(id)) => {
                    w.move_to_queue(id, queues[queue]);
                    model.move_to_queue(id, queues[queue]);
                }
            }
            for (id, position) in w.take_moved() {
                told.insert(id, position);
            }
            proptest::prop_assert!(w.is_ordered());
            proptest::prop_assert_eq!(w.iter().collect::<Vec<_>>(), model.order());
            proptest::prop_assert_eq!(w.oldest(), model.order().first().copied());
            proptest::prop_assert_eq!(w.len(), model.entries.len());
            proptest::prop_assert_eq!(w.present(), model.entries.len() - away.len());
            for q in queues {
                let count = model.entries.iter().filter(|(_, mq, _)| mq == q).count();
                proptest::prop_assert_eq!(w.count_in(q), count);
                let since = model.entries.iter().filter(|(_, mq, _)| mq == q).map(|(r, _, _)| r.1).min();
                proptest::prop_assert_eq!(w.longest_waiting_since(q), since);
            }
            for id in model.order() {
                let truth = model.position(id);
                proptest::prop_assert_eq!(w.position(id), truth);
                if !away.contains(&id) {
                    proptest::prop_assert_eq!(told.get(&id).copied(), truth, "told position of {}", id);
                }
            }
        }
    }
}
