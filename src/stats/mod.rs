//! Aggregate statistics for program evaluators: counts per period, queue and form version,
//! with small cells suppressed so that no export — alone or combined with others — points at
//! a person. Reads only counts from the store; never an individual record.

pub mod calendar;
mod export;
mod query;
mod recorder;
mod report;
pub mod suppress;

use std::{sync::Arc, time::Duration};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub use export::to_csv;
pub use query::{parse_funder, parse_query, Query};
pub use recorder::DailyRecorder;

use crate::{
    config::Config,
    forms::FormKind,
    store::{Store, StoreError},
};

#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error("{0}")]
    BadQuery(String),
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    #[error("a background task failed")]
    Join(#[from] tokio::task::JoinError),
}

#[derive(Clone)]
pub struct Stats {
    config: Arc<Config>,
    store: Store,
    recorder: Arc<DailyRecorder>,
}

impl Stats {
    pub fn new(config: Arc<Config>, store: Store) -> Stats {
        let recorder = Arc::new(DailyRecorder::new(
            config.service_hours.utc_offset_minutes,
            config.forms.date_bucket,
        ));
        Stats {
            config,
            store,
            recorder,
        }
    }

    /// The recorder the hub sends chat events to.
    pub fn recorder(&self) -> Arc<DailyRecorder> {
        Arc::clone(&self.recorder)
    }

    /// Writes pending counts now (before a report, and at shutdown).
    pub async fn flush(&self) -> Result<(), StatsError> {
        let (recorder, store) = (self.recorder(), self.store.clone());
        tokio::task::spawn_blocking(move || recorder.flush(&store)).await??;
        Ok(())
    }

    /// The report for one query, as JSON (the CSV is made from it).
    pub async fn report(&self, query: Query) -> Result<Value, StatsError> {
        self.flush().await?;
        let (config, store) = (Arc::clone(&self.config), self.store.clone());
        Ok(tokio::task::spawn_blocking(move || report::build(&config, &store, &query)).await??)
    }

    /// The funder preset: a fiscal year, all queues, both forms' current versions.
    pub async fn funder(&self, period: calendar::Period) -> Result<Value, StatsError> {
        self.flush().await?;
        let (config, store) = (Arc::clone(&self.config), self.store.clone());
        Ok(tokio::task::spawn_blocking(move || report::funder(&config, &store, period)).await??)
    }

    /// What an evaluator may choose from.
    pub async fn options(&self) -> Result<Value, StatsError> {
        let (config, store) = (Arc::clone(&self.config), self.store.clone());
        Ok(tokio::task::spawn_blocking(move || report::options(&config, &store)).await??)
    }

    /// One page of a question's free-text answers, in random order.
    pub async fn free_text(
        &self,
        form: FormKind,
        version: u32,
        question: String,
        page: usize,
    ) -> Result<Value, StatsError> {
        const PER_PAGE: usize = 10;
        let store = self.store.clone();
        let (answers, total) = tokio::task::spawn_blocking(move || {
            store.free_text_page(form.as_str(), version, &question, page, PER_PAGE)
        })
        .await??;
        Ok(serde_json::json!({
            "page": page,
            "pages": total.div_ceil(PER_PAGE),
            "answers": answers,
        }))
    }
}

/// Writes the operational counts every `stats.flush_secs`, and once more on the way out.
pub fn spawn_flusher(stats: Stats, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(stats.config.stats.flush_secs));
        loop {
            let stopping = tokio::select! {
                _ = stop.cancelled() => true,
                _ = every.tick() => false,
            };
            if let Err(error) = stats.flush().await {
                tracing::error!(%error, "could not write the operational counts");
            }
            if stopping {
                return;
            }
        }
    })
}
