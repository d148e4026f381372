//! The scheduled purge: closed chats leave memory after the retention period.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Hub;

/// Runs until `stop` is cancelled or the hub is dropped; it holds only a weak reference.
pub fn spawn(hub: &Hub, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
    let interval: Duration = hub.settings().purge_interval;
    let weak = hub.downgrade();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = ticks.tick() => {}
            }
            let Some(hub) = Hub::upgrade(&weak) else {
                return;
            };
            let purged = hub.purge_closed();
            if purged > 0 {
                tracing::info!(purged, "purged closed chats");
            }
        }
    })
}
