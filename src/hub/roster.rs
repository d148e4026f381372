//! Staff on the console: their connection, availability and chats.

use uuid::Uuid;

use super::outbox::Outbox;
use crate::staff::Staff;

pub struct Advocate {
    pub staff: Staff,
    /// `None` while their console is disconnected (within the grace period).
    pub outbox: Option<Outbox>,
    /// Id of their latest console connection, so a stale socket's late events are ignored.
    pub conn: u64,
    /// The staff session the live console was opened with.
    pub login: super::LoginId,
    pub available: bool,
    /// Open chats, in the order they were taken.
    pub chats: Vec<Uuid>,
    /// Unix ms of the last time they were given a chat, to break load ties fairly.
    pub last_assigned_ms: u64,
    /// The grace timer started when their console went away, cancelled when it comes back.
    pub grace_timer: Option<tokio::task::AbortHandle>,
    /// Which snapshots their console has been sent.
    pub told: super::snapshots::Told,
}

impl Advocate {
    pub fn load(&self) -> usize {
        self.chats.len()
    }

    pub fn connected(&self) -> bool {
        self.outbox.is_some()
    }
}

/// One staff member's presence on the console, for the admin list (issue 9).
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct Presence {
    pub online: bool,
    pub available: bool,
    pub load: usize,
}

impl super::Hub {
    /// Who is on the console now (connected or within their reconnection grace).
    pub fn presence(&self) -> std::collections::HashMap<Uuid, Presence> {
        self.lock()
            .advocates
            .iter()
            .map(|(id, a)| {
                let presence = Presence {
                    online: a.connected(),
                    available: a.available,
                    load: a.load(),
                };
                (*id, presence)
            })
            .collect()
    }
}
