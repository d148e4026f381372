//! Limits counted per client key: sockets open at once and new chats per minute.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use tokio::time::Instant;

use super::ClientKey;

/// Past this many remembered clients, buckets that have refilled are forgotten.
const MAX_BUCKETS: usize = 10_000;

pub struct PerClient {
    sockets: Arc<Mutex<HashMap<ClientKey, usize>>>,
    chats: Mutex<HashMap<ClientKey, Bucket>>,
    max_sockets: usize,
    chats_per_minute: u32,
}

/// One open chatter socket counted against its client; released on drop.
pub struct SocketPermit {
    sockets: Arc<Mutex<HashMap<ClientKey, usize>>>,
    key: ClientKey,
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        let mut sockets = self.sockets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = sockets.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                sockets.remove(&self.key);
            }
        }
    }
}

/// A token bucket: `per_minute` at once, refilled evenly over a minute.
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl PerClient {
    pub fn new(max_sockets: usize, chats_per_minute: u32) -> PerClient {
        PerClient {
            sockets: Arc::default(),
            chats: Mutex::default(),
            max_sockets,
            chats_per_minute,
        }
    }

    pub fn open_socket(&self, key: ClientKey) -> Option<SocketPermit> {
        let mut sockets = self.sockets.lock().unwrap_or_else(|p| p.into_inner());
        let count = sockets.entry(key).or_insert(0);
        if *count >= self.max_sockets {
            return None;
        }
        *count += 1;
        Some(SocketPermit {
            sockets: self.sockets.clone(),
            key,
        })
    }

    pub fn allow_new_chat(&self, key: ClientKey) -> bool {
        let capacity = f64::from(self.chats_per_minute);
        let per_sec = capacity / 60.0;
        let now = Instant::now();
        let mut chats = self.chats.lock().unwrap_or_else(|p| p.into_inner());
        if chats.len() >= MAX_BUCKETS {
            chats.retain(|_, b| {
                b.tokens + now.duration_since(b.last).as_secs_f64() * per_sec < capacity
            });
        }
        let bucket = chats.entry(key).or_insert(Bucket {
            tokens: capacity,
            last: now,
        });
        bucket.tokens =
            (bucket.tokens + now.duration_since(bucket.last).as_secs_f64() * per_sec).min(capacity);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Forgets every per-minute count (the keys they were made under no longer exist).
    pub fn forget_rates(&self) {
        self.chats.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    #[cfg(test)]
    fn clients_with_sockets(&self) -> usize {
        self.sockets.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn key(keys: &super::super::ClientKeys, ip: &str) -> ClientKey {
        let peer = SocketAddr::new(ip.parse().unwrap(), 1);
        keys.key_for(peer, &Default::default())
    }

    #[test]
    fn sockets_per_client_are_capped_and_released() {
        let keys = super::super::ClientKeys::new(vec![], "x-forwarded-for");
        let limits = PerClient::new(2, 10);
        let a = key(&keys, "192.0.2.1");
        let first = limits.open_socket(a).unwrap();
        let _second = limits.open_socket(a).unwrap();
        assert!(limits.open_socket(a).is_none());
        // Someone else is not affected.
        assert!(limits.open_socket(key(&keys, "192.0.2.2")).is_some());
        drop(first);
        assert!(limits.open_socket(a).is_some());
        assert_eq!(
            limits.clients_with_sockets(),
            1,
            "released entries are removed"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn new_chats_per_minute_refill_evenly() {
        let keys = super::super::ClientKeys::new(vec![], "x-forwarded-for");
        let limits = PerClient::new(2, 3);
        let a = key(&keys, "192.0.2.1");
        assert!((0..3).all(|_| limits.allow_new_chat(a)));
        assert!(!limits.allow_new_chat(a));
        assert!(limits.allow_new_chat(key(&keys, "192.0.2.2")));
        tokio::time::advance(std::time::Duration::from_secs(20)).await;
        assert!(limits.allow_new_chat(a));
        assert!(!limits.allow_new_chat(a));
        limits.forget_rates();
        assert!(limits.allow_new_chat(a));
    }
}
