//! The program's own words for the chatter, per language.
//!
//! `[program]` holds them in the default language (the first of `program.languages`);
//! `[program.text.<lang>]` tables give the same keys in another language, plus `queue_names`.
//! A key missing for a language falls back to the default language, and Haven names every
//! such key in a start-up warning, because a Spanish page with an English emergency line is a
//! safety problem, not a cosmetic one. Tables for languages not offered are ignored (the
//! embedded defaults carry Spanish, which a program offering English only does not need).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{ProgramConfig, QueueConfig};

/// One `[program.text.<lang>]` table: every key optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramText {
    pub name: Option<String>,
    pub page_title: Option<String>,
    pub emergency: Option<String>,
    pub hotline_phone: Option<String>,
    pub hotline_text: Option<String>,
    pub offline_note: Option<String>,
    pub mandated_reporting: Option<String>,
    /// Queue id → the queue's name in this language.
    #[serde(default)]
    pub queue_names: BTreeMap<String, String>,
}

/// Every text of one language, with the fallbacks filled in: what the chatter page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedText {
    pub program_name: String,
    pub page_title: String,
    pub emergency: String,
    pub hotline_phone: String,
    pub hotline_text: String,
    pub offline_note: String,
    pub mandated_reporting: String,
    /// Queue id → name.
    pub queue_names: BTreeMap<String, String>,
}

/// The per-language keys, named as in the config file (for warnings and tests).
pub const TEXT_KEYS: [&str; 7] = [
    "name",
    "page_title",
    "emergency",
    "hotline_phone",
    "hotline_text",
    "offline_note",
    "mandated_reporting",
];

impl ProgramText {
    fn get(&self, key: &str) -> Option<&String> {
        match key {
            "name" => self.name.as_ref(),
            "page_title" => self.page_title.as_ref(),
            "emergency" => self.emergency.as_ref(),
            "hotline_phone" => self.hotline_phone.as_ref(),
            "hotline_text" => self.hotline_text.as_ref(),
            "offline_note" => self.offline_note.as_ref(),
            "mandated_reporting" => self.mandated_reporting.as_ref(),
            _ => None,
        }
    }
}

impl ProgramConfig {
    /// The default-language text under a `TEXT_KEYS` name.
    fn base(&self, key: &str) -> &str {
        match key {
            "name" => &self.name,
            "page_title" => &self.page_title,
            "emergency" => &self.emergency,
            "hotline_phone" => &self.hotline_phone,
            "hotline_text" => &self.hotline_text,
            "offline_note" => &self.offline_note,
            "mandated_reporting" => &self.mandated_reporting,
            _ => "",
        }
    }

    /// Texts, in any offered language, that do not say the number their link would dial.
    pub fn numbers_not_in_texts(&self, queues: &[QueueConfig]) -> Vec<String> {
        let mut unsaid = Vec::new();
        for lang in &self.languages {
            let text = self.text_for(lang, queues);
            let pairs = [
                ("emergency", &text.emergency, &self.emergency_number),
                ("hotline_text", &text.hotline_text, &self.hotline_sms),
            ];
            for (key, text, number) in pairs {
                if !number.is_empty() && !text.contains(number.as_str()) {
                    unsaid.push(format!("{lang}: {key}"));
                }
            }
        }
        unsaid
    }

    /// Translations still as shipped in `defaults` although the program changed the
    /// default-language text: the translation no longer says what the program says.
    pub fn stale_texts(&self, defaults: &ProgramConfig) -> Vec<String> {
        let empty = ProgramText::default();
        let mut stale = Vec::new();
        for lang in self.languages.iter().skip(1) {
            let own = self.text.get(lang).unwrap_or(&empty);
            let shipped = defaults.text.get(lang).unwrap_or(&empty);
            for key in TEXT_KEYS {
                let changed = self.base(key) != defaults.base(key);
                if changed && own.get(key).is_some() && own.get(key) == shipped.get(key) {
                    stale.push(format!("program.text.{lang}.{key}"));
                }
            }
        }
        stale
    }

    /// The texts for `lang` (a configured language; anything else gets the default language).
    pub fn text_for(&self, lang: &str, queues: &[QueueConfig]) -> ResolvedText {
        let empty = ProgramText::default();
        let own = self.text.get(lang).unwrap_or(&empty);
        let pick = |own: &Option<String>, base: &String| own.clone().unwrap_or(base.clone());
        ResolvedText {
            program_name: pick(&own.name, &self.name),
            page_title: pick(&own.page_title, &self.page_title),
            emergency: pick(&own.emergency, &self.emergency),
            hotline_phone: pick(&own.hotline_phone, &self.hotline_phone),
            hotline_text: pick(&own.hotline_text, &self.hotline_text),
            offline_note: pick(&own.offline_note, &self.offline_note),
            mandated_reporting: pick(&own.mandated_reporting, &self.mandated_reporting),
            queue_names: queues
                .iter()
                .map(|q| {
                    let name = own.queue_names.get(&q.id).unwrap_or(&q.name);
                    (q.id.clone(), name.clone())
                })
                .collect(),
        }
    }

    /// Keys that a non-default language lacks (so it shows the default language's words),
    /// spelled as config keys, e.g. `program.text.es.emergency`.
    pub fn missing_texts(&self, queues: &[QueueConfig]) -> Vec<String> {
        let empty = ProgramText::default();
        let mut missing = Vec::new();
        for lang in self.languages.iter().skip(1) {
            let own = self.text.get(lang).unwrap_or(&empty);
            for key in TEXT_KEYS {
                if own.get(key).is_none() {
                    missing.push(format!("program.text.{lang}.{key}"));
                }
            }
            for queue in queues {
                if !own.queue_names.contains_key(&queue.id) {
                    missing.push(format!("program.text.{lang}.queue_names.{}", queue.id));
                }
            }
        }
        missing
    }

    /// Logs, once at start, which texts fall back to the default language, and which
    /// translations were left as shipped while the text they translate was changed.
    pub fn warn_missing_texts(&self, queues: &[QueueConfig]) {
        let missing = self.missing_texts(queues);
        if !missing.is_empty() {
            tracing::warn!(
                missing = %missing.join(", "),
                "some program texts are not translated: the chatter page shows them in the default language"
            );
        }
        let unsaid = self.numbers_not_in_texts(queues);
        if !unsaid.is_empty() {
            tracing::warn!(
                texts = %unsaid.join(", "),
                "program.emergency_number or program.hotline_sms does not appear in these texts: the page shows them without a tap-to-call or tap-to-text link"
            );
        }
        let stale = self.stale_texts(&crate::Config::embedded_defaults().program);
        if !stale.is_empty() {
            tracing::warn!(
                stale = %stale.join(", "),
                "some translations are still Haven's shipped examples although the program changed the text they translate: translate them"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Config;

    #[test]
    fn the_default_config_has_every_text_in_every_language() {
        let config = Config::embedded_defaults();
        assert_eq!(
            config.program.missing_texts(&config.queues),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_missing_key_falls_back_to_the_default_language_and_is_named() {
        let mut config = Config::embedded_defaults();
        let es = config.program.text.get_mut("es").unwrap();
        es.emergency = None;
        es.queue_names.remove("general");
        let text = config.program.text_for("es", &config.queues);
        assert_eq!(text.emergency, config.program.emergency);
        assert_eq!(text.queue_names["general"], config.queues[0].name);
        assert_eq!(
            config.program.missing_texts(&config.queues),
            [
                "program.text.es.emergency",
                "program.text.es.queue_names.general"
            ]
        );
    }

    #[test]
    fn an_unknown_language_gets_the_default_texts() {
        let config = Config::embedded_defaults();
        let text = config.program.text_for("xx", &config.queues);
        assert_eq!(text.emergency, config.program.emergency);
    }

    #[test]
    fn a_changed_text_with_its_shipped_translation_is_named() {
        let defaults = Config::embedded_defaults();
        let mut config = Config::embedded_defaults();
        assert!(config.program.stale_texts(&defaults.program).is_empty());
        config.program.emergency = "If you are in danger, call 999.".into();
        config.program.offline_note = "Closed.".into();
        config.program.text.get_mut("es").unwrap().offline_note = Some("Cerrado.".into());
        assert_eq!(
            config.program.stale_texts(&defaults.program),
            ["program.text.es.emergency"],
            "the Spanish emergency line still says 911; the offline note was translated"
        );
    }

    #[test]
    fn a_text_that_does_not_say_its_number_is_named() {
        let mut config = Config::embedded_defaults();
        assert!(config
            .program
            .numbers_not_in_texts(&config.queues)
            .is_empty());
        config.program.emergency_number = "999".into();
        assert_eq!(
            config.program.numbers_not_in_texts(&config.queues),
            ["en: emergency", "es: emergency"]
        );
    }

    #[test]
    fn texts_for_a_language_not_offered_are_not_asked_for() {
        // A program that offers English only needs no Spanish, though default.toml has it.
        let mut config = Config::embedded_defaults();
        config.program.languages = vec!["en".into()];
        config.validate().unwrap();
        assert!(config.program.missing_texts(&config.queues).is_empty());
        config.program.languages = vec!["en".into(), "fr".into()];
        let missing = config.program.missing_texts(&config.queues);
        assert!(
            missing.contains(&"program.text.fr.emergency".to_string()),
            "{missing:?}"
        );
    }
}
