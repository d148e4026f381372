//! The gateway's half of a tunnel: a socket on this node whose session runs on the
//! coordinator. What the client sends goes up as [`Up`]; what the coordinator's hub queued for
//! it comes down as [`Down`] into the socket's own outbox, so the socket's writer, limits and
//! probes work as they do for a local session.

use std::sync::Arc;

use dashmap::DashMap;
use futures_util::StreamExt;
use uuid::Uuid;

use super::{
    wire::{Down, Opening, Up},
    Cluster,
};
use crate::{
    error::ErrorCode,
    hub::outbox::{Frame, Outbox},
};

/// The close code that tells a client to reconnect (to any node) and resume.
pub const RECONNECT: u16 = 1012;

/// This node's tunnelled sockets: which coordinator each one's session runs on, and its outbox.
#[derive(Default)]
pub struct Gateway {
    sockets: DashMap<Uuid, (Uuid, Outbox)>,
}

impl Gateway {
    /// Closes every socket whose session ran on a coordinator other than `current` (it died,
    /// or this node lost touch with it): their people reconnect and resume elsewhere.
    pub fn keep_only(&self, current: Option<Uuid>) {
        self.sockets.retain(|_, (coordinator, outbox)| {
            if Some(*coordinator) == current {
                return true;
            }
            outbox.close(RECONNECT, ErrorCode::NodeLeaving);
            false
        });
    }

    /// Closes every tunnelled socket (this node is shutting down): the clients reconnect to
    /// another node and resume, so no chat ends because one node restarts.
    pub fn release_all(&self) {
        self.keep_only(None);
    }
}

/// One socket's tunnel to the coordinator.
pub struct Tunnel {
    cluster: Cluster,
    coordinator: Uuid,
    conn: Uuid,
    subject: String,
    open: bool,
}

impl Tunnel {
    pub(super) fn new(cluster: Cluster, coordinator: Uuid) -> Tunnel {
        let subject = cluster.inner.subjects.up(coordinator);
        Tunnel {
            cluster,
            coordinator,
            conn: Uuid::new_v4(),
            subject,
            open: false,
        }
    }

    /// Starts the session on the coordinator; its frames arrive in `outbox`.
    pub fn open(&mut self, opening: Opening, outbox: &Outbox) {
        self.cluster
            .inner
            .gateway
            .sockets
            .insert(self.conn, (self.coordinator, outbox.clone()));
        self.open = true;
        let node = self.cluster.node();
        self.up(Up::Open {
            conn: self.conn,
            node,
            opening,
        });
    }

    pub fn text(&self, text: &str) {
        self.up(Up::Text {
            conn: self.conn,
            text: text.to_owned(),
        });
    }

    pub fn stalled(&self, on: bool) {
        self.up(Up::Stalled {
            conn: self.conn,
            on,
        });
    }

    /// The socket is gone: the session on the coordinator hears it as a disconnect.
    pub fn closed(&mut self) {
        if !std::mem::take(&mut self.open) {
            return;
        }
        self.cluster.inner.gateway.sockets.remove(&self.conn);
        self.up(Up::Closed { conn: self.conn });
    }

    /// Sends in order: every event of this node goes through one queue to NATS.
    fn up(&self, up: Up) {
        let Ok(payload) = serde_json::to_vec(&up) else {
            return;
        };
        self.cluster
            .inner
            .uplink
            .send((self.subject.clone(), payload));
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        self.closed();
    }
}

/// The one queue each node's socket events go up by, in the order they happened (a publish
/// per event from each socket's own task could overtake another).
pub struct Uplink(tokio::sync::mpsc::UnboundedSender<(String, Vec<u8>)>);

impl Uplink {
    /// Starts the task that publishes what is queued.
    pub fn start(nats: async_nats::Client, patience: std::time::Duration) -> Uplink {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, Vec<u8>)>();
        tokio::spawn(async move {
            while let Some((subject, payload)) = rx.recv().await {
                // While NATS is away the publish gives up: the coordinator is lost then, and
                // the socket is closed for its client to reconnect elsewhere.
                let publish = nats.publish(subject, payload.into());
                let _ = tokio::time::timeout(patience, publish).await;
            }
        });
        Uplink(tx)
    }

    fn send(&self, item: (String, Vec<u8>)) {
        let _ = self.0.send(item);
    }
}

/// Hands each frame the coordinator sent down to its socket's outbox.
pub async fn dispatch(cluster: Cluster, mut downs: async_nats::Subscriber) {
    while let Some(message) = downs.next().await {
        let Ok(down) = serde_json::from_slice::<Down>(&message.payload) else {
            tracing::warn!("cluster: a frame from the coordinator could not be read");
            continue;
        };
        let sockets = &cluster.inner.gateway.sockets;
        let Some(outbox) = sockets.get(&down.conn()).map(|entry| entry.1.clone()) else {
            continue;
        };
        match down {
            Down::Text { text, .. } => {
                outbox.send(Frame::Text(Arc::from(text)));
            }
            Down::Ack { text, .. } => {
                outbox.send(Frame::Ack(Arc::from(text)));
            }
            Down::Batch { texts, .. } => {
                outbox.send(Frame::Batch(texts.into_iter().map(Arc::from).collect()));
            }
            Down::Close { code, reason, .. } => outbox.close(code, reason),
            Down::Kill { .. } => outbox.kill(),
        }
    }
}
