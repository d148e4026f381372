//! The advocate console's frames, both ways (`docs/protocol.md`, "Console socket").

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{ErrorBody, MessageView};
use crate::config::{CannedResponse, QueueConfig};

/// Advocate console → server.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ConsoleFrame {
    Status {
        available: bool,
    },
    Claim {
        chat_id: Uuid,
    },
    Message {
        chat_id: Uuid,
        id: String,
        text: String,
    },
    Typing {
        chat_id: Uuid,
        on: bool,
    },
    Transfer {
        chat_id: Uuid,
        #[serde(default)]
        to_advocate: Option<Uuid>,
        #[serde(default)]
        to_queue: Option<String>,
        #[serde(default)]
        note: Option<String>,
    },
    End {
        chat_id: Uuid,
    },
    Ping,
    /// Supervisors and admins, when the program allows it: the transcript of an open chat.
    ReadTranscript {
        chat_id: Uuid,
    },
    /// Protocol 2: the staff roster, asked for when needed (version 1 consoles get it pushed).
    Advocates,
    /// Supervisors and admins: move any open chat to another advocate or queue.
    Reassign {
        chat_id: Uuid,
        #[serde(default)]
        to_advocate: Option<Uuid>,
        #[serde(default)]
        to_queue: Option<String>,
    },
}

impl ConsoleFrame {
    pub const TYPES: &'static [&'static str] = &[
        "status",
        "claim",
        "message",
        "typing",
        "transfer",
        "end",
        "ping",
        "reassign",
        "read_transcript",
        "advocates",
    ];
}

#[derive(Debug, Serialize)]
pub struct Me<'a> {
    pub id: Uuid,
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: crate::staff::Role,
}

/// Waiters listed in a `queue` snapshot. Every console gets the snapshot after every change, so
/// it must stay small whatever the line's length (a full list of 7,000 waiters passed the
/// write limit and silently dropped every console); claims are oldest first anyway.
pub const QUEUE_PAGE: usize = 100;

#[derive(Debug, Serialize)]
pub struct QueueEntry<'a> {
    pub chat_id: Uuid,
    pub queue: &'a str,
    pub language: Option<&'a str>,
    pub waiting_since: u64,
    /// Without a name, other free text or a zip code: those never go to every console.
    pub intake: Option<Map<String, Value>>,
    pub transferred: bool,
}

#[derive(Debug, Serialize)]
pub struct AdvocateEntry<'a> {
    pub id: Uuid,
    pub display_name: &'a str,
    pub available: bool,
    pub load: usize,
    pub capacity: usize,
    /// False while their console is away within the resume grace period.
    pub connected: bool,
}

#[derive(Debug, Serialize)]
pub struct TransferInfo<'a> {
    pub from: &'a str,
    pub note: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct OverviewChat<'a> {
    pub chat_id: Uuid,
    pub advocate: &'a str,
    pub queue: &'a str,
    pub since: u64,
    pub advocate_id: Uuid,
    pub language: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct OverviewQueue<'a> {
    pub id: &'a str,
    pub waiting: usize,
    /// When the chatter waiting longest in this queue started waiting; `null` when empty.
    pub longest_waiting_since: Option<u64>,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftReason {
    Left,
    TimedOut,
    /// The chatter used Quick exit (button, Escape or Shift ×3): they may be in danger.
    QuickExit,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseReason {
    EndedByYou,
    Transferred,
    ServerClosing,
    /// A supervisor ended the chat.
    EndedBySupervisor,
    /// A supervisor gave the chat to someone else.
    Reassigned,
}

/// Server → advocate console.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToConsole<'a> {
    Welcome {
        v: u32,
        me: Me<'a>,
        available: bool,
        capacity: usize,
        queues: &'a [QueueConfig],
        canned: &'a [CannedResponse],
        /// This person may read transcripts of chats in progress (`read_transcript`).
        may_read_transcripts: bool,
    },
    Status {
        available: bool,
        load: usize,
        capacity: usize,
        /// Within service hours: when false, chatters are turned away (`outside_hours`).
        open_now: bool,
        /// The waiting line is at `chat.max_waiting`: new chatters are turned away.
        queue_full: bool,
    },
    Queue {
        /// The oldest [`QUEUE_PAGE`] waiters; `total` says how many wait in all.
        entries: Vec<QueueEntry<'a>>,
        total: usize,
    },
    Advocates {
        advocates: Vec<AdvocateEntry<'a>>,
    },
    Assigned {
        chat_id: Uuid,
        queue: &'a str,
        language: Option<&'a str>,
        intake: Option<&'a Map<String, Value>>,
        history: Vec<MessageView<'a>>,
        chatter_connected: bool,
        transfer: Option<TransferInfo<'a>>,
    },
    Message {
        chat_id: Uuid,
        #[serde(flatten)]
        message: MessageView<'a>,
    },
    Ack {
        chat_id: Uuid,
        id: &'a str,
        seq: u64,
        at: u64,
    },
    Typing {
        chat_id: Uuid,
        on: bool,
    },
    ChatterDisconnected {
        chat_id: Uuid,
    },
    ChatterStalled {
        chat_id: Uuid,
    },
    ChatterReconnected {
        chat_id: Uuid,
    },
    ChatterLeft {
        chat_id: Uuid,
        reason: LeftReason,
    },
    Ended {
        chat_id: Uuid,
        reason: ReleaseReason,
    },
    Overview {
        chats: Vec<OverviewChat<'a>>,
        queues: Vec<OverviewQueue<'a>>,
    },
    Error(ErrorBody<'a>),
    ServerClosing,
    Pong,
    /// An admin changed the queues or canned responses: the new lists, as in `welcome`.
    Settings {
        queues: &'a [QueueConfig],
        canned: &'a [CannedResponse],
    },
    /// Answer to `read_transcript`: the chat's lines so far (read-only).
    Transcript {
        chat_id: Uuid,
        advocate: &'a str,
        history: Vec<MessageView<'a>>,
    },
}
