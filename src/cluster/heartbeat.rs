//! Every node says it is alive on `P.beat` every heartbeat and hears the others: so gateways
//! know the coordinator, and the coordinator knows which gateways still hold their sockets.

use std::time::Instant;

use futures_util::StreamExt;
use uuid::Uuid;

use super::{lock, wire, Cluster};

impl Cluster {
    /// Says this node is alive every heartbeat, hears the others, and notices a coordinator
    /// that changed or went silent (the gateway's sockets bound to it are then closed) and
    /// gateways that went silent (their sockets' sessions here are then disconnected).
    pub(super) async fn heartbeat(self, mut beats: async_nats::Subscriber) {
        let i = &self.inner;
        let mut every = tokio::time::interval(i.config.heartbeat());
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {
                    let beat = wire::Beat { node: i.node, coordinating: self.is_coordinating() };
                    if let Ok(payload) = serde_json::to_vec(&beat) {
                        self.publish(i.subjects.beat(), payload).await;
                    }
                    self.notice_changes();
                }
                message = beats.next() => {
                    let Some(message) = message else { return };
                    let Ok(beat) = serde_json::from_slice::<wire::Beat>(&message.payload) else {
                        continue;
                    };
                    if beat.node == i.node {
                        continue;
                    }
                    lock(&i.heard_nodes).insert(beat.node, Instant::now());
                    if beat.coordinating {
                        *lock(&i.heard_coordinator) = Some((beat.node, Instant::now()));
                    }
                }
            }
        }
    }

    fn notice_changes(&self) {
        let i = &self.inner;
        let timeout = i.config.node_timeout();
        let silent: Vec<Uuid> = {
            let mut nodes = lock(&i.heard_nodes);
            let silent = nodes
                .iter()
                .filter(|(_, at)| at.elapsed() >= timeout)
                .map(|(node, _)| *node)
                .collect::<Vec<_>>();
            for node in &silent {
                nodes.remove(node);
            }
            silent
        };
        for node in silent {
            tracing::warn!(node = %node, "a node went silent; its sockets count as disconnected");
            i.host.node_gone(node);
        }
        let current = if self.nats_connected() {
            self.coordinator()
        } else {
            None
        };
        i.gateway.keep_only(current);
    }
}
