//! The wire frames, one serde enum per direction and socket. `docs/protocol.md` is the prose
//! version of this file; change both together.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::config::{CannedResponse, QueueConfig};
use crate::error::ErrorCode;

pub const PROTOCOL_VERSION: u32 = 1;

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
    ];
}

fn default_version() -> u32 {
    PROTOCOL_VERSION
}

/// Who wrote a transcript line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    Chatter,
    Advocate,
    System,
}

/// One transcript line as it travels (history and live).
#[derive(Debug, Clone, Serialize)]
pub struct MessageView<'a> {
    pub seq: u64,
    pub from: Sender,
    pub text: &'a str,
    pub at: u64,
    /// On `system` lines: which note this is, so a client can show it in its own language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<SystemNote>,
}

/// The system lines Haven writes into a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemNote {
    TransferToAdvocate,
    TransferToQueue,
    AdvocateDisconnected,
    /// Lines were dropped: the transcript reached its bound, or a reconnecting side could not
    /// be given everything it missed.
    LinesDropped,
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

#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    pub code: ErrorCode,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
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

/// Serialise a frame once; the text is shared by every recipient.
pub fn encode<T: Serialize>(frame: &T) -> crate::hub::outbox::Frame {
    crate::hub::outbox::Frame::Text(encode_text(frame))
}

pub fn encode_text<T: Serialize>(frame: &T) -> std::sync::Arc<str> {
    serde_json::to_string(frame)
        .expect("frames always serialise")
        .into()
}

/// Why a client frame could not be read; turned into an `error` frame by the socket layer.
pub fn decode<T: for<'de> Deserialize<'de>>(
    text: &str,
    known_types: &[&str],
) -> Result<T, (ErrorCode, String)> {
    let value: Value = serde_json::from_str(text).map_err(|_| {
        (
            ErrorCode::MalformedJson,
            "That frame is not valid JSON.".to_string(),
        )
    })?;
    let Some(object) = value.as_object() else {
        return Err((
            ErrorCode::MalformedJson,
            "A frame must be a JSON object.".to_string(),
        ));
    };
    match object.get("type").and_then(Value::as_str) {
        None => {
            return Err((
                ErrorCode::InvalidFrame,
                "The frame has no `type` field.".to_string(),
            ))
        }
        Some(kind) if !known_types.contains(&kind) => {
            return Err((
                ErrorCode::UnknownType,
                format!(
                    "Unknown frame type; expected one of: {}.",
                    known_types.join(", ")
                ),
            ))
        }
        Some(_) => {}
    }
    serde_json::from_value(value).map_err(|e| {
        // serde's message names the field; it may quote the bad value, which goes back only to
        // the client that sent it and is never logged.
        (ErrorCode::InvalidFrame, format!("Invalid frame: {e}."))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leave_carries_an_optional_reason_and_is_never_refused_for_it() {
        let types = ChatterFrame::TYPES;
        let reason = |t: &str| match decode::<ChatterFrame>(t, types) {
            Ok(ChatterFrame::Leave { reason }) => reason,
            other => panic!("{t}: {other:?}"),
        };
        assert_eq!(reason(r#"{"type":"leave"}"#), None);
        assert_eq!(
            reason(r#"{"type":"leave","reason":"quick_exit"}"#),
            Some(LeaveReason::QuickExit)
        );
        assert_eq!(
            reason(r#"{"type":"leave","reason":"bored"}"#),
            Some(LeaveReason::Other)
        );
    }

    #[test]
    fn decode_sorts_bad_input_into_codes() {
        let types = ChatterFrame::TYPES;
        let code = |t: &str| decode::<ChatterFrame>(t, types).unwrap_err().0;
        assert_eq!(code("{nope"), ErrorCode::MalformedJson);
        assert_eq!(code("[1]"), ErrorCode::MalformedJson);
        assert_eq!(code(r#"{"type":"shout"}"#), ErrorCode::UnknownType);
        assert_eq!(code(r#"{"text":"hi"}"#), ErrorCode::InvalidFrame);
        assert_eq!(
            code(r#"{"type":"message","id":"1"}"#),
            ErrorCode::InvalidFrame
        );
        assert!(matches!(
            decode::<ChatterFrame>(r#"{"type":"typing","on":true}"#, types),
            Ok(ChatterFrame::Typing { on: true })
        ));
    }

    #[test]
    fn typing_frames_carry_only_the_flag() {
        let Frame(text) = encode_text(&ToChatter::Typing { on: true });
        assert_eq!(text, r#"{"type":"typing","on":true}"#);
    }

    struct Frame(String);
    fn encode_text<T: Serialize>(frame: &T) -> Frame {
        Frame(serde_json::to_string(frame).unwrap())
    }
}
