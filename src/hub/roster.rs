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
}

impl Advocate {
    pub fn load(&self) -> usize {
        self.chats.len()
    }

    pub fn connected(&self) -> bool {
        self.outbox.is_some()
    }
}
