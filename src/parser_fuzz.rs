//! Randomized tests of every parser that reads what strangers send, on stable Rust inside
//! `cargo test` (bounded: a few hundred cases each). The `fuzz/` directory holds the same
//! targets for `cargo fuzz` and longer runs.
//!
//! The property is always the same: any input gets an answer (a value or a typed error), never
//! a panic, and what is accepted respects the documented limits.

use proptest::prelude::*;
use serde_json::Value;

use crate::{
    config::Config,
    hub::text::{parse_language, ClientId, Intake, MessageText, Note},
    protocol::{decode, ChatterFrame, ConsoleFrame},
};

/// Strings that look like frames: valid JSON objects with a known `type` and odd fields.
fn frame_like() -> impl Strategy<Value = String> {
    let kinds = prop::sample::select(vec![
        "hello", "resume", "message", "typing", "leave", "ping", "status", "claim", "transfer",
        "end",
    ]);
    let value = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,80}".prop_map(Value::String),
        prop::collection::vec(".{0,8}", 0..4).prop_map(Value::from),
    ];
    let fields = prop::collection::btree_map(
        prop::sample::select(vec![
            "v",
            "id",
            "text",
            "on",
            "token",
            "last_seq",
            "queue",
            "language",
            "intake",
            "chat_id",
            "to_queue",
            "to_advocate",
            "note",
            "available",
        ]),
        value,
        0..6,
    );
    (kinds, fields).prop_map(|(kind, fields)| {
        let mut object = serde_json::Map::new();
        object.insert("type".into(), Value::from(kind));
        for (k, v) in fields {
            object.insert(k.into(), v);
        }
        Value::Object(object).to_string()
    })
}

/// Everything the socket layer does with a chatter frame before the hub sees it.
fn chatter_pipeline(text: &str) {
    if let Ok(frame) = decode::<ChatterFrame>(text, ChatterFrame::TYPES) {
        match frame {
            ChatterFrame::Hello {
                intake, language, ..
            } => {
                if let Ok(Some(intake)) = Intake::parse(intake) {
                    let map = intake.into_inner();
                    assert!(map.len() <= 20);
                    assert!(map
                        .values()
                        .all(|v| v.is_string() || v.is_number() || v.is_boolean()));
                }
                if let Some(language) = parse_language(language) {
                    assert!(language.len() <= 16);
                }
            }
            ChatterFrame::Message { id, text } => {
                if let Some(id) = ClientId::parse(id) {
                    assert!(id.as_str().chars().count() <= ClientId::MAX_LEN);
                }
                if let Ok(text) = MessageText::parse(text, 4096) {
                    let text = text.into_inner();
                    assert!(text.len() <= 4096 * 3, "U+FFFD may triple a control byte");
                    assert!(!text.trim().is_empty());
                }
            }
            _ => {}
        }
    }
}

fn console_pipeline(text: &str) {
    if let Ok(ConsoleFrame::Transfer { note, .. }) =
        decode::<ConsoleFrame>(text, ConsoleFrame::TYPES)
    {
        if let Ok(Some(note)) = Note::parse(note) {
            assert!(note.into_inner().chars().count() <= Note::MAX_CHARS);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_as_a_frame_get_an_answer(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        chatter_pipeline(&text);
        console_pipeline(&text);
    }

    #[test]
    fn frame_shaped_input_gets_an_answer(text in frame_like()) {
        chatter_pipeline(&text);
        console_pipeline(&text);
    }

    #[test]
    fn any_text_as_configuration_is_refused_or_valid(text in ".{0,300}") {
        if let Ok(config) = Config::from_toml_str(&text) {
            prop_assert!(config.validate().is_ok());
        }
    }

    #[test]
    fn odd_values_for_real_keys_are_refused_or_valid(
        key in prop::sample::select(vec![
            "chat.max_message_bytes", "chat.max_waiting", "limits.rate_burst",
            "limits.idle_timeout_secs", "protection.hello_timeout_secs",
            "protection.transcript_memory_budget_bytes", "protection.metrics_bind",
            "protection.client_ip_header", "protection.trusted_proxies", "server.bind",
            "service_hours.windows",
        ]),
        value in prop_oneof![
            Just("0".to_string()),
            Just("-1".to_string()),
            Just("18446744073709551616".to_string()),
            Just("\"\"".to_string()),
            Just("[\"x\"]".to_string()),
            ".{0,20}".prop_map(|s| format!("{s:?}")),
            any::<i64>().prop_map(|n| n.to_string()),
        ],
    ) {
        let (section, name) = key.split_once('.').unwrap();
        let text = format!("[{section}]\n{name} = {value}\n");
        if let Ok(config) = Config::from_toml_str(&text) {
            prop_assert!(config.validate().is_ok());
        }
    }
}

#[test]
fn the_embedded_defaults_parse_through_the_same_path() {
    assert!(Config::from_toml_str("").is_ok());
    let error = Config::from_toml_str("[protection]\nmax_sockets_per_client = 0\n").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("protection.max_sockets_per_client"),
        "{error}"
    );
}
