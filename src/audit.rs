//! The audit trail of staff actions. Callers hand entries to [`Audit::record`], which never
//! waits: a writer task batches them into the store, so a slow or failing disk delays no chat
//! and no request. When the channel is full an entry is dropped and counted in the log.
//!
//! What may go in an entry is narrow on purpose (`store::audit`): staff ids, an action code,
//! a short detail, and, for a failed login, the user name attempted. Never chat content,
//! intake answers, chatter ids or addresses.

use std::time::Duration;

use tokio::sync::mpsc;
use uuid::Uuid;

use crate::store::{audit::AuditEntry, Store};

/// Entries waiting for the writer before new ones are dropped.
const BACKLOG: usize = 10_000;

#[derive(Clone)]
pub struct Audit {
    entries: mpsc::Sender<AuditEntry>,
}

impl Audit {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Store) -> Audit {
        let (entries, mut incoming) = mpsc::channel::<AuditEntry>(BACKLOG);
        tokio::spawn(async move {
            while let Some(first) = incoming.recv().await {
                let mut batch = vec![first];
                while let Ok(more) = incoming.try_recv() {
                    batch.push(more);
                    if batch.len() >= 256 {
                        break;
                    }
                }
                // Retry a failing disk a few times, then give the batch up (logged).
                let mut tries = 0;
                loop {
                    let rows = batch.clone();
                    match store.call(move |s| s.append_audit(&rows)).await {
                        Ok(()) => break,
                        Err(error) if tries < 3 => {
                            tries += 1;
                            tracing::warn!(%error, "audit write failed; retrying");
                            tokio::time::sleep(Duration::from_millis(500 * tries)).await;
                        }
                        Err(error) => {
                            tracing::error!(%error, lost = batch.len(), "audit entries lost");
                            break;
                        }
                    }
                }
            }
        });
        Audit { entries }
    }

    /// Records `action` by `actor` on `target` now. Never blocks.
    pub fn record(
        &self,
        at: i64,
        actor: Option<Uuid>,
        action: &'static str,
        target: Option<Uuid>,
        detail: Option<String>,
    ) {
        self.push(AuditEntry {
            at,
            actor: actor.map(|a| a.to_string()),
            action: action.to_owned(),
            target: target.map(|t| t.to_string()),
            attempted_username: None,
            detail,
        });
    }

    /// A failed login, with the user name that was tried (cut to 64 characters).
    pub fn login_failed(&self, at: i64, attempted: &str, detail: &'static str) {
        self.push(AuditEntry {
            at,
            actor: None,
            action: "login_failed".to_owned(),
            target: None,
            attempted_username: Some(attempted.chars().take(64).collect()),
            detail: Some(detail.to_owned()),
        });
    }

    fn push(&self, entry: AuditEntry) {
        if self.entries.try_send(entry).is_err() {
            tracing::warn!("audit backlog full; an entry was dropped");
        }
    }
}
