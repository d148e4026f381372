//! Randomized tests of the forms' parsers on stable Rust, bounded (see `src/parser_fuzz.rs` for
//! frames and configuration, and `fuzz/` for `cargo fuzz`): the answers a stranger posts, a
//! form as a program configures it, and a deletion code as a person types it. Any input gets a
//! value or a typed error, never a panic, and what is accepted keeps the documented limits.

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::{answers, code, definition::FormConfig, FormKind};
use crate::config::Config;

/// Error codes `docs/protocol.md` lists for a refused submission.
const ANSWER_CODES: &[&str] = &[
    "unknown_question",
    "invalid_option",
    "duplicate_option",
    "wrong_type",
    "invalid_zip",
    "too_long",
    "invalid_email",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
        "[0-9]{5}(-[0-9]{4})?".prop_map(Value::String),
        "[a-z]{1,8}@[a-z]{1,8}\\.[a-z]{2,3}".prop_map(Value::String),
        (1..=5u8).prop_map(|n| Value::String(n.to_string())),
        prop::sample::select(vec!["yes", "no", "prefer_not_to_say", "5", "under_13"])
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(".{0,6}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Answers keyed mostly by real question ids (so the checks past the first are reached), with
/// option ids of the real questions among the values.
fn answers_for(form: &FormConfig) -> impl Strategy<Value = Map<String, Value>> {
    let mut ids: Vec<String> = form.questions.iter().map(|q| q.id.clone()).collect();
    ids.push("not_a_question".into());
    let options: Vec<String> = form
        .questions
        .iter()
        .flat_map(|q| q.offered_options())
        .map(str::to_string)
        .collect();
    let value = prop_oneof![
        3 => json_value(),
        2 => prop::sample::select(options.clone()).prop_map(Value::from),
        1 => prop::collection::vec(prop::sample::select(options), 0..4).prop_map(Value::from),
    ];
    prop::collection::btree_map(prop::sample::select(ids), value, 0..8)
        .prop_map(|m| m.into_iter().collect())
}

fn check_any(form: &FormConfig, answers: &Map<String, Value>, store_free_text: bool) {
    match answers::check(form, answers, store_free_text) {
        Ok(checked) => {
            for (question, _) in checked.choices.iter().chain(&checked.free_text) {
                assert!(form.questions.iter().any(|q| &q.id == question));
            }
            if !store_free_text {
                assert!(checked.free_text.is_empty());
            }
            for (question, text) in &checked.free_text {
                let q = form.questions.iter().find(|q| &q.id == question).unwrap();
                assert!(text.chars().count() <= q.max_len());
            }
        }
        Err(error) => {
            assert!(ANSWER_CODES.contains(&error.code), "{error:?}");
            assert!(error.field.is_some() && !error.message.is_empty());
        }
    }
}

/// A `[forms.intake]` table built from plausible and odd pieces.
fn form_toml() -> impl Strategy<Value = String> {
    let kind = prop::sample::select(vec![
        "single", "multi", "scale", "zip", "text", "email", "date", "",
    ]);
    let id = prop_oneof![
        "[a-z_]{1,12}",
        ".{0,12}",
        Just("prefer_not_to_say".to_string())
    ];
    let extra = prop::sample::select(vec![
        "",
        "required = true\n",
        "never_stored = true\n",
        "outcome = true\n",
        "max_len = 0\n",
        "max_len = 100000\n",
        "purpose = \"follow-up\"\n",
        "label = { en = \"only English\" }\n",
        "colour = \"red\"\n",
    ]);
    let option = (id.clone(), any::<bool>()).prop_map(|(id, under_13)| {
        format!("{{ id = {id:?}, label = {{ en = \"E\", es = \"S\" }}, under_13 = {under_13} }}")
    });
    let question = (id, kind, prop::collection::vec(option, 0..4), extra).prop_map(
        |(id, kind, options, extra)| {
            format!(
                "[[forms.intake.questions]]\nid = {id:?}\nkind = {kind:?}\n\
                 label = {{ en = \"E\", es = \"S\" }}\noptions = [{}]\n{extra}",
                options.join(", ")
            )
        },
    );
    (
        prop_oneof![Just(1u64), Just(0), any::<u64>()],
        prop::collection::vec(question, 0..4),
    )
        .prop_map(|(version, questions)| {
            format!(
                "[forms.intake]\nversion = {version}\n{}",
                questions.join("\n")
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_answers_to_the_shipped_forms_are_checked_or_refused_by_name(
        intake in answers_for(&Config::embedded_defaults().forms.intake),
        survey in answers_for(&Config::embedded_defaults().forms.survey),
        store_free_text: bool,
    ) {
        let forms = Config::embedded_defaults().forms;
        check_any(forms.form(FormKind::Intake), &intake, store_free_text);
        check_any(forms.form(FormKind::Survey), &survey, store_free_text);
    }

    #[test]
    fn any_form_configuration_is_refused_or_valid(text in form_toml()) {
        if let Ok(config) = Config::from_toml_str(&text) {
            prop_assert!(config.validate().is_ok());
            let intake = config.forms.form(FormKind::Intake);
            prop_assert!(intake.questions.iter().all(|q| !q.required));
            // A valid form takes its own answers without panicking.
            let answers: Map<String, Value> = intake
                .questions
                .iter()
                .filter_map(|q| q.offered_options().first().map(|o| (q.id.clone(), Value::from(*o))))
                .collect();
            check_any(intake, &answers, true);
        }
    }

    #[test]
    fn any_typed_text_as_a_deletion_code_hashes_or_is_refused(text in ".{0,80}") {
        if let Some(stored) = code::hash(&text) {
            prop_assert_eq!(stored.len(), 64);
            prop_assert!(text.len() <= 64);
        }
    }

    #[test]
    fn a_real_code_typed_any_way_matches_itself(
        separators in prop::collection::vec(prop::sample::select(vec!["", "-", " ", "--"]), 16),
        lower in prop::collection::vec(any::<bool>(), 16),
    ) {
        let code = code::generate();
        let stored = code::hash(&code).expect("a generated code hashes");
        let mut typed = String::new();
        for ((c, sep), lower) in code.chars().filter(|c| *c != '-').zip(&separators).zip(&lower) {
            typed.push_str(sep);
            typed.push(if *lower { c.to_ascii_lowercase() } else { c });
        }
        if typed.len() <= 64 {
            prop_assert_eq!(code::hash(&typed), Some(stored));
        }
    }
}
