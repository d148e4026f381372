//! Housekeeping for stored answers: the retention job (old submissions, expired follow-up
//! emails) and the compaction that rewrites the database after writes so that its pages keep
//! no trace of the order answers came in.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Forms;
use crate::{stats::calendar, store::StoreError};

/// How long after a write the database is compacted: writes that come close together are
/// compacted once.
const COMPACT_AFTER: Duration = Duration::from_secs(2);
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

impl Forms {
    /// Deletes submissions older than `forms.retention_months` before `today`, and follow-up
    /// emails past their window. Returns how many rows went.
    pub fn delete_expired(&self, today: time::Date) -> Result<usize, StoreError> {
        let months = self.config.forms.retention_months as i32;
        let oldest_kept = calendar::Month::of(today).plus(-months).first_day();
        let deleted = self
            .store
            .delete_expired_answers(&calendar::iso(oldest_kept), &calendar::iso(today))?;
        if deleted > 0 {
            self.store.compact()?;
        }
        Ok(deleted)
    }
}

/// Runs the retention job every hour and compacts the database after writes.
pub fn spawn_housekeeping(forms: Forms, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let written = forms.written();
        let mut every = tokio::time::interval(RETENTION_EVERY);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = every.tick() => {
                    let forms = forms.clone();
                    let offset = forms.config.service_hours.utc_offset_minutes;
                    let today = calendar::local_date(crate::hub::now_ms(), offset);
                    match tokio::task::spawn_blocking(move || forms.delete_expired(today)).await {
                        Ok(Ok(0)) => {}
                        Ok(Ok(deleted)) => tracing::info!(deleted, "expired form answers deleted"),
                        Ok(Err(error)) => tracing::error!(%error, "retention job failed"),
                        Err(error) => tracing::error!(%error, "retention job panicked"),
                    }
                }
                _ = written.notified() => {
                    tokio::time::sleep(COMPACT_AFTER).await;
                    let store = forms.store.clone();
                    if let Ok(Err(error)) = tokio::task::spawn_blocking(move || store.compact()).await {
                        tracing::error!(%error, "database compaction failed");
                    }
                }
            }
        }
    })
}
