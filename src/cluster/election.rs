//! Who coordinates: the node that holds the PostgreSQL advisory lock. A node tries for it only
//! when it has heard no coordinator for the node timeout, and the lock makes the try atomic,
//! so two nodes can never both win it.
//!
//! The lock's session is checked every heartbeat. A coordinator whose session broke (its
//! PostgreSQL restarted, or the network between them failed) keeps serving, since it still
//! beats over NATS and no other node tries while it hears those beats, and takes the lock
//! again as soon as the database answers. If another node holds it by then, this one stops
//! (`Cluster::step_down`).
//!
//! Runs on a thread of its own: the PostgreSQL client is blocking.

use std::time::Instant;

use super::Cluster;
use crate::store::postgres::lock::CoordinatorLock;

pub fn start(cluster: Cluster, mut lock: CoordinatorLock) {
    let spawned = std::thread::Builder::new()
        .name("haven-election".into())
        .spawn(move || run(&cluster, &mut lock));
    if let Err(error) = spawned {
        tracing::error!(error = %error, "could not start the coordinator election");
    }
}

fn run(cluster: &Cluster, lock: &mut CoordinatorLock) {
    let started = Instant::now();
    let config = &cluster.inner.config;
    loop {
        if cluster.inner.stop.is_cancelled() {
            return;
        }
        if cluster.is_coordinating() {
            if lock.is_held() {
                let alive = lock.check().is_ok();
                cluster.set_postgres_ok(alive);
            } else {
                // The session broke: take the lock back, or stop if another node has it.
                match lock.try_take() {
                    Ok(true) => {
                        tracing::info!("coordinator lock taken again");
                        cluster.set_postgres_ok(true);
                    }
                    Ok(false) => {
                        cluster.set_postgres_ok(true);
                        cluster.step_down();
                        return;
                    }
                    Err(_) => cluster.set_postgres_ok(false),
                }
            }
        } else {
            // Listen for one node timeout first: a coordinator may be running already.
            let may_try =
                started.elapsed() >= config.node_timeout() && !cluster.heard_coordinator_recently();
            let result = if may_try {
                lock.try_take()
            } else {
                lock.check().map(|()| false)
            };
            match result {
                Ok(taken) => {
                    cluster.set_postgres_ok(true);
                    if taken {
                        cluster.set_coordinating(true);
                    }
                }
                Err(_) => cluster.set_postgres_ok(false),
            }
        }
        std::thread::sleep(config.heartbeat());
    }
}
