//! A submission checked against its form: every answer valid, or an error naming the field.
//! Nothing is stored until the whole submission has passed.

use serde_json::{Map, Value};

use super::definition::{FormConfig, Kind, PREFER_NOT_TO_SAY};

/// Why a submission was refused; `field` names the question when one is to blame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AnswerError {
    pub code: &'static str,
    pub field: Option<String>,
    pub message: String,
}

fn refuse(code: &'static str, field: &str, message: impl Into<String>) -> AnswerError {
    AnswerError {
        code,
        field: Some(field.to_string()),
        message: message.into(),
    }
}

/// What may be kept of a valid submission.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// `(question, value)`: one row per chosen option; a scale's number; a zip's first three
    /// digits.
    pub choices: Vec<(String, String)>,
    /// `(question, text)`: kept only when the program stores free text.
    pub free_text: Vec<(String, String)>,
    /// A follow-up email and why it was asked.
    pub email: Option<(String, String)>,
    /// An answer placed the person under 13: nothing of theirs is stored.
    pub under_13: bool,
}

impl Checked {
    pub fn is_empty(&self) -> bool {
        self.choices.is_empty() && self.free_text.is_empty() && self.email.is_none()
    }
}

/// Checks `answers` against `form`. `store_free_text` decides whether text answers are kept.
pub fn check(
    form: &FormConfig,
    answers: &Map<String, Value>,
    store_free_text: bool,
) -> Result<Checked, AnswerError> {
    let mut checked = Checked::default();
    for (id, value) in answers {
        let Some(question) = form.questions.iter().find(|q| &q.id == id) else {
            return Err(refuse(
                "unknown_question",
                id_for_message(id),
                format!("`{}` is not a question of this form.", id_for_message(id)),
            ));
        };
        let offered = question.offered_options();
        match question.kind {
            Kind::Single | Kind::Scale => {
                let chosen = match value {
                    Value::String(s) => s.clone(),
                    Value::Number(n) if question.kind == Kind::Scale => n.to_string(),
                    _ => return Err(wrong_type(id, "one option id (a string)")),
                };
                if !offered.contains(&chosen.as_str()) {
                    return Err(refuse(
                        "invalid_option",
                        id,
                        format!("`{id}` has no option `{}`.", id_for_message(&chosen)),
                    ));
                }
                if question
                    .options
                    .iter()
                    .any(|o| o.under_13 && o.id == chosen)
                {
                    checked.under_13 = true;
                }
                checked.choices.push((id.clone(), chosen));
            }
            Kind::Multi => {
                let Value::Array(items) = value else {
                    return Err(wrong_type(id, "a list of option ids"));
                };
                let mut chosen: Vec<&str> = Vec::new();
                for item in items {
                    let Some(option) = item.as_str() else {
                        return Err(wrong_type(id, "a list of option ids (strings)"));
                    };
                    if !offered.contains(&option) {
                        return Err(refuse(
                            "invalid_option",
                            id,
                            format!("`{id}` has no option `{}`.", id_for_message(option)),
                        ));
                    }
                    if chosen.contains(&option) {
                        return Err(refuse(
                            "duplicate_option",
                            id,
                            format!("`{id}` lists an option twice."),
                        ));
                    }
                    chosen.push(option);
                }
                checked
                    .choices
                    .extend(chosen.into_iter().map(|o| (id.clone(), o.to_string())));
            }
            Kind::Zip => {
                let Value::String(text) = value else {
                    return Err(wrong_type(id, "a zip code (a string)"));
                };
                let text = text.trim();
                if text == PREFER_NOT_TO_SAY {
                    checked.choices.push((id.clone(), text.to_string()));
                } else if let Some(prefix) = zip3(text) {
                    if question.storable(store_free_text) {
                        checked.choices.push((id.clone(), prefix));
                    }
                } else {
                    return Err(refuse(
                        "invalid_zip",
                        id,
                        format!("`{id}` must be a 5-digit zip code (or ZIP+4)."),
                    ));
                }
            }
            Kind::Text => {
                let Value::String(text) = value else {
                    return Err(wrong_type(id, "text"));
                };
                let text = clean_text(text);
                if text.chars().count() > question.max_len() {
                    return Err(refuse(
                        "too_long",
                        id,
                        format!("`{id}` is at most {} characters.", question.max_len()),
                    ));
                }
                if !text.is_empty() && question.storable(store_free_text) {
                    checked.free_text.push((id.clone(), text));
                }
            }
            Kind::Email => {
                let Value::String(text) = value else {
                    return Err(wrong_type(id, "an email address (a string)"));
                };
                let text = text.trim();
                if text.is_empty() {
                    continue;
                }
                if text.chars().count() > question.max_len.unwrap_or(254) || !is_email(text) {
                    return Err(refuse(
                        "invalid_email",
                        id,
                        format!("`{id}` is not an email address such as name@example.org."),
                    ));
                }
                let purpose = question
                    .purpose
                    .clone()
                    .unwrap_or_else(|| "Follow-up requested in the exit survey.".into());
                checked.email = Some((text.to_string(), purpose));
            }
        }
    }
    Ok(checked)
}

fn wrong_type(id: &str, expected: &str) -> AnswerError {
    refuse("wrong_type", id, format!("`{id}` must be {expected}."))
}

/// Keeps an unknown id short and printable before it goes back in a message.
fn id_for_message(id: &str) -> &str {
    let end = id
        .char_indices()
        .take_while(|(i, c)| *i < 40 && (c.is_ascii_alphanumeric() || "_-+".contains(*c)))
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    if end == 0 {
        "?"
    } else {
        &id[..end]
    }
}

/// The first three digits of a US zip code ("06103" or "06103-1234"): all Haven keeps.
fn zip3(text: &str) -> Option<String> {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let ok = match text.split_once('-') {
        Some((five, four)) => digits(five, 5) && digits(four, 4),
        None => digits(text, 5),
    };
    ok.then(|| text[..3].to_string())
}

/// Trims, folds runs of white space, and drops control characters.
fn clean_text(text: &str) -> String {
    text.split_whitespace()
        .map(|w| w.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A deliberately plain check: one `@`, a local part, a dotted domain, no spaces or controls.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"<>()[]\\,;:\"".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use serde_json::json;

    fn survey() -> FormConfig {
        Config::embedded_defaults().forms.survey
    }

    fn answers(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_valid_survey_keeps_choices_zip_prefix_and_email() {
        let checked = check(
            &survey(),
            &answers(
                json!({"got_needed":"yes","recommend":"4","zip":"06103-1234",
                "followup_email":"a.person@example.org"}),
            ),
            false,
        )
        .unwrap();
        assert!(checked.choices.contains(&("zip".into(), "061".into())));
        assert!(checked.choices.contains(&("recommend".into(), "4".into())));
        assert_eq!(checked.email.unwrap().0, "a.person@example.org");
        assert!(!checked.under_13);
    }

    #[test]
    fn every_bad_answer_names_its_field() {
        let cases = [
            (json!({"nope":"yes"}), "unknown_question", "nope"),
            (
                json!({"got_needed":"maybe"}),
                "invalid_option",
                "got_needed",
            ),
            (json!({"got_needed":3}), "wrong_type", "got_needed"),
            (json!({"recommend":"6"}), "invalid_option", "recommend"),
            (json!({"zip":"123"}), "invalid_zip", "zip"),
            (
                json!({"followup_email":"not an email"}),
                "invalid_email",
                "followup_email",
            ),
            (
                json!({"followup_email":"a@b"}),
                "invalid_email",
                "followup_email",
            ),
        ];
        for (body, code, field) in cases {
            let error = check(&survey(), &answers(body.clone()), false).unwrap_err();
            assert_eq!(
                (error.code, error.field.as_deref()),
                (code, Some(field)),
                "{body}"
            );
        }
    }

    #[test]
    fn under_13_is_noticed_and_prefer_not_to_say_is_always_offered() {
        let checked = check(&survey(), &answers(json!({"age_range":"under_13"})), false).unwrap();
        assert!(checked.under_13);
        let checked = check(
            &survey(),
            &answers(json!({"income":"prefer_not_to_say","recommend":"prefer_not_to_say"})),
            false,
        )
        .unwrap();
        assert_eq!(checked.choices.len(), 2);
    }

    #[test]
    fn names_and_unstored_free_text_are_dropped() {
        let intake = Config::embedded_defaults().forms.intake;
        let checked = check(
            &intake,
            &answers(json!({"name":"Canary Name","city":"Hartford","gender":"woman"})),
            false,
        )
        .unwrap();
        assert_eq!(checked.choices, vec![("gender".into(), "woman".into())]);
        assert!(checked.free_text.is_empty());
        let checked = check(
            &intake,
            &answers(json!({"name":"N","city":" Hart\u{7}ford "})),
            true,
        )
        .unwrap();
        assert_eq!(checked.free_text, vec![("city".into(), "Hartford".into())]);
    }

    #[test]
    fn over_long_text_is_refused() {
        let intake = Config::embedded_defaults().forms.intake;
        let error = check(&intake, &answers(json!({"city":"x".repeat(81)})), true).unwrap_err();
        assert_eq!(error.code, "too_long");
    }
}
