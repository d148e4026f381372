//! Failed-login counting per user name, in memory only. Keys are a hash of the user name with
//! a random secret made at start-up and never stored, so the map holds no names.

use std::time::{Duration, Instant};

use dashmap::DashMap;
use rand::RngCore;
use sha2::{Digest, Sha256};

const WINDOW: Duration = Duration::from_secs(60);

pub struct Throttle {
    secret: [u8; 32],
    max_failures: u32,
    failures: DashMap<[u8; 32], (Instant, u32)>,
}

impl Throttle {
    pub fn new(max_failures: u32) -> Throttle {
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        Throttle {
            secret,
            max_failures,
            failures: DashMap::new(),
        }
    }

    fn key(&self, username: &str) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(self.secret);
        hasher.update(username.to_lowercase().as_bytes());
        hasher.finalize().into()
    }

    pub fn is_blocked(&self, username: &str) -> bool {
        let key = self.key(username);
        // Copy out of the map before deciding, so no shard lock is held while removing.
        let entry = self.failures.get(&key).map(|e| *e);
        match entry {
            Some((start, _)) if start.elapsed() >= WINDOW => {
                self.failures.remove(&key);
                false
            }
            Some((_, count)) => count >= self.max_failures,
            None => false,
        }
    }

    pub fn record_failure(&self, username: &str) {
        let mut entry = self
            .failures
            .entry(self.key(username))
            .or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
        drop(entry);
        // Keep the map small: forget windows that are over.
        if self.failures.len() > 10_000 {
            self.failures
                .retain(|_, (start, _)| start.elapsed() < WINDOW);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_per_name() {
        let t = Throttle::new(2);
        t.record_failure("sam");
        assert!(!t.is_blocked("sam"));
        t.record_failure("SAM");
        assert!(t.is_blocked("sam"));
        assert!(!t.is_blocked("alex"));
    }
}
