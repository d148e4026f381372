//! Collections give their spare room back after a crowd has gone.
//!
//! A hash map keeps the capacity of its busiest moment: after an attack that kept ~25,000 chats
//! in memory at once, the emptied chat map alone held 14 MiB. The purge calls this so that
//! memory comes back with the chats (the allocator then returns the pages: `crate::memory`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;

/// Below this capacity, spare room is not worth a reallocation.
const KEEP: usize = 1024;

/// A collection that can give back room it no longer needs.
pub trait ReleaseSpare {
    /// Shrinks when at most a quarter of the room is in use, keeping room to double.
    fn release_spare(&mut self);
}

fn worth_shrinking(len: usize, capacity: usize) -> bool {
    capacity > KEEP && capacity > len.saturating_mul(4)
}

impl<K: Eq + Hash, V> ReleaseSpare for HashMap<K, V> {
    fn release_spare(&mut self) {
        if worth_shrinking(self.len(), self.capacity()) {
            self.shrink_to(self.len().saturating_mul(2));
        }
    }
}

impl<T: Eq + Hash> ReleaseSpare for HashSet<T> {
    fn release_spare(&mut self) {
        if worth_shrinking(self.len(), self.capacity()) {
            self.shrink_to(self.len().saturating_mul(2));
        }
    }
}

impl<T> ReleaseSpare for VecDeque<T> {
    fn release_spare(&mut self) {
        if worth_shrinking(self.len(), self.capacity()) {
            self.shrink_to(self.len().saturating_mul(2));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emptied_map_gives_its_room_back_and_a_busy_one_keeps_it() {
        let mut map: HashMap<u64, [u8; 64]> = (0..50_000).map(|i| (i, [0; 64])).collect();
        map.retain(|k, _| *k < 100);
        map.release_spare();
        assert!(map.capacity() < 1024, "capacity {}", map.capacity());
        assert_eq!(map.len(), 100);

        let mut busy: HashMap<u64, u8> = (0..5_000).map(|i| (i, 0)).collect();
        busy.retain(|k, _| *k < 2_000);
        let room = busy.capacity();
        busy.release_spare();
        assert_eq!(busy.capacity(), room, "a third in use: no reallocation");
    }

    #[test]
    fn a_drained_line_gives_its_room_back() {
        let mut line: VecDeque<u64> = (0..20_000).collect();
        line.drain(..19_990);
        line.release_spare();
        assert!(line.capacity() < 1024, "capacity {}", line.capacity());
        assert_eq!(
            line.iter().copied().collect::<Vec<_>>(),
            (19_990..20_000).collect::<Vec<_>>()
        );
    }
}
