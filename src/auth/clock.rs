//! The time sessions are judged by, in Unix seconds. Production reads the system clock; tests
//! move it forward to see idle and absolute expiry without waiting.

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};

#[derive(Clone, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> i64 {
        crate::store::unix_secs() + self.offset.load(Ordering::Relaxed)
    }

    /// Moves this clock (and every copy of it) forward. For tests.
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::Relaxed);
    }
}
