//! A form as the chatter page renders it: labels in one language, "prefer not to say"
//! included, nothing about how answers are stored.

use serde_json::{json, Value};

use super::{FormKind, FormsConfig, Kind, PREFER_NOT_TO_SAY};

/// The form in `lang` (or the default language when `lang` is not configured).
pub fn public_form(forms: &FormsConfig, kind: FormKind, lang: &str, default_lang: &str) -> Value {
    let pick = |labels: &super::definition::Labels| -> String {
        labels
            .get(lang)
            .or_else(|| labels.get(default_lang))
            .cloned()
            .unwrap_or_default()
    };
    let ui = forms
        .ui
        .get(lang)
        .or_else(|| forms.ui.get(default_lang))
        .expect("validated: every language has forms.ui");
    let form = forms.form(kind);
    let questions: Vec<Value> = form
        .questions
        .iter()
        .map(|q| {
            let mut options: Vec<Value> = match q.kind {
                Kind::Single | Kind::Multi => q
                    .options
                    .iter()
                    .map(|o| json!({"id": o.id, "label": pick(&o.label)}))
                    .collect(),
                Kind::Scale => (1..=5)
                    .map(|n| json!({"id": n.to_string(), "label": n.to_string()}))
                    .collect(),
                _ => Vec::new(),
            };
            if q.kind.is_choice() {
                options.push(json!({"id": PREFER_NOT_TO_SAY, "label": ui.prefer_not_to_say}));
            }
            json!({
                "id": q.id,
                "kind": q.kind,
                "label": pick(&q.label),
                "hint": q.hint.as_ref().map(pick),
                "max_len": matches!(q.kind, Kind::Text | Kind::Email).then(|| q.max_len()),
                "options": options,
            })
        })
        .collect();
    let (title, intro) = match kind {
        FormKind::Intake => (&ui.intake_title, &ui.intake_intro),
        FormKind::Survey => (&ui.survey_title, &ui.survey_intro),
    };
    json!({
        "form": kind.as_str(),
        "version": form.version,
        "title": title,
        "intro": intro,
        "submit": ui.submit,
        "skip": ui.skip,
        "kept_note": ui.kept_note,
        "deletion_note": ui.deletion_note,
        "questions": questions,
    })
}
