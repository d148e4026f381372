//! Password checks on two dedicated threads: the global budget of password checks.
//!
//! Argon2id takes ~19 MiB and a core for a moment per check. On tokio's blocking pool a burst
//! of logins (real or not) ran as many checks at once as it had threads: hundreds of MB and
//! every core (`docs/benchmarks.md`). Two fixed threads bound both the CPU and the memory at
//! any moment; bounded queues in front answer "busy" instead of piling up work.
//!
//! Fairness: logins from a browser with a valid device cookie wait in their own queue, served
//! first, so a spray over many user names (which fills the other queue) cannot starve the
//! people who use Haven every day; and each source may hold only a few places in the queues
//! (`throttle::SOURCE_MAX_IN_FLIGHT`).

use std::{
    collections::VecDeque,
    sync::{Arc, Condvar, Mutex},
};

use tokio::sync::oneshot;

const THREADS: usize = 2;
/// Logins that may wait for a thread before Haven answers busy, per lane.
const QUEUE: usize = 32;

type Job = Box<dyn FnOnce() + Send>;

/// Which queue a check waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// A browser this account has logged in from before.
    Known,
    Other,
}

#[derive(Default)]
struct Queues {
    known: VecDeque<Job>,
    other: VecDeque<Job>,
    stopped: bool,
}

struct Shared {
    queues: Mutex<Queues>,
    ready: Condvar,
}

pub struct Checker {
    shared: Arc<Shared>,
}

/// The queue is full, or the threads are gone.
#[derive(Debug)]
pub struct Busy;

impl Checker {
    pub fn new() -> Checker {
        let shared = Arc::new(Shared {
            queues: Mutex::new(Queues::default()),
            ready: Condvar::new(),
        });
        for i in 0..THREADS {
            let shared = shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("haven-passwords-{i}"))
                .spawn(move || work(&shared));
            if let Err(error) = spawned {
                tracing::error!(%error, "could not start a password-check thread");
            }
        }
        Checker { shared }
    }

    /// Runs `check` on a password thread and waits for its answer.
    pub async fn run<T: Send + 'static>(
        &self,
        lane: Lane,
        check: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(check());
        });
        {
            let mut queues = self.shared.queues.lock().map_err(|_| Busy)?;
            let queue = match lane {
                Lane::Known => &mut queues.known,
                Lane::Other => &mut queues.other,
            };
            if queue.len() >= QUEUE {
                return Err(Busy);
            }
            queue.push_back(job);
        }
        self.shared.ready.notify_one();
        answered.await.map_err(|_| Busy)
    }
}

impl Drop for Checker {
    fn drop(&mut self) {
        if let Ok(mut queues) = self.shared.queues.lock() {
            queues.stopped = true;
        }
        self.shared.ready.notify_all();
    }
}

fn work(shared: &Shared) {
    loop {
        // The lock is held only while taking the next job, never while hashing.
        let job = {
            let Ok(mut queues) = shared.queues.lock() else {
                return;
            };
            loop {
                if let Some(job) = queues
                    .known
                    .pop_front()
                    .or_else(|| queues.other.pop_front())
                {
                    break job;
                }
                if queues.stopped {
                    return;
                }
                queues = match shared.ready.wait(queues) {
                    Ok(q) => q,
                    Err(_) => return,
                };
            }
        };
        job();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_work_off_the_async_threads_and_returns_it() {
        let checker = Checker::new();
        let name = checker
            .run(Lane::Other, || {
                std::thread::current().name().map(str::to_owned)
            })
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("haven-passwords-"));
    }
}
