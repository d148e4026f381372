//! The chatter socket's frames, both ways (`docs/protocol.md`, "Chatter socket").

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{default_version, ErrorBody, MessageView};

/// Chatter → server.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatterFrame {
    Hello {
        #[serde(default = "default_version")]
        v: u32,
        #[serde(default)]
        queue: Option<String>,
        #[serde(default)]
        language: Option<String>,
        #[serde(default)]
        intake: Option<Map<String, Value>>,
        /// The nonce solving this socket's `challenge`, when proof of work is on.
        #[serde(default)]
        proof: Option<String>,
    },
    Resume {
        #[serde(default = "default_version")]
        v: u32,
        token: String,
        #[serde(default)]
        last_seq: u64,
    },
    Message {
        id: String,
        text: String,
    },
    Typing {
        on: bool,
    },
    Leave {
        /// Why: `quick_exit` tells the advocate the person left in a hurry. Any other value
        /// (or none) is an ordinary leave: a leave is never refused for its reason.
        #[serde(default)]
        reason: Option<LeaveReason>,
    },
    Ping,
}

/// The chatter's reason for `leave`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    QuickExit,
    #[serde(other)]
    Other,
}

impl ChatterFrame {
    pub const TYPES: &'static [&'static str] =
        &["hello", "resume", "message", "typing", "leave", "ping"];
}

#[derive(Debug, Clone, Serialize)]
pub struct Contacts<'a> {
    pub phone: &'a str,
    pub text: &'a str,
    pub note: &'a str,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OfflineReason {
    NoAdvocates,
    OutsideHours,
    QueueFull,
    /// Haven is protecting itself (memory budget, too many new chats from one client).
    Busy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    AdvocateEnded,
    ChatterLeft,
    ServerClosing,
}

/// Server → chatter.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToChatter<'a> {
    /// First frame of a socket when proof of work is on: solve before `hello`.
    Challenge {
        challenge: &'a str,
        bits: u8,
    },
    Welcome {
        v: u32,
        token: &'a str,
        grace_secs: u64,
        resumed: bool,
    },
    Queued {
        queue: &'a str,
        position: usize,
        estimate_secs: Option<u64>,
    },
    Offline {
        reason: OfflineReason,
        contacts: Contacts<'a>,
    },
    Joined {
        advocate: &'a str,
    },
    Message(MessageView<'a>),
    Ack {
        id: &'a str,
        seq: u64,
        at: u64,
    },
    Typing {
        on: bool,
    },
    Ended {
        reason: EndReason,
    },
    Error(ErrorBody<'a>),
    Pong,
}
