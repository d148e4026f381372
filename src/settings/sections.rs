//! The four sections admins edit, as JSON: how each is read out of a configuration, checked,
//! and laid over one. A section's checks name the field at fault (`queues[1].name`); after
//! them the whole configuration goes through `Config::validate`, the checks Haven runs at
//! start, so an edit can never produce a configuration Haven would refuse to start with.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    config::{CannedResponse, Config, ConfigError, QueueConfig},
    hub::hours::ServiceHours,
};

/// A section of the settings admins may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Queues,
    Hours,
    Canned,
    Texts,
}

impl Section {
    /// In the order they are laid over the file's configuration at start.
    pub const ALL: [Section; 4] = [
        Section::Queues,
        Section::Hours,
        Section::Canned,
        Section::Texts,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Section::Queues => "queues",
            Section::Hours => "hours",
            Section::Canned => "canned",
            Section::Texts => "texts",
        }
    }

    pub fn parse(name: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// An edit refused, naming the field (e.g. `texts.languages.es.emergency`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {reason}")]
pub struct Refusal {
    pub field: String,
    pub reason: String,
}

fn refuse(field: impl Into<String>, reason: impl Into<String>) -> Refusal {
    Refusal {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Longest queue name, canned title and program text, in characters.
const MAX_NAME: usize = 100;
const MAX_TEXT: usize = 2_000;
const MAX_QUEUES: usize = 50;
const MAX_CANNED: usize = 500;

/// One queue as admins edit it: its name in the default language and in each other one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueEdit {
    pub id: String,
    pub name: String,
    pub languages: Vec<String>,
    /// Language → the queue's name in it, for every offered language after the first.
    #[serde(default)]
    pub names: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursEdit {
    pub utc_offset_minutes: i32,
    pub windows: Vec<String>,
}

/// The program's texts in one language (the `[program]` keys of the same names).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageTexts {
    pub name: String,
    pub page_title: String,
    pub emergency: String,
    pub hotline_phone: String,
    pub hotline_text: String,
    pub offline_note: String,
    pub mandated_reporting: String,
}

/// The numbers the page's links dial, the same in every language.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dial {
    pub emergency_number: String,
    pub hotline_sms: String,
    pub hotline_sms_body: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextsEdit {
    pub dial: Dial,
    /// Every offered language → its texts.
    pub languages: BTreeMap<String, LanguageTexts>,
}

/// The section as it stands in `config`, as JSON.
pub fn read(section: Section, config: &Config) -> Value {
    let program = &config.program;
    let value = match section {
        Section::Queues => serde_json::to_value(
            config
                .queues
                .iter()
                .map(|q| QueueEdit {
                    id: q.id.clone(),
                    name: q.name.clone(),
                    languages: q.languages.clone(),
                    names: program
                        .languages
                        .iter()
                        .skip(1)
                        .filter_map(|lang| {
                            let name = program.text.get(lang)?.queue_names.get(&q.id)?;
                            Some((lang.clone(), name.clone()))
                        })
                        .collect(),
                })
                .collect::<Vec<_>>(),
        ),
        Section::Hours => serde_json::to_value(HoursEdit {
            utc_offset_minutes: config.service_hours.utc_offset_minutes,
            windows: config.service_hours.windows.clone(),
        }),
        Section::Canned => serde_json::to_value(&config.canned),
        Section::Texts => serde_json::to_value(TextsEdit {
            dial: Dial {
                emergency_number: program.emergency_number.clone(),
                hotline_sms: program.hotline_sms.clone(),
                hotline_sms_body: program.hotline_sms_body.clone(),
            },
            languages: program
                .languages
                .iter()
                .map(|lang| {
                    let t = program.text_for(lang, &config.queues);
                    let texts = LanguageTexts {
                        name: t.program_name,
                        page_title: t.page_title,
                        emergency: t.emergency,
                        hotline_phone: t.hotline_phone,
                        hotline_text: t.hotline_text,
                        offline_note: t.offline_note,
                        mandated_reporting: t.mandated_reporting,
                    };
                    (lang.clone(), texts)
                })
                .collect(),
        }),
    };
    value.expect("settings sections always serialise")
}

/// `config` with `section` replaced by `value`, checked; the value as it will be stored.
pub fn apply(section: Section, value: &Value, config: &Config) -> Result<(Config, Value), Refusal> {
    let mut next = config.clone();
    let stored = match section {
        Section::Queues => {
            let queues: Vec<QueueEdit> = parse(section, value)?;
            check_queues(&queues, config)?;
            lay_queues(&queues, &mut next);
            serde_json::to_value(&queues)
        }
        Section::Hours => {
            let hours: HoursEdit = parse(section, value)?;
            check_hours(&hours)?;
            next.service_hours.utc_offset_minutes = hours.utc_offset_minutes;
            next.service_hours.windows = hours.windows.iter().map(|w| w.trim().into()).collect();
            serde_json::to_value(HoursEdit {
                utc_offset_minutes: hours.utc_offset_minutes,
                windows: next.service_hours.windows.clone(),
            })
        }
        Section::Canned => {
            let mut canned: Vec<CannedResponse> = parse(section, value)?;
            for c in &mut canned {
                // "Every language" may arrive as an empty tag.
                c.language = c.language.take().filter(|l| !l.trim().is_empty());
            }
            check_canned(&canned, config)?;
            next.canned = canned.clone();
            serde_json::to_value(&canned)
        }
        Section::Texts => {
            let texts: TextsEdit = parse(section, value)?;
            check_texts(&texts, config)?;
            lay_texts(&texts, &mut next);
            serde_json::to_value(&texts)
        }
    };
    next.validate().map_err(|error| match error {
        ConfigError::Invalid { key, reason } => refuse(key, reason),
        ConfigError::Form { key, reason } => refuse(key, reason),
        ConfigError::Parse(reason) => refuse(section.name(), reason),
    })?;
    Ok((next, stored.expect("settings sections always serialise")))
}

fn parse<T: for<'de> Deserialize<'de>>(section: Section, value: &Value) -> Result<T, Refusal> {
    serde_json::from_value(value.clone()).map_err(|e| refuse(section.name(), e.to_string()))
}

fn check_queues(queues: &[QueueEdit], config: &Config) -> Result<(), Refusal> {
    let offered = &config.program.languages;
    if queues.is_empty() {
        return Err(refuse("queues", "keep at least one queue"));
    }
    if queues.len() > MAX_QUEUES {
        return Err(refuse("queues", format!("at most {MAX_QUEUES} queues")));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, q) in queues.iter().enumerate() {
        let at = |field: &str| format!("queues[{i}].{field}");
        let id_ok = !q.id.is_empty()
            && q.id.len() <= 64
            && q.id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !id_ok {
            return Err(refuse(
                at("id"),
                "an id is 1 to 64 lower-case letters, digits, - or _",
            ));
        }
        if !seen.insert(q.id.as_str()) {
            return Err(refuse(at("id"), format!("`{}` is used twice", q.id)));
        }
        check_text(&at("name"), &q.name, MAX_NAME)?;
        if q.languages.is_empty() {
            return Err(refuse(at("languages"), "list at least one language"));
        }
        for lang in &q.languages {
            if !offered.contains(lang) {
                return Err(refuse(
                    at("languages"),
                    format!("`{lang}` is not one of program.languages"),
                ));
            }
        }
        for lang in q.names.keys() {
            if !offered.iter().skip(1).any(|o| o == lang) {
                return Err(refuse(
                    at(&format!("names.{lang}")),
                    format!("`{lang}` is not one of the program's other languages"),
                ));
            }
        }
        for lang in offered.iter().skip(1) {
            let name = q.names.get(lang).map_or("", String::as_str);
            if name.trim().is_empty() {
                return Err(refuse(
                    at(&format!("names.{lang}")),
                    format!("missing translation: the queue's name in `{lang}`"),
                ));
            }
            check_text(&at(&format!("names.{lang}")), name, MAX_NAME)?;
        }
    }
    Ok(())
}

fn lay_queues(queues: &[QueueEdit], config: &mut Config) {
    config.queues = queues
        .iter()
        .map(|q| QueueConfig {
            id: q.id.clone(),
            name: q.name.trim().to_owned(),
            languages: q.languages.clone(),
        })
        .collect();
    for lang in config.program.languages.clone().iter().skip(1) {
        let text = config.program.text.entry(lang.clone()).or_default();
        text.queue_names = queues
            .iter()
            .filter_map(|q| Some((q.id.clone(), q.names.get(lang)?.trim().to_owned())))
            .collect();
    }
}

fn check_hours(hours: &HoursEdit) -> Result<(), Refusal> {
    if hours.utc_offset_minutes.abs() > 14 * 60 {
        return Err(refuse(
            "hours.utc_offset_minutes",
            "must be within ±840 minutes",
        ));
    }
    for (i, window) in hours.windows.iter().enumerate() {
        ServiceHours::parse(std::slice::from_ref(window), 0)
            .map_err(|reason| refuse(format!("hours.windows[{i}]"), reason))?;
    }
    Ok(())
}

fn check_canned(canned: &[CannedResponse], config: &Config) -> Result<(), Refusal> {
    if canned.len() > MAX_CANNED {
        return Err(refuse("canned", format!("at most {MAX_CANNED} responses")));
    }
    for (i, c) in canned.iter().enumerate() {
        check_text(&format!("canned[{i}].title"), &c.title, MAX_NAME)?;
        let text = format!("canned[{i}].text");
        check_text(&text, &c.text, MAX_TEXT)?;
        if c.text.len() > config.chat.max_message_bytes {
            return Err(refuse(
                text,
                format!(
                    "longer than a message may be (chat.max_message_bytes = {})",
                    config.chat.max_message_bytes
                ),
            ));
        }
        if let Some(lang) = &c.language {
            if !config.program.languages.contains(lang) {
                return Err(refuse(
                    format!("canned[{i}].language"),
                    format!("`{lang}` is not one of program.languages"),
                ));
            }
        }
    }
    Ok(())
}

fn check_texts(texts: &TextsEdit, config: &Config) -> Result<(), Refusal> {
    let offered = &config.program.languages;
    for lang in texts.languages.keys() {
        if !offered.contains(lang) {
            return Err(refuse(
                format!("texts.languages.{lang}"),
                format!("`{lang}` is not one of program.languages"),
            ));
        }
    }
    for lang in offered {
        let Some(t) = texts.languages.get(lang) else {
            return Err(refuse(
                format!("texts.languages.{lang}"),
                format!("missing translation: every text in `{lang}`"),
            ));
        };
        let fields = [
            ("name", &t.name),
            ("page_title", &t.page_title),
            ("emergency", &t.emergency),
            ("hotline_phone", &t.hotline_phone),
            ("hotline_text", &t.hotline_text),
            ("offline_note", &t.offline_note),
            ("mandated_reporting", &t.mandated_reporting),
        ];
        for (key, value) in fields {
            let field = format!("texts.languages.{lang}.{key}");
            if value.trim().is_empty() {
                return Err(refuse(field, format!("missing translation in `{lang}`")));
            }
            check_text(&field, value, MAX_TEXT)?;
        }
    }
    let dialable = |s: &str| s.chars().all(|c| c.is_ascii_digit() || c == '+');
    let d = &texts.dial;
    for (key, number) in [
        ("emergency_number", &d.emergency_number),
        ("hotline_sms", &d.hotline_sms),
    ] {
        if !dialable(number) || number.len() > 20 {
            return Err(refuse(
                format!("texts.dial.{key}"),
                "digits (and +) only, at most 20, or empty",
            ));
        }
    }
    check_text("texts.dial.hotline_sms_body", &d.hotline_sms_body, 160).or_else(|e| {
        // An empty keyword is allowed: the text line needs none.
        if d.hotline_sms_body.is_empty() {
            Ok(())
        } else {
            Err(e)
        }
    })
}

fn lay_texts(texts: &TextsEdit, config: &mut Config) {
    let program = &mut config.program;
    program.emergency_number = texts.dial.emergency_number.clone();
    program.hotline_sms = texts.dial.hotline_sms.clone();
    program.hotline_sms_body = texts.dial.hotline_sms_body.trim().to_owned();
    let languages = program.languages.clone();
    for (i, lang) in languages.iter().enumerate() {
        let t = &texts.languages[lang];
        let clean = |s: &String| s.trim().to_owned();
        if i == 0 {
            program.name = clean(&t.name);
            program.page_title = clean(&t.page_title);
            program.emergency = clean(&t.emergency);
            program.hotline_phone = clean(&t.hotline_phone);
            program.hotline_text = clean(&t.hotline_text);
            program.offline_note = clean(&t.offline_note);
            program.mandated_reporting = clean(&t.mandated_reporting);
        } else {
            let own = program.text.entry(lang.clone()).or_default();
            own.name = Some(clean(&t.name));
            own.page_title = Some(clean(&t.page_title));
            own.emergency = Some(clean(&t.emergency));
            own.hotline_phone = Some(clean(&t.hotline_phone));
            own.hotline_text = Some(clean(&t.hotline_text));
            own.offline_note = Some(clean(&t.offline_note));
            own.mandated_reporting = Some(clean(&t.mandated_reporting));
        }
    }
}

/// Not blank, at most `max` characters.
fn check_text(field: &str, value: &str, max: usize) -> Result<(), Refusal> {
    if value.trim().is_empty() {
        return Err(refuse(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(refuse(field, format!("at most {max} characters")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::embedded_defaults()
    }

    #[test]
    fn every_section_read_from_the_defaults_applies_unchanged() {
        let config = config();
        for section in Section::ALL {
            let value = read(section, &config);
            let (next, stored) = apply(section, &value, &config)
                .unwrap_or_else(|e| panic!("{}: {e}", section.name()));
            assert_eq!(stored, value, "{}", section.name());
            assert_eq!(read(section, &next), value, "{}", section.name());
        }
    }

    #[test]
    fn refusals_name_the_field() {
        let config = config();
        let cases = [
            (Section::Queues, serde_json::json!([]), "queues"),
            (
                Section::Queues,
                serde_json::json!([{"id": "a", "name": " ", "languages": ["en"], "names": {"es": "A"}}]),
                "queues[0].name",
            ),
            (
                Section::Queues,
                serde_json::json!([{"id": "a", "name": "A", "languages": ["en"]}]),
                "queues[0].names.es",
            ),
            (
                Section::Queues,
                serde_json::json!([{"id": "a", "name": "A", "languages": ["fr"], "names": {"es": "A"}}]),
                "queues[0].languages",
            ),
            (
                Section::Hours,
                serde_json::json!({"utc_offset_minutes": 0, "windows": ["mon-fri 09:00-17:00", "someday 9-5"]}),
                "hours.windows[1]",
            ),
            (
                Section::Hours,
                serde_json::json!({"utc_offset_minutes": 900, "windows": []}),
                "hours.utc_offset_minutes",
            ),
            (
                Section::Canned,
                serde_json::json!([{"title": "Hi", "text": "Hello", "language": "fr"}]),
                "canned[0].language",
            ),
            (
                Section::Canned,
                serde_json::json!([{"title": "", "text": "Hello"}]),
                "canned[0].title",
            ),
        ];
        for (section, value, field) in cases {
            let refusal = apply(section, &value, &config).unwrap_err();
            assert_eq!(refusal.field, field, "{value}: {refusal}");
        }
        let mut texts = read(Section::Texts, &config);
        texts["languages"]["es"]["emergency"] = "".into();
        assert_eq!(
            apply(Section::Texts, &texts, &config).unwrap_err().field,
            "texts.languages.es.emergency"
        );
        texts["languages"].as_object_mut().unwrap().remove("es");
        assert_eq!(
            apply(Section::Texts, &texts, &config).unwrap_err().field,
            "texts.languages.es"
        );
    }

    #[test]
    fn edited_texts_reach_every_language() {
        let config = config();
        let mut texts = read(Section::Texts, &config);
        texts["languages"]["es"]["offline_note"] = "Cerrado por hoy.".into();
        texts["languages"]["en"]["emergency"] = "In danger? Call 911.".into();
        let (next, _) = apply(Section::Texts, &texts, &config).unwrap();
        assert_eq!(
            next.program.text_for("es", &next.queues).offline_note,
            "Cerrado por hoy."
        );
        assert_eq!(next.program.emergency, "In danger? Call 911.");
    }
}
