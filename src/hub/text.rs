//! Newtypes for what people type, checked once at the edge before the hub sees it.

use serde_json::{Map, Value};

use crate::error::HubError;

/// A message body: non-empty (after trimming) and at most the configured number of bytes.
#[derive(Debug)]
pub struct MessageText(String);

impl MessageText {
    pub fn parse(text: String, max_bytes: usize) -> Result<MessageText, HubError> {
        if text.trim().is_empty() || text.len() > max_bytes {
            return Err(HubError::MessageTooLong);
        }
        // Control characters (other than line breaks and tabs) show nothing to a reader and
        // cost six bytes each in JSON; they become U+FFFD.
        if text.chars().any(is_stray_control) {
            let cleaned = text
                .chars()
                .map(|c| if is_stray_control(c) { '\u{FFFD}' } else { c })
                .collect();
            return Ok(MessageText(cleaned));
        }
        Ok(MessageText(text))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

fn is_stray_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\r' | '\t')
}

/// The client's own id for a message, echoed in `ack`.
#[derive(Debug)]
pub struct ClientId(String);

impl ClientId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(id: String) -> Option<ClientId> {
        (!id.is_empty() && id.chars().count() <= Self::MAX_LEN && !id.chars().any(char::is_control))
            .then_some(ClientId(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An internal note for the advocate receiving a transfer.
#[derive(Debug)]
pub struct Note(String);

impl Note {
    pub const MAX_CHARS: usize = 1000;

    pub fn parse(note: Option<String>) -> Result<Option<Note>, HubError> {
        match note {
            None => Ok(None),
            Some(n) if n.trim().is_empty() => Ok(None),
            Some(n) if n.chars().count() > Self::MAX_CHARS => Err(HubError::MessageTooLong),
            Some(n) => Ok(Some(Note(n))),
        }
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The voluntary intake answers: a small flat object of simple values. Opaque to the hub.
#[derive(Debug)]
pub struct Intake(Map<String, Value>);

impl Intake {
    const MAX_KEYS: usize = 20;
    const MAX_KEY_LEN: usize = 40;
    const MAX_VALUE_CHARS: usize = 200;

    pub fn parse(intake: Option<Map<String, Value>>) -> Result<Option<Intake>, HubError> {
        let Some(map) = intake else { return Ok(None) };
        if map.len() > Self::MAX_KEYS {
            return Err(HubError::InvalidIntake);
        }
        for (key, value) in &map {
            let simple = match value {
                Value::String(s) => s.chars().count() <= Self::MAX_VALUE_CHARS,
                Value::Number(_) | Value::Bool(_) => true,
                Value::Null | Value::Array(_) | Value::Object(_) => false,
            };
            if key.is_empty() || key.len() > Self::MAX_KEY_LEN || !simple {
                return Err(HubError::InvalidIntake);
            }
        }
        Ok((!map.is_empty()).then_some(Intake(map)))
    }

    pub fn into_inner(self) -> Map<String, Value> {
        self.0
    }
}

/// A short language tag such as `en` or `es-MX`.
pub fn parse_language(language: Option<String>) -> Option<String> {
    language.filter(|l| {
        !l.is_empty() && l.len() <= 16 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// Overwrites every string in an intake map before it is dropped.
pub fn wipe_intake(map: &mut Map<String, Value>) {
    use zeroize::Zeroize;
    for (_, value) in map.iter_mut() {
        if let Value::String(s) = value {
            s.zeroize();
        }
    }
    map.clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn message_text_limits() {
        assert!(MessageText::parse("hi".into(), 4).is_ok());
        assert!(MessageText::parse("   ".into(), 4).is_err());
        assert!(MessageText::parse("hello".into(), 4).is_err());
        let cleaned = MessageText::parse("a\u{7}b\nc".into(), 40).unwrap();
        assert_eq!(cleaned.into_inner(), "a\u{FFFD}b\nc");
    }

    #[test]
    fn intake_must_be_small_and_flat() {
        let ok = json!({"age_range": "25-34", "returning": true});
        assert!(Intake::parse(ok.as_object().cloned()).unwrap().is_some());
        let nested = json!({"a": {"b": 1}});
        assert!(Intake::parse(nested.as_object().cloned()).is_err());
        let long = json!({"a": "x".repeat(201)});
        assert!(Intake::parse(long.as_object().cloned()).is_err());
        let null = json!({"a": null});
        assert!(Intake::parse(null.as_object().cloned()).is_err());
    }

    #[test]
    fn client_ids_are_counted_in_characters() {
        assert!(ClientId::parse("é".repeat(64)).is_some());
        assert!(ClientId::parse("é".repeat(65)).is_none());
        assert!(ClientId::parse(String::new()).is_none());
    }
}
