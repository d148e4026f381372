//! Builds a report: reads counts for the query's fiscal year, arranges them in families (see
//! `suppress`), and publishes every number as its family decided — a count, or the marker.

mod answers;
mod operations;

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::{
    calendar::{self, Month, Period, PeriodKind},
    query::Query,
    suppress::{Family, Tree},
};
use crate::{
    config::Config,
    forms::FormKind,
    store::{Store, StoreError},
};
use answers::form_section;
use operations::operations;

/// Everything a report needs to place a count: the fiscal year, the queues, the marker.
pub(super) struct Frame<'a> {
    pub config: &'a Config,
    pub fy: Month,
    pub queues: Vec<String>,
    pub threshold: u64,
    pub marker: String,
}

impl Frame<'_> {
    fn new<'c>(config: &'c Config, period: Period, extra_queues: &BTreeSet<String>) -> Frame<'c> {
        let mut queues: Vec<String> = config.queues.iter().map(|q| q.id.clone()).collect();
        // A queue since removed from the configuration still counts in "all queues".
        queues.extend(
            extra_queues
                .iter()
                .filter(|q| !queues.contains(q))
                .cloned()
                .collect::<Vec<_>>(),
        );
        Frame {
            config,
            fy: period
                .start
                .fiscal_year_start(config.stats.fiscal_year_start_month as u8),
            queues,
            threshold: config.stats.suppress_below,
            marker: format!("<{}", config.stats.suppress_below),
        }
    }

    pub(super) fn queue_tree(&self) -> Tree {
        Tree::flat(self.queues.len())
    }

    pub(super) fn queue_node(&self, queue: &Option<String>) -> usize {
        match queue {
            None => self.queues.len(),
            Some(id) => self
                .queues
                .iter()
                .position(|q| q == id)
                .unwrap_or(self.queues.len()),
        }
    }

    /// `(month index in the fiscal year, queue index)` of a stored bucket, if inside.
    pub(super) fn place(&self, bucket: &str, queue: &str) -> Option<(usize, usize)> {
        let month = calendar::bucket_month(bucket, self.config.forms.date_bucket)?;
        let index = month.months_since(self.fy);
        let q = self.queues.iter().position(|id| id == queue)?;
        (0..12).contains(&index).then_some((index as usize, q))
    }

    pub(super) fn time_node(&self, period: &Period) -> usize {
        let index = period.start.months_since(self.fy) as usize;
        match period.kind {
            PeriodKind::Month => index,
            PeriodKind::Quarter => 12 + index / 3,
            PeriodKind::FiscalYear => 16,
        }
    }

    pub(super) fn publish(&self, family: &Family, t: usize, q: usize, l: usize) -> Value {
        match family.cell(t, q, l) {
            Some(n) => json!(n),
            None => json!(self.marker),
        }
    }

    pub(super) fn span(&self) -> (String, String) {
        calendar::bucket_span(self.fy, self.fy.plus(11))
    }
}

/// `count` as a percentage of `of`, when both are published.
pub(super) fn share(count: &Value, of: &Value) -> Value {
    match (count.as_u64(), of.as_u64()) {
        (Some(c), Some(o)) if o > 0 => json!(((c as f64) * 1000.0 / o as f64).round() / 10.0),
        (Some(_), Some(_)) => json!(0.0),
        _ => json!("suppressed"),
    }
}

fn header(frame: &Frame<'_>, period: &Period) -> Map<String, Value> {
    let config = frame.config;
    let fy_start = config.stats.fiscal_year_start_month as u8;
    let today = calendar::local_date(
        crate::hub::now_ms(),
        config.service_hours.utc_offset_minutes,
    );
    let mut header = Map::new();
    header.insert("generated_on".into(), json!(calendar::iso(today)));
    header.insert(
        "period".into(),
        json!({"kind": period.kind, "start": period.start.to_string(),
               "end": period.end().to_string(), "label": period.label(fy_start)}),
    );
    header.insert(
        "suppression".into(),
        json!({"threshold": frame.threshold, "marker": frame.marker,
               "note": format!("Counts from 1 to {} are shown as {}, with other cells hidden where they could give them away. Zero shows.", frame.threshold - 1, frame.marker)}),
    );
    header.insert("date_bucket".into(), json!(config.forms.date_bucket));
    header
}

/// Queues that appear in stored counts but are no longer configured.
fn stored_queues(
    store: &Store,
    frame_span: (String, String),
) -> Result<BTreeSet<String>, StoreError> {
    Ok(store
        .ops_counts(&frame_span.0, &frame_span.1)?
        .into_iter()
        .map(|(_, q, _, _)| q)
        .collect())
}

pub fn build(config: &Config, store: &Store, query: &Query) -> Result<Value, StoreError> {
    let probe = Frame::new(config, query.period, &BTreeSet::new());
    let frame = Frame::new(config, query.period, &stored_queues(store, probe.span())?);
    let mut report = header(&frame, &query.period);
    report.insert(
        "filters".into(),
        json!({"queue": query.queue.as_deref().unwrap_or("all"), "form": query.form.as_str(), "version": query.version}),
    );
    report.extend(operations(&frame, store, query)?);
    report.insert(
        "form".into(),
        form_section(&frame, store, query, query.form, query.version)?,
    );
    Ok(Value::Object(report))
}

/// The counts FVPSA and VAWA reports ask of a hotline or chat service, for a fiscal year.
pub fn funder(config: &Config, store: &Store, period: Period) -> Result<Value, StoreError> {
    let query = Query {
        period,
        queue: None,
        form: FormKind::Intake,
        version: config.forms.intake.version,
    };
    let probe = Frame::new(config, period, &BTreeSet::new());
    let frame = Frame::new(config, period, &stored_queues(store, probe.span())?);
    let mut report = header(&frame, &period);
    report.insert("preset".into(), json!("funder"));
    report.insert("filters".into(), json!({"queue": "all"}));
    report.extend(operations(&frame, store, &query)?);
    let mut forms = Map::new();
    for form in FormKind::ALL {
        let version = config.forms.form(form).version;
        forms.insert(
            form.as_str().into(),
            form_section(&frame, store, &query, form, version)?,
        );
    }
    report.insert("forms".into(), Value::Object(forms));
    Ok(Value::Object(report))
}

pub fn options(config: &Config, store: &Store) -> Result<Value, StoreError> {
    let mut forms = Vec::new();
    for form in FormKind::ALL {
        let mut versions: BTreeSet<u32> = store
            .form_versions(form.as_str())?
            .into_iter()
            .map(|(v, _)| v)
            .collect();
        versions.insert(config.forms.form(form).version);
        forms.push(json!({"form": form.as_str(), "versions": versions}));
    }
    let range = store.bucket_range()?;
    let month_of = |bucket: &str| {
        calendar::bucket_month(bucket, config.forms.date_bucket).map(|m| m.to_string())
    };
    let today = calendar::local_date(
        crate::hub::now_ms(),
        config.service_hours.utc_offset_minutes,
    );
    let this_month = Month::of(today).to_string();
    Ok(json!({
        "queues": config.queues.iter().map(|q| json!({"id": q.id, "name": q.name})).collect::<Vec<_>>(),
        "forms": forms,
        "fiscal_year_start_month": config.stats.fiscal_year_start_month,
        "threshold": config.stats.suppress_below,
        "marker": format!("<{}", config.stats.suppress_below),
        "first_month": range.as_ref().and_then(|(first, _)| month_of(first)).unwrap_or_else(|| this_month.clone()),
        "last_month": this_month,
        "free_text": config.forms.store_free_text,
    }))
}
