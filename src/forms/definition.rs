//! The forms as configured: questions, options, labels per language, and the checks that
//! keep every question optional and every label translated.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// Option id every choice question carries, added by Haven so no form can forget it.
pub const PREFER_NOT_TO_SAY: &str = "prefer_not_to_say";

/// A label in each configured language.
pub type Labels = BTreeMap<String, String>;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormsConfig {
    pub store_free_text: bool,
    pub date_bucket: DateBucket,
    pub retention_months: u32,
    pub followup_window_days: u32,
    pub followup_role: crate::staff::Role,
    pub survey_window_minutes: u64,
    /// The forms' own buttons and notes, per language.
    pub ui: BTreeMap<String, FormsUi>,
    pub intake: FormConfig,
    pub survey: FormConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DateBucket {
    Day,
    Week,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FormsUi {
    pub intake_title: String,
    pub intake_intro: String,
    pub survey_title: String,
    pub survey_intro: String,
    pub submit: String,
    pub skip: String,
    pub prefer_not_to_say: String,
    pub kept_note: String,
    pub deletion_note: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FormConfig {
    pub version: u32,
    #[serde(default)]
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Single,
    Multi,
    Scale,
    Zip,
    Text,
    Email,
}

impl Kind {
    pub fn is_choice(self) -> bool {
        matches!(self, Kind::Single | Kind::Multi | Kind::Scale)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub kind: Kind,
    pub label: Labels,
    #[serde(default)]
    pub hint: Option<Labels>,
    #[serde(default)]
    pub options: Vec<ChoiceOption>,
    /// Longest accepted text, in characters (text and email kinds).
    #[serde(default)]
    pub max_len: Option<usize>,
    /// Shown to the advocate during the chat only (e.g. a name): never stored.
    #[serde(default)]
    pub never_stored: bool,
    /// An outcome question: statistics show its answers as a share per period.
    #[serde(default)]
    pub outcome: bool,
    /// For an email question: why it is asked, stored beside the address.
    #[serde(default)]
    pub purpose: Option<String>,
    /// Refused at start: every question is optional. Present so the check can name it.
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    pub id: String,
    pub label: Labels,
    /// Choosing it means the person is under 13: none of their answers are stored.
    #[serde(default)]
    pub under_13: bool,
}

/// Which form a submission is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FormKind {
    Intake,
    Survey,
}

impl FormKind {
    pub const ALL: [FormKind; 2] = [FormKind::Intake, FormKind::Survey];

    pub fn as_str(self) -> &'static str {
        match self {
            FormKind::Intake => "intake",
            FormKind::Survey => "survey",
        }
    }

    pub fn parse(text: &str) -> Option<FormKind> {
        match text {
            "intake" => Some(FormKind::Intake),
            "survey" => Some(FormKind::Survey),
            _ => None,
        }
    }
}

pub const MAX_TEXT_LEN: usize = 500;
const DEFAULT_TEXT_LEN: usize = 200;

impl Question {
    pub fn max_len(&self) -> usize {
        self.max_len.unwrap_or(DEFAULT_TEXT_LEN)
    }

    /// The options offered, "prefer not to say" last. A scale offers 1 to 5.
    pub fn offered_options(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = match self.kind {
            Kind::Scale => vec!["1", "2", "3", "4", "5"],
            Kind::Single | Kind::Multi => self.options.iter().map(|o| o.id.as_str()).collect(),
            _ => return Vec::new(),
        };
        ids.push(PREFER_NOT_TO_SAY);
        ids
    }

    /// Whether the answer may be kept on disk at all.
    pub fn storable(&self, store_free_text: bool) -> bool {
        !self.never_stored
            && match self.kind {
                Kind::Text => store_free_text,
                // An email is kept, apart from the answers, for the follow-up window.
                _ => true,
            }
    }
}

impl FormsConfig {
    pub fn form(&self, kind: FormKind) -> &FormConfig {
        match kind {
            FormKind::Intake => &self.intake,
            FormKind::Survey => &self.survey,
        }
    }

    /// Refuses forms that break Haven's promises or cannot be shown in every language.
    pub fn validate(&self, languages: &[String]) -> Result<(), ConfigError> {
        let invalid = |key: String, reason: &str| ConfigError::Form {
            key,
            reason: reason.to_string(),
        };
        if !(1..=120).contains(&self.retention_months) {
            return Err(invalid(
                "forms.retention_months".into(),
                "must be from 1 to 120",
            ));
        }
        if !(1..=365).contains(&self.followup_window_days) {
            return Err(invalid(
                "forms.followup_window_days".into(),
                "must be from 1 to 365",
            ));
        }
        if self.survey_window_minutes == 0 {
            return Err(invalid(
                "forms.survey_window_minutes".into(),
                "must be greater than 0",
            ));
        }
        if !matches!(
            self.followup_role,
            crate::staff::Role::Supervisor | crate::staff::Role::Admin
        ) {
            return Err(invalid(
                "forms.followup_role".into(),
                "must be \"supervisor\" or \"admin\"",
            ));
        }
        for lang in languages {
            if !self.ui.contains_key(lang) {
                return Err(invalid(
                    format!("forms.ui.{lang}"),
                    "missing: give the forms' buttons and notes in every language of program.languages",
                ));
            }
        }
        for kind in FormKind::ALL {
            let form = self.form(kind);
            let base = format!("forms.{}", kind.as_str());
            if form.version == 0 {
                return Err(invalid(format!("{base}.version"), "must be 1 or more"));
            }
            let mut seen = std::collections::HashSet::new();
            for q in &form.questions {
                let key = format!("{base}.questions[{}]", q.id);
                if q.id.is_empty()
                    || q.id.len() > 40
                    || !q.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    || !seen.insert(q.id.as_str())
                {
                    return Err(invalid(
                        key,
                        "question ids are unique, 1 to 40 letters, digits or _",
                    ));
                }
                if q.required {
                    return Err(invalid(
                        format!("{key}.required"),
                        "every question is optional: remove `required`",
                    ));
                }
                check_labels(&q.label, languages, &format!("{key}.label"))?;
                if let Some(hint) = &q.hint {
                    check_labels(hint, languages, &format!("{key}.hint"))?;
                }
                match q.kind {
                    Kind::Single | Kind::Multi => {
                        if q.options.is_empty() {
                            return Err(invalid(
                                format!("{key}.options"),
                                "a choice question needs options",
                            ));
                        }
                        let mut ids = std::collections::HashSet::new();
                        for o in &q.options {
                            let okey = format!("{key}.options[{}]", o.id);
                            if o.id.is_empty()
                                || o.id.len() > 40
                                || o.id == PREFER_NOT_TO_SAY
                                || !ids.insert(o.id.as_str())
                            {
                                return Err(invalid(
                                    okey,
                                    "option ids are unique, 1 to 40 characters, and not prefer_not_to_say (Haven adds it)",
                                ));
                            }
                            check_labels(&o.label, languages, &format!("{okey}.label"))?;
                        }
                    }
                    _ if !q.options.is_empty() => {
                        return Err(invalid(
                            format!("{key}.options"),
                            "only single and multi questions have options",
                        ));
                    }
                    _ => {}
                }
                if q.max_len.is_some_and(|n| n == 0 || n > MAX_TEXT_LEN) {
                    return Err(invalid(format!("{key}.max_len"), "must be from 1 to 500"));
                }
                if q.kind == Kind::Email && kind == FormKind::Intake {
                    return Err(invalid(
                        format!("{key}.kind"),
                        "ask for a follow-up email in the exit survey, not before the chat",
                    ));
                }
            }
        }
        Ok(())
    }
}

fn check_labels(labels: &Labels, languages: &[String], key: &str) -> Result<(), ConfigError> {
    for lang in languages {
        if labels.get(lang).is_none_or(|l| l.trim().is_empty()) {
            return Err(ConfigError::Form {
                key: format!("{key}.{lang}"),
                reason: "missing translation".into(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn refused(change: impl FnOnce(&mut Config)) -> String {
        let mut config = Config::embedded_defaults();
        change(&mut config);
        config.validate().unwrap_err().to_string()
    }

    #[test]
    fn a_form_that_breaks_a_promise_or_a_language_is_refused_naming_its_key() {
        let error = refused(|c| c.forms.intake.questions[1].required = true);
        assert!(
            error.contains("forms.intake.questions[gender].required"),
            "{error}"
        );
        let error = refused(|c| c.forms.survey.questions[0].options.clear());
        assert!(
            error.contains("forms.survey.questions[got_needed].options"),
            "{error}"
        );
        let error = refused(|c| {
            c.forms.intake.questions[1].options[0].label.remove("es");
        });
        assert!(
            error.contains("forms.intake.questions[gender].options[woman].label.es"),
            "{error}"
        );
        let error = refused(|c| {
            c.forms.ui.remove("es");
        });
        assert!(error.contains("forms.ui.es"), "{error}");
        let error = refused(|c| c.stats.suppress_below = 4);
        assert!(error.contains("stats.suppress_below"), "{error}");
        let error = refused(|c| {
            c.forms.intake.questions[1].options[0].id = super::PREFER_NOT_TO_SAY.into()
        });
        assert!(error.contains("options[prefer_not_to_say]"), "{error}");
    }
}
