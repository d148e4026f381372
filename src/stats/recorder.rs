//! Folds chat events into counts per date bucket, queue and metric, in memory, and writes them
//! to the store every `stats.flush_secs`. Only counts are ever written: no chat id, no time
//! finer than the date bucket.

use std::{collections::HashMap, sync::Mutex};

use super::calendar;
use crate::{
    forms::DateBucket,
    hub::{ChatEvent, Recorder},
    protocol::OfflineReason,
    store::{Store, StoreError},
};

/// Upper bounds (minutes) of the wait-time buckets; the last bucket is open-ended.
pub const WAIT_BUCKETS: &[(u64, &str)] = &[
    (1, "0-1 min"),
    (2, "1-2 min"),
    (5, "2-5 min"),
    (10, "5-10 min"),
    (20, "10-20 min"),
    (30, "20-30 min"),
    (60, "30-60 min"),
    (u64::MAX, "over 60 min"),
];

/// Upper bounds (minutes) of the chat-duration buckets.
pub const DURATION_BUCKETS: &[(u64, &str)] = &[
    (5, "0-5 min"),
    (10, "5-10 min"),
    (20, "10-20 min"),
    (30, "20-30 min"),
    (45, "30-45 min"),
    (60, "45-60 min"),
    (90, "60-90 min"),
    (u64::MAX, "over 90 min"),
];

pub fn bucket_index(buckets: &[(u64, &str)], ms: u64) -> usize {
    let minutes = ms / 60_000;
    buckets
        .iter()
        .position(|(below, _)| minutes < *below)
        .unwrap_or(buckets.len() - 1)
}

type Key = (String, String, String);

pub struct DailyRecorder {
    pending: Mutex<HashMap<Key, u64>>,
    utc_offset_minutes: i32,
    bucket_size: DateBucket,
}

impl DailyRecorder {
    pub fn new(utc_offset_minutes: i32, bucket_size: DateBucket) -> DailyRecorder {
        DailyRecorder {
            pending: Mutex::new(HashMap::new()),
            utc_offset_minutes,
            bucket_size,
        }
    }

    fn bucket(&self, unix_ms: u64) -> String {
        calendar::bucket(
            calendar::local_date(unix_ms, self.utc_offset_minutes),
            self.bucket_size,
        )
    }

    fn add(&self, bucket: String, queue: &str, metrics: &[String]) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for metric in metrics {
            *pending
                .entry((bucket.clone(), queue.to_string(), metric.clone()))
                .or_insert(0) += 1;
        }
    }

    /// Writes what has been counted since the last flush; kept for the next try on failure.
    pub fn flush(&self, store: &Store) -> Result<usize, StoreError> {
        let taken: Vec<(String, String, String, u64)> = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.drain().map(|((b, q, m), n)| (b, q, m, n)).collect()
        };
        if taken.is_empty() {
            return Ok(0);
        }
        match store.add_ops_counts(&taken) {
            Ok(()) => Ok(taken.len()),
            Err(error) => {
                let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
                for (b, q, m, n) in taken {
                    *pending.entry((b, q, m)).or_insert(0) += n;
                }
                Err(error)
            }
        }
    }
}

pub fn offline_metric(reason: OfflineReason) -> &'static str {
    match reason {
        OfflineReason::NoAdvocates => "turned_away:no_advocates",
        OfflineReason::OutsideHours => "turned_away:outside_hours",
        OfflineReason::QueueFull => "turned_away:queue_full",
        OfflineReason::Busy => "turned_away:busy",
    }
}

impl Recorder for DailyRecorder {
    fn record(&self, event: ChatEvent) {
        let now = crate::hub::now_ms();
        match event {
            ChatEvent::TurnedAway { queue, reason } => {
                self.add(self.bucket(now), &queue, &[offline_metric(reason).into()])
            }
            ChatEvent::Answered {
                queue,
                started_ms,
                waited_ms,
            } => {
                let wait = WAIT_BUCKETS[bucket_index(WAIT_BUCKETS, waited_ms)].1;
                self.add(
                    self.bucket(started_ms),
                    &queue,
                    &["answered".into(), format!("wait:{wait}")],
                );
            }
            ChatEvent::Abandoned { queue, started_ms } => {
                self.add(self.bucket(started_ms), &queue, &["abandoned".into()])
            }
            ChatEvent::Transferred { queue, started_ms } => {
                self.add(self.bucket(started_ms), &queue, &["transferred".into()])
            }
            ChatEvent::Resumed { queue, started_ms } => {
                self.add(self.bucket(started_ms), &queue, &["resumed".into()])
            }
            ChatEvent::Ended {
                queue,
                started_ms,
                by,
                lasted_ms,
            } => {
                let lasted = DURATION_BUCKETS[bucket_index(DURATION_BUCKETS, lasted_ms)].1;
                self.add(
                    self.bucket(started_ms),
                    &queue,
                    &[
                        format!("ended:{}", by.as_str()),
                        format!("duration:{lasted}"),
                    ],
                );
            }
        }
    }
}
