//! The coordinator's half of a tunnel: a gateway's socket, seen from here as a stream of
//! events ([`Hosted::next`]) and a way to send it frames ([`Hosted::send`]). The socket layer
//! (`ws::hosted`) runs the same session on it as on a socket of its own.

use std::sync::Arc;

use dashmap::DashMap;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{
    wire::{Down, Opening, Up},
    Cluster,
};
use crate::hub::outbox::Frame;

/// What a gateway's socket did.
#[derive(Debug)]
pub enum Event {
    Text(String),
    Stalled(bool),
    /// The socket is gone, or its node went silent.
    Closed,
}

/// The tunnelled sockets whose sessions run here: their node, and where their events go.
#[derive(Default)]
pub struct Host {
    sockets: DashMap<Uuid, (Uuid, mpsc::UnboundedSender<Event>)>,
}

impl Host {
    /// A gateway went silent: each of its sockets counts as disconnected (their people
    /// resume through another node within the grace).
    pub fn node_gone(&self, node: Uuid) {
        self.sockets.retain(|_, (from, events)| {
            if *from != node {
                return true;
            }
            let _ = events.send(Event::Closed);
            false
        });
    }
}

/// A new tunnelled socket, for the socket layer to run its session.
pub struct Opened {
    pub opening: Opening,
    pub hosted: Hosted,
}

pub struct Hosted {
    cluster: Cluster,
    conn: Uuid,
    subject: String,
    events: mpsc::UnboundedReceiver<Event>,
}

impl Hosted {
    pub async fn next(&mut self) -> Event {
        self.events.recv().await.unwrap_or(Event::Closed)
    }

    /// Sends one frame of the session's outbox down to the socket.
    pub async fn send(&self, frame: Frame) {
        let conn = self.conn;
        let text = |t: Arc<str>| t.as_ref().to_owned();
        let down = match frame {
            Frame::Text(t) => Down::Text {
                conn,
                text: text(t),
            },
            Frame::Ack(t) => Down::Ack {
                conn,
                text: text(t),
            },
            Frame::Batch(ts) => Down::Batch {
                conn,
                texts: ts.into_iter().map(text).collect(),
            },
            Frame::Close(code, reason) => Down::Close { conn, code, reason },
        };
        self.down(&down).await;
    }

    /// The hub gave up on the socket (a slow consumer): the gateway closes it.
    pub async fn kill(&self) {
        self.down(&Down::Kill { conn: self.conn }).await;
    }

    async fn down(&self, down: &Down) {
        if let Ok(payload) = serde_json::to_vec(down) {
            self.cluster.publish(self.subject.clone(), payload).await;
        }
    }
}

impl Drop for Hosted {
    fn drop(&mut self) {
        self.cluster.inner.host.sockets.remove(&self.conn);
    }
}

/// Hears the gateways' socket events; each new socket goes to `opened`.
pub async fn listen(
    cluster: Cluster,
    mut ups: async_nats::Subscriber,
    opened: Arc<dyn Fn(Opened) + Send + Sync>,
) {
    while let Some(message) = ups.next().await {
        let Ok(up) = serde_json::from_slice::<Up>(&message.payload) else {
            tracing::warn!("cluster: a gateway's frame could not be read");
            continue;
        };
        let sockets = &cluster.inner.host.sockets;
        let (conn, event) = match up {
            Up::Open {
                conn,
                node,
                opening,
            } => {
                if !cluster.is_coordinating() {
                    // Addressed to this node as it was: tell the gateway to reconnect.
                    let hosted = hosted(&cluster, conn, node).0;
                    hosted.send(reconnect()).await;
                    continue;
                }
                let (hosted, events) = hosted(&cluster, conn, node);
                sockets.insert(conn, (node, events));
                opened(Opened { opening, hosted });
                continue;
            }
            Up::Text { conn, text } => (conn, Event::Text(text)),
            Up::Stalled { conn, on } => (conn, Event::Stalled(on)),
            Up::Closed { conn } => match sockets.remove(&conn) {
                Some((_, (_, events))) => {
                    let _ = events.send(Event::Closed);
                    continue;
                }
                None => continue,
            },
        };
        if let Some(entry) = sockets.get(&conn) {
            let _ = entry.1.send(event);
        }
    }
}

fn hosted(cluster: &Cluster, conn: Uuid, node: Uuid) -> (Hosted, mpsc::UnboundedSender<Event>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let hosted = Hosted {
        cluster: cluster.clone(),
        conn,
        subject: cluster.inner.subjects.down(node),
        events: rx,
    };
    (hosted, tx)
}

fn reconnect() -> Frame {
    Frame::Close(
        super::gateway::RECONNECT,
        crate::error::ErrorCode::NodeLeaving,
    )
}
