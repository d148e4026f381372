//! Password checks on two dedicated threads.
//!
//! Argon2id takes ~19 MiB and a core for a moment per check. On tokio's blocking pool each
//! check could land on a different thread, and the allocator keeps the freed 19 MiB in every
//! thread's arena: a burst of logins (real or not) left hundreds of MB behind
//! (`docs/benchmarks.md`). Two fixed threads bound both the CPU and the memory; a bounded queue
//! in front answers "busy" instead of piling up work.

use std::sync::mpsc;

use tokio::sync::oneshot;

const THREADS: usize = 2;
/// Logins that may wait for a thread before Haven answers busy.
const QUEUE: usize = 32;

type Job = Box<dyn FnOnce() + Send>;

pub struct Checker {
    jobs: mpsc::SyncSender<Job>,
}

/// The queue is full, or the threads are gone.
#[derive(Debug)]
pub struct Busy;

impl Checker {
    pub fn new() -> Checker {
        let (jobs, queue) = mpsc::sync_channel::<Job>(QUEUE);
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for i in 0..THREADS {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("haven-passwords-{i}"))
                .spawn(move || loop {
                    // The lock is held only while waiting for the next job, never while hashing.
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        // Every sender is gone: the application stopped.
                        Err(_) => return,
                    }
                });
            if let Err(error) = spawned {
                tracing::error!(%error, "could not start a password-check thread");
            }
        }
        Checker { jobs }
    }

    /// Runs `check` on a password thread and waits for its answer.
    pub async fn run<T: Send + 'static>(
        &self,
        check: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let (answer, answered) = oneshot::channel();
        self.jobs
            .try_send(Box::new(move || {
                let _ = answer.send(check());
            }))
            .map_err(|_| Busy)?;
        answered.await.map_err(|_| Busy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_work_off_the_async_threads_and_returns_it() {
        let checker = Checker::new();
        let name = checker
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("haven-passwords-"));
    }
}
