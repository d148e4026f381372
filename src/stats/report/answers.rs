//! The answers part of a report: one form version's submissions, withheld count, and each
//! question's distribution (and, for outcome questions, its share per month).

use std::collections::{BTreeSet, HashMap};

use serde_json::{json, Map, Value};

use super::{share, Frame};
use crate::{
    config::Config,
    forms::{FormConfig, FormKind, Kind, PREFER_NOT_TO_SAY},
    stats::{
        query::Query,
        suppress::{Family, Tree},
    },
    store::{Store, StoreError},
};

/// The definition a form version was given under: the configuration's for the current one,
/// the recorded one for older versions.
fn definition(
    config: &Config,
    store: &Store,
    form: FormKind,
    version: u32,
) -> Result<Option<FormConfig>, StoreError> {
    let current = config.forms.form(form);
    if current.version == version {
        return Ok(Some(current.clone()));
    }
    Ok(store
        .form_versions(form.as_str())?
        .into_iter()
        .find(|(v, _)| *v == version)
        .and_then(|(_, record)| serde_json::from_str::<Value>(&record).ok())
        .and_then(|record| serde_json::from_value(record.get("definition")?.clone()).ok()))
}

/// One form version's answers: submissions, withheld, and each question's distribution.
pub(super) fn form_section(
    frame: &Frame<'_>,
    store: &Store,
    query: &Query,
    form: FormKind,
    version: u32,
) -> Result<Value, StoreError> {
    let Some(definition) = definition(frame.config, store, form, version)? else {
        return Ok(Value::Null);
    };
    let lang = frame.config.program.languages[0].as_str();
    let label = |labels: &std::collections::BTreeMap<String, String>| {
        labels
            .get(lang)
            .or_else(|| labels.values().next())
            .cloned()
            .unwrap_or_default()
    };
    let (from, to) = frame.span();
    let rows = store.answer_counts(form.as_str(), version, &from, &to)?;
    let t = frame.time_node(&query.period);
    let qn = frame.queue_node(&query.queue);
    let mut by_key: HashMap<&str, Vec<(usize, usize, &str, u64)>> = HashMap::new();
    for (bucket, queue, key, count) in &rows {
        let Some((m, q)) = frame.place(bucket, queue) else {
            continue;
        };
        let (question, value) = key.split_once('\u{1f}').unwrap_or((key.as_str(), ""));
        by_key
            .entry(question)
            .or_default()
            .push((m, q, value, *count));
    }
    let single = |key: &str| {
        let leaves = by_key
            .get(key)
            .into_iter()
            .flatten()
            .map(|&(m, q, _, n)| (m, q, 0, n));
        Family::build(
            frame.queue_tree(),
            Tree::single(),
            leaves.collect::<Vec<_>>(),
            frame.threshold,
        )
    };
    let submissions = single("submissions");
    let withheld = single("withheld_under_13");
    let ui_prefer = frame
        .config
        .forms
        .ui
        .get(lang)
        .map_or(PREFER_NOT_TO_SAY.to_string(), |ui| {
            ui.prefer_not_to_say.clone()
        });
    let mut questions = Vec::new();
    for question in &definition.questions {
        if matches!(question.kind, Kind::Text | Kind::Email) || question.never_stored {
            continue;
        }
        let answers: Vec<(usize, usize, &str, u64)> = by_key
            .get(question.id.as_str())
            .into_iter()
            .flatten()
            .filter(|(_, _, value, _)| !value.is_empty())
            .cloned()
            .collect();
        let respondents_rows: Vec<(usize, usize, usize, u64)> = by_key
            .get(question.id.as_str())
            .into_iter()
            .flatten()
            .filter(|(_, _, value, _)| value.is_empty())
            .map(|&(m, q, _, n)| (m, q, 0, n))
            .collect();
        // Options in order, with labels; a zip's options are the prefixes people gave.
        let mut options: Vec<(String, String)> = match question.kind {
            Kind::Single | Kind::Multi => question
                .options
                .iter()
                .map(|o| (o.id.clone(), label(&o.label)))
                .collect(),
            Kind::Scale => (1..=5).map(|n| (n.to_string(), n.to_string())).collect(),
            _ => answers
                .iter()
                .map(|(_, _, v, _)| v.to_string())
                .filter(|v| v != PREFER_NOT_TO_SAY)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(|v| (v.clone(), format!("{v}xx")))
                .collect(),
        };
        options.push((PREFER_NOT_TO_SAY.into(), ui_prefer.clone()));
        let index = |value: &str| options.iter().position(|(id, _)| id == value);
        let mut entry = Map::new();
        entry.insert("id".into(), json!(question.id));
        entry.insert("label".into(), json!(label(&question.label)));
        entry.insert("kind".into(), json!(question.kind));
        entry.insert("outcome".into(), json!(question.outcome));
        type Cells = Box<dyn Fn(usize, usize) -> Value>;
        type Totals = Box<dyn Fn(usize) -> Value>;
        let (respondents_at, option_cell): (Totals, Cells) = if question.kind == Kind::Multi {
            // Several answers per person: each option, and the respondents, are counts
            // of their own (no option is a part of another).
            let respondents = Family::build(
                frame.queue_tree(),
                Tree::single(),
                respondents_rows,
                frame.threshold,
            );
            let per_option: Vec<Family> = (0..options.len())
                .map(|i| {
                    let leaves = answers
                        .iter()
                        .filter(|(_, _, v, _)| index(v) == Some(i))
                        .map(|&(m, q, _, n)| (m, q, 0, n))
                        .collect::<Vec<_>>();
                    Family::build(frame.queue_tree(), Tree::single(), leaves, frame.threshold)
                })
                .collect();
            let marker = frame.marker.clone();
            let total_marker = frame.marker.clone();
            (
                Box::new(move |time| match respondents.cell(time, qn, 0) {
                    Some(n) => json!(n),
                    None => json!(total_marker),
                }),
                Box::new(
                    move |time, option| match per_option[option].cell(time, qn, 0) {
                        Some(n) => json!(n),
                        None => json!(marker),
                    },
                ),
            )
        } else {
            // One answer per person: the options are parts of the respondents.
            let leaves = answers
                .iter()
                .filter_map(|&(m, q, v, n)| Some((m, q, index(v)?, n)))
                .collect::<Vec<_>>();
            let family = std::sync::Arc::new(Family::build(
                frame.queue_tree(),
                Tree::flat(options.len()),
                leaves,
                frame.threshold,
            ));
            let root = options.len();
            let marker = frame.marker.clone();
            let (total_family, total_marker) = (family.clone(), frame.marker.clone());
            (
                Box::new(move |time| match total_family.cell(time, qn, root) {
                    Some(n) => json!(n),
                    None => json!(total_marker),
                }),
                Box::new(move |time, option| match family.cell(time, qn, option) {
                    Some(n) => json!(n),
                    None => json!(marker),
                }),
            )
        };
        let option_rows = |time: usize, of: &Value, with_labels: bool| -> Vec<Value> {
            options
                .iter()
                .enumerate()
                .map(|(i, (id, text))| {
                    let count = option_cell(time, i);
                    let mut o = json!({"id": id, "count": count, "share": share(&count, of)});
                    if with_labels {
                        o["label"] = json!(text);
                    }
                    o
                })
                .collect()
        };
        let respondents = respondents_at(t);
        entry.insert("options".into(), json!(option_rows(t, &respondents, true)));
        if question.outcome {
            // Outcome questions: the share per month, against that month's respondents.
            let months: Vec<Value> = query
                .period
                .months()
                .iter()
                .map(|month| {
                    let m = month.months_since(frame.fy) as usize;
                    let of = respondents_at(m);
                    json!({"month": month.to_string(), "respondents": of, "options": option_rows(m, &of, false)})
                })
                .collect();
            entry.insert("months".into(), Value::Array(months));
        }
        entry.insert("respondents".into(), respondents);
        questions.push(Value::Object(entry));
    }
    // Text questions whose answers may be stored: read one page at a time, never counted.
    let free_text_questions: Vec<Value> = definition
        .questions
        .iter()
        .filter(|q| frame.config.forms.store_free_text && q.kind == Kind::Text && !q.never_stored)
        .map(|q| json!({"id": q.id, "label": label(&q.label)}))
        .collect();
    Ok(json!({
        "form": form.as_str(),
        "version": version,
        "submissions": frame.publish(&submissions, t, qn, 0),
        "withheld_under_13": frame.publish(&withheld, t, qn, 0),
        "free_text_questions": free_text_questions,
        "questions": questions,
    }))
}
