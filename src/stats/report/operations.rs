//! The operational part of a report: contacts and how they went, transfers, resumes, and the
//! wait and duration medians.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::Frame;
use crate::{
    protocol::OfflineReason,
    stats::{
        query::Query,
        recorder::{offline_metric, DURATION_BUCKETS, WAIT_BUCKETS},
        suppress::{Family, Tree},
    },
    store::{Store, StoreError},
};

/// Nodes of the contacts tree: contacts → {answered, not served → {abandoned, turned away →
/// reasons}}. "Offered" (answered + abandoned) is published only when both parts show.
const NO_ADVOCATES: usize = 0;
const OUTSIDE_HOURS: usize = 1;
const QUEUE_FULL: usize = 2;
const BUSY: usize = 3;
const ABANDONED: usize = 4;
const ANSWERED: usize = 5;
const TURNED_AWAY: usize = 6;
const NOT_SERVED: usize = 7;
const CONTACTS: usize = 8;

fn contacts_tree() -> Tree {
    Tree::new(vec![
        Some(TURNED_AWAY),
        Some(TURNED_AWAY),
        Some(TURNED_AWAY),
        Some(TURNED_AWAY),
        Some(NOT_SERVED),
        Some(CONTACTS),
        Some(NOT_SERVED),
        Some(CONTACTS),
        None,
    ])
}

fn contacts_leaf(metric: &str) -> Option<usize> {
    Some(match metric {
        m if m == offline_metric(OfflineReason::NoAdvocates) => NO_ADVOCATES,
        m if m == offline_metric(OfflineReason::OutsideHours) => OUTSIDE_HOURS,
        m if m == offline_metric(OfflineReason::QueueFull) => QUEUE_FULL,
        m if m == offline_metric(OfflineReason::Busy) => BUSY,
        "abandoned" => ABANDONED,
        "answered" => ANSWERED,
        _ => return None,
    })
}

fn sum_if_shown(a: &Value, b: &Value, marker: &str) -> Value {
    match (a.as_u64(), b.as_u64()) {
        (Some(a), Some(b)) => json!(a + b),
        _ => json!(marker),
    }
}

/// The operational part: contacts and how they went, transfers, resumes, waits, durations.
pub(super) fn operations(
    frame: &Frame<'_>,
    store: &Store,
    query: &Query,
) -> Result<Map<String, Value>, StoreError> {
    let (from, to) = frame.span();
    let rows = store.ops_counts(&from, &to)?;
    let mut contacts = Vec::new();
    let (mut transferred, mut resumed) = (Vec::new(), Vec::new());
    let mut wait: HashMap<(usize, usize), Vec<u64>> = HashMap::new();
    let mut duration: HashMap<(usize, usize), Vec<u64>> = HashMap::new();
    for (bucket, queue, metric, count) in &rows {
        let Some((m, q)) = frame.place(bucket, queue) else {
            continue;
        };
        if let Some(leaf) = contacts_leaf(metric) {
            contacts.push((m, q, leaf, *count));
        } else if metric == "transferred" {
            transferred.push((m, q, 0, *count));
        } else if metric == "resumed" {
            resumed.push((m, q, 0, *count));
        } else if let Some(label) = metric.strip_prefix("wait:") {
            if let Some(i) = WAIT_BUCKETS.iter().position(|(_, l)| *l == label) {
                wait.entry((m, q))
                    .or_insert_with(|| vec![0; WAIT_BUCKETS.len()])[i] += count;
            }
        } else if let Some(label) = metric.strip_prefix("duration:") {
            if let Some(i) = DURATION_BUCKETS.iter().position(|(_, l)| *l == label) {
                duration
                    .entry((m, q))
                    .or_insert_with(|| vec![0; DURATION_BUCKETS.len()])[i] += count;
            }
        }
    }
    let t = frame.time_node(&query.period);
    let qn = frame.queue_node(&query.queue);
    let contacts = Family::build(
        frame.queue_tree(),
        contacts_tree(),
        contacts,
        frame.threshold,
    );
    let transferred = Family::build(
        frame.queue_tree(),
        Tree::single(),
        transferred,
        frame.threshold,
    );
    let resumed = Family::build(frame.queue_tree(), Tree::single(), resumed, frame.threshold);

    let row = |t: usize| -> Map<String, Value> {
        let cell = |l| frame.publish(&contacts, t, qn, l);
        let mut row = Map::new();
        row.insert("contacts".into(), cell(CONTACTS));
        row.insert("answered".into(), cell(ANSWERED));
        row.insert("not_served".into(), cell(NOT_SERVED));
        row.insert("abandoned".into(), cell(ABANDONED));
        row.insert("turned_away".into(), cell(TURNED_AWAY));
        row.insert(
            "offered".into(),
            sum_if_shown(&cell(ANSWERED), &cell(ABANDONED), &frame.marker),
        );
        row
    };
    let mut totals = row(t);
    totals.insert(
        "no_advocates".into(),
        frame.publish(&contacts, t, qn, NO_ADVOCATES),
    );
    totals.insert(
        "outside_hours".into(),
        frame.publish(&contacts, t, qn, OUTSIDE_HOURS),
    );
    totals.insert(
        "queue_full".into(),
        frame.publish(&contacts, t, qn, QUEUE_FULL),
    );
    totals.insert("busy".into(), frame.publish(&contacts, t, qn, BUSY));
    totals.insert("transferred".into(), frame.publish(&transferred, t, qn, 0));
    totals.insert("resumed".into(), frame.publish(&resumed, t, qn, 0));
    let months: Vec<Value> = query
        .period
        .months()
        .iter()
        .map(|month| {
            let mut row = row(month.months_since(frame.fy) as usize);
            row.insert("month".into(), json!(month.to_string()));
            Value::Object(row)
        })
        .collect();

    // Medians and 90th percentiles, as bucket labels, only where the count of answered chats
    // in this cell is itself published and large enough.
    let answered_shown = contacts
        .cell(t, qn, ANSWERED)
        .is_some_and(|n| n >= frame.threshold);
    let in_cell = |(m, q): &(usize, usize)| {
        let month_in = query
            .period
            .months()
            .iter()
            .any(|p| p.months_since(frame.fy) as usize == *m);
        month_in && (query.queue.is_none() || *q == qn)
    };
    let quantiles = |hist: &HashMap<(usize, usize), Vec<u64>>, labels: &[(u64, &str)]| {
        let mut total = vec![0u64; labels.len()];
        for (key, counts) in hist.iter().filter(|(k, _)| in_cell(k)) {
            let _ = key;
            for (sum, n) in total.iter_mut().zip(counts) {
                *sum += n;
            }
        }
        let n: u64 = total.iter().sum();
        if !answered_shown || n < frame.threshold {
            return json!({"median": null, "p90": null});
        }
        let at = |fraction: f64| {
            let rank = ((n as f64) * fraction).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (i, count) in total.iter().enumerate() {
                seen += count;
                if seen >= rank {
                    return json!(labels[i].1);
                }
            }
            Value::Null
        };
        json!({"median": at(0.5), "p90": at(0.9)})
    };
    let mut out = Map::new();
    out.insert("totals".into(), Value::Object(totals));
    out.insert("months".into(), Value::Array(months));
    out.insert("wait".into(), quantiles(&wait, WAIT_BUCKETS));
    out.insert("duration".into(), quantiles(&duration, DURATION_BUCKETS));
    Ok(out)
}
