//! The wire frames, one serde enum per direction and socket: `chatter` and `console` hold each
//! socket's frames, this file what both share (transcript lines, errors, encoding and
//! decoding). `docs/protocol.md` is the prose version of this module; change both together.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::error::ErrorCode;

mod chatter;
mod console;

pub use chatter::*;
pub use console::*;

/// The protocol a client speaks, from its first frame (`v` in the chatter's `hello` or
/// `resume`) or the console's upgrade (`/ws/console?v=2`); 1 when it does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    #[default]
    V1,
    /// The writer of a line gets only its `ack`, not the line back as a `message`: one frame
    /// less per message (issue 10). The client shows what it sent. A console asks for the
    /// staff roster (`advocates`) instead of getting it after every change.
    V2,
}

impl Version {
    pub const NEWEST: Version = Version::V2;

    pub fn parse(v: u32) -> Option<Version> {
        match v {
            1 => Some(Version::V1),
            2 => Some(Version::V2),
            _ => None,
        }
    }

    pub fn number(self) -> u32 {
        match self {
            Version::V1 => 1,
            Version::V2 => 2,
        }
    }

    /// Version 1 sends the writer of a line their own line back (before its `ack`).
    pub fn echoes_own_lines(self) -> bool {
        self == Version::V1
    }

    /// Version 1 consoles get the staff roster after every change; version 2 asks for it.
    pub fn pushes_roster(self) -> bool {
        self == Version::V1
    }
}

fn default_version() -> u32 {
    Version::V1.number()
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

#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    pub code: ErrorCode,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
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
    // A good frame is parsed once, straight into its type; only a bad one is looked at
    // again, to say what is wrong with it.
    if let Ok(frame) = serde_json::from_str(text) {
        return Ok(frame);
    }
    explain(text, known_types)
}

/// Parses a frame that did not parse as `T` step by step, to give the client the right code.
fn explain<T: for<'de> Deserialize<'de>>(
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
