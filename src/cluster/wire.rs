//! What nodes say to each other over NATS, and on which subjects. Core NATS only: nothing is
//! stored by the NATS server, and a frame lives in its memory only while it passes through.
//!
//! Subjects (all under `cluster.subject_prefix`):
//! - `P.beat`: every node, every heartbeat: [`Beat`];
//! - `P.up.<coordinator>`: a gateway's sockets to the coordinator: [`Up`], in order per node;
//! - `P.down.<node>`: the coordinator to a gateway's sockets: [`Down`];
//! - `P.call.<coordinator>`: HTTP handlers' questions to the hub (request and reply);
//! - `P.settings`: an admin saved settings on some node; every node reads them again.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{error::ErrorCode, staff::Staff};

#[derive(Clone)]
pub struct Subjects {
    prefix: String,
}

impl Subjects {
    pub fn new(prefix: &str) -> Subjects {
        Subjects {
            prefix: prefix.to_owned(),
        }
    }
    pub fn beat(&self) -> String {
        format!("{}.beat", self.prefix)
    }
    pub fn up(&self, coordinator: Uuid) -> String {
        format!("{}.up.{}", self.prefix, coordinator.simple())
    }
    pub fn down(&self, node: Uuid) -> String {
        format!("{}.down.{}", self.prefix, node.simple())
    }
    pub fn settings(&self) -> String {
        format!("{}.settings", self.prefix)
    }
    pub fn call(&self, coordinator: Uuid) -> String {
        format!("{}.call.{}", self.prefix, coordinator.simple())
    }
}

/// "I am alive", and whether the sender coordinates. A node's id is new at every start, so a
/// restarted node is a new node: its old sockets' chats are not confused with its new ones.
#[derive(Debug, Serialize, Deserialize)]
pub struct Beat {
    pub node: Uuid,
    pub coordinating: bool,
}

/// Who opened a socket on a gateway, as the coordinator needs it to run the session there.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Opening {
    /// `client`: the gateway's anonymous per-client key (a keyed hash, never an address).
    Chatter { client: Option<[u8; 16]> },
    /// A signed-in staff member's console; `login` is the hash of their session token.
    Console {
        staff: Staff,
        login: [u8; 32],
        version: u32,
    },
}

/// A gateway's socket event, for the coordinator.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Up {
    Open {
        conn: Uuid,
        node: Uuid,
        opening: Opening,
    },
    Text {
        conn: Uuid,
        text: String,
    },
    Stalled {
        conn: Uuid,
        on: bool,
    },
    Closed {
        conn: Uuid,
    },
}

/// The coordinator's frames for one of a gateway's sockets.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Down {
    Text {
        conn: Uuid,
        text: String,
    },
    /// An `ack`, which the gateway's writer may hold a moment (as on the coordinator).
    Ack {
        conn: Uuid,
        text: String,
    },
    Batch {
        conn: Uuid,
        texts: Vec<String>,
    },
    Close {
        conn: Uuid,
        code: u16,
        reason: ErrorCode,
    },
    /// The coordinator gave up on the socket (slow consumer): close it now.
    Kill {
        conn: Uuid,
    },
}

impl Down {
    pub fn conn(&self) -> Uuid {
        match self {
            Down::Text { conn, .. }
            | Down::Ack { conn, .. }
            | Down::Batch { conn, .. }
            | Down::Close { conn, .. }
            | Down::Kill { conn } => *conn,
        }
    }
}

/// A form slot on the wire.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    Intake,
    Survey,
}

/// What HTTP handlers on a gateway ask the coordinator's hub. Tokens travel hashed.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum Call {
    TakeFormTicket {
        token_hash: [u8; 32],
        slot: Slot,
        window_secs: u64,
    },
    ReturnFormTicket {
        token_hash: [u8; 32],
        slot: Slot,
    },
    MarkUnder13 {
        token_hash: [u8; 32],
    },
    Status,
    Presence,
    StaffSignedOut {
        staff: Uuid,
        login: [u8; 32],
    },
    StaffSessionLapsed {
        staff: Uuid,
        login: [u8; 32],
    },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    Done,
    Ticket {
        queue: String,
        under_13: bool,
    },
    NoChat,
    AlreadyTaken,
    Status {
        open_now: bool,
        on_duty: usize,
    },
    Presence {
        presence: std::collections::HashMap<Uuid, crate::hub::Presence>,
    },
    /// The node asked no longer coordinates.
    NotCoordinator,
    Failed,
}
