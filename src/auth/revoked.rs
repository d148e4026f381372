//! Sessions ended in memory, checked before the database: logout, disable, role and password
//! changes take effect at once even when the disk is failing (the database catches up), and
//! open console sockets hear of it at once through [`Revocations::subscribe`].

use dashmap::DashMap;
use tokio::sync::broadcast;
use uuid::Uuid;

/// What was revoked, for the sockets that may belong to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// One session (by its token's hash).
    Session([u8; 32]),
    /// Every session of one staff member that began before now.
    Staff(Uuid),
}

pub struct Revocations {
    /// Token hash → when it was revoked.
    sessions: DashMap<[u8; 32], i64>,
    /// Staff id → sessions created before this second are void.
    staff: DashMap<Uuid, i64>,
    notify: broadcast::Sender<Revoked>,
}

impl Default for Revocations {
    fn default() -> Revocations {
        Revocations {
            sessions: DashMap::new(),
            staff: DashMap::new(),
            notify: broadcast::channel(256).0,
        }
    }
}

impl Revocations {
    pub fn revoke_session(&self, token_hash: [u8; 32], now: i64) {
        self.sessions.insert(token_hash, now);
        let _ = self.notify.send(Revoked::Session(token_hash));
    }

    pub fn revoke_staff(&self, staff_id: Uuid, now: i64) {
        self.staff.insert(staff_id, now);
        let _ = self.notify.send(Revoked::Staff(staff_id));
    }

    pub fn is_session_revoked(&self, token_hash: &[u8; 32]) -> bool {
        self.sessions.contains_key(token_hash)
    }

    /// Whether a session of `staff_id` that began at `created_at` was revoked with the account.
    pub fn is_staff_revoked(&self, staff_id: Uuid, created_at: i64) -> bool {
        self.staff
            .get(&staff_id)
            .is_some_and(|revoked_at| created_at < *revoked_at)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Revoked> {
        self.notify.subscribe()
    }

    /// Forgets what no session can outlive anyway.
    pub fn forget_before(&self, before: i64) {
        self.sessions.retain(|_, at| *at >= before);
        self.staff.retain(|_, at| *at >= before);
    }
}
