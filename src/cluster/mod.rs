//! Cluster mode (docs/cluster.md): several Haven nodes behind a plain load balancer, on NATS
//! (core publish/subscribe, nothing stored) and the store's PostgreSQL database. Everything
//! that talks to other nodes is in this module; the hub, the sessions and the pages do not
//! know whether they run clustered.
//!
//! One node at a time **coordinates**: it holds a PostgreSQL advisory lock
//! ([`crate::store::postgres::lock`]) and runs the hub for the whole cluster, so a claim, a
//! transfer or an auto-assignment stays one atomic step under one lock, the queue keeps one
//! order and each advocate's capacity holds cluster-wide. Every other node is a **gateway**:
//! it accepts sockets (origin checks, rate limits, probes, staff sessions), and tunnels each
//! one's frames over NATS to a session that runs on the coordinator ([`gateway`], [`host`]).
//! Transcripts stay in memory, on the coordinator; NATS carries frames and keeps none.
//!
//! A gateway that dies drops only its sockets: the coordinator hears its silence and treats
//! them as disconnected, and their people resume through another node. A coordinator that
//! dies releases its lock with its PostgreSQL session; another node takes it over (see
//! docs/cluster.md for what that costs the chats it held).

mod calls;
mod config;
mod election;
mod gateway;
mod heartbeat;
mod host;
mod nats;
mod wire;

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Instant,
};

use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use calls::Coordinator;
pub use config::ClusterConfig;
pub use gateway::Tunnel;
pub use host::{Event as HostedEvent, Hosted, Opened};
pub use wire::Opening;

use crate::store::config::StoreConfig;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cluster: {0}")]
    Config(String),
    #[error("cluster: could not reach NATS: {0}")]
    Nats(String),
    #[error("cluster: the coordinator is not reachable")]
    NoCoordinator,
}

/// This node's place in the cluster. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    /// New at every start: a restarted node is a new node.
    node: Uuid,
    name: String,
    config: ClusterConfig,
    nats: async_nats::Client,
    subjects: wire::Subjects,
    /// This node holds the coordinator lock.
    coordinating: AtomicBool,
    /// The lock's PostgreSQL session answered at the last check.
    postgres_ok: AtomicBool,
    /// The other coordinator last heard, and when.
    heard_coordinator: Mutex<Option<(Uuid, Instant)>>,
    /// Every other node's last beat (the coordinator drops the sockets of a silent gateway).
    heard_nodes: Mutex<HashMap<Uuid, Instant>>,
    gateway: gateway::Gateway,
    uplink: gateway::Uplink,
    host: host::Host,
    /// Fired to stop this node (a coordinator that lost its lock to another node).
    stop: CancellationToken,
}

/// Where a new socket's session runs.
pub enum Route {
    /// On this node's hub (it coordinates).
    Here,
    /// On the coordinator, through a tunnel.
    There(Tunnel),
    /// Nowhere yet: no coordinator is known (starting, or cut off).
    Nowhere,
}

/// What `/healthz` says of the cluster.
#[derive(Debug, serde::Serialize)]
pub struct Health {
    pub node: String,
    pub coordinating: bool,
    pub coordinator_known: bool,
    pub nats: bool,
    pub postgres: bool,
}

impl Health {
    /// A load balancer may send users here.
    pub fn ready(&self) -> bool {
        self.nats && (self.coordinating || self.coordinator_known) && self.postgres
    }
}

impl Cluster {
    /// Connects to NATS (retrying in the background when it is down at start) and starts the
    /// election. Nothing is served until [`Cluster::serve`].
    pub async fn join(
        config: &ClusterConfig,
        store: &StoreConfig,
        stop: CancellationToken,
    ) -> Result<Cluster, ClusterError> {
        let node = Uuid::new_v4();
        let name = match config.node_name.trim() {
            "" => nats::hostname(),
            name => name.to_owned(),
        };
        let nats = nats::connect(config, &name).await?;
        let cluster = Cluster {
            inner: Arc::new(Inner {
                node,
                name,
                config: config.clone(),
                nats: nats.clone(),
                subjects: wire::Subjects::new(&config.subject_prefix),
                coordinating: AtomicBool::new(false),
                postgres_ok: AtomicBool::new(false),
                heard_coordinator: Mutex::new(None),
                heard_nodes: Mutex::new(HashMap::new()),
                gateway: gateway::Gateway::default(),
                uplink: gateway::Uplink::start(nats.clone(), config.heartbeat()),
                host: host::Host::default(),
                stop,
            }),
        };
        let lock = crate::store::postgres::lock::CoordinatorLock::new(
            store,
            &config.subject_prefix,
            config.node_timeout(),
        )
        .map_err(|e| ClusterError::Config(e.to_string()))?;
        election::start(cluster.clone(), lock);
        tracing::info!(node = %cluster.inner.name, "joined the cluster");
        Ok(cluster)
    }

    /// Starts listening: beats, the gateway's frames, and (when coordinating) tunnels and
    /// calls. `opened` runs each tunnelled socket's session on this node's hub.
    pub async fn serve(
        &self,
        coordinator: Coordinator,
        opened: impl Fn(Opened) + Send + Sync + 'static,
        settings: crate::settings::LiveSettings,
    ) -> Result<(), ClusterError> {
        let nats = |e: async_nats::SubscribeError| ClusterError::Nats(e.to_string());
        let i = &self.inner;
        let beats = i.nats.subscribe(i.subjects.beat()).await.map_err(nats)?;
        let downs = i
            .nats
            .subscribe(i.subjects.down(i.node))
            .await
            .map_err(nats)?;
        let ups = i
            .nats
            .subscribe(i.subjects.up(i.node))
            .await
            .map_err(nats)?;
        let calls = i
            .nats
            .subscribe(i.subjects.call(i.node))
            .await
            .map_err(nats)?;
        let saved = i
            .nats
            .subscribe(i.subjects.settings())
            .await
            .map_err(nats)?;
        tokio::spawn(reload_settings(saved, settings));
        tokio::spawn(self.clone().heartbeat(beats));
        tokio::spawn(gateway::dispatch(self.clone(), downs));
        tokio::spawn(host::listen(self.clone(), ups, Arc::new(opened)));
        tokio::spawn(calls::answer(self.clone(), calls, coordinator));
        Ok(())
    }

    /// Closes this node's tunnelled sockets with "reconnect" (it is shutting down): their
    /// people resume through another node, and their chats go on.
    pub fn release_sockets(&self) {
        self.inner.gateway.release_all();
    }

    pub fn node(&self) -> Uuid {
        self.inner.node
    }

    pub fn is_coordinating(&self) -> bool {
        self.inner.coordinating.load(Ordering::Acquire)
    }

    /// The coordinator's id: this node, or the one last heard within the node timeout.
    pub fn coordinator(&self) -> Option<Uuid> {
        if self.is_coordinating() {
            return Some(self.inner.node);
        }
        let heard = *lock(&self.inner.heard_coordinator);
        heard
            .filter(|(_, at)| at.elapsed() < self.inner.config.node_timeout())
            .map(|(node, _)| node)
    }

    pub fn route(&self) -> Route {
        if self.is_coordinating() {
            return Route::Here;
        }
        match self.coordinator() {
            Some(coordinator) if self.nats_connected() => {
                Route::There(Tunnel::new(self.clone(), coordinator))
            }
            _ => Route::Nowhere,
        }
    }

    pub fn health(&self) -> Health {
        Health {
            node: self.inner.name.clone(),
            coordinating: self.is_coordinating(),
            coordinator_known: self.coordinator().is_some(),
            nats: self.nats_connected(),
            postgres: self.inner.postgres_ok.load(Ordering::Acquire),
        }
    }

    fn nats_connected(&self) -> bool {
        matches!(
            self.inner.nats.connection_state(),
            async_nats::connection::State::Connected
        )
    }

    /// What the election thread found.
    fn set_coordinating(&self, on: bool) {
        let was = self.inner.coordinating.swap(on, Ordering::AcqRel);
        if on && !was {
            tracing::info!(node = %self.inner.name, "this node coordinates the cluster now");
        }
    }

    fn set_postgres_ok(&self, ok: bool) {
        self.inner.postgres_ok.store(ok, Ordering::Release);
    }

    /// Another node holds the lock this node thought it held: stop, rather than run a second
    /// hub beside the legitimate one. The service manager starts this node again, as a gateway.
    fn step_down(&self) {
        tracing::error!(
            node = %self.inner.name,
            "another node took the coordinator lock while this one was cut off from PostgreSQL; stopping this node"
        );
        self.inner.coordinating.store(false, Ordering::Release);
        self.inner.stop.cancel();
    }

    /// Heard a coordinator recently (not this node).
    fn heard_coordinator_recently(&self) -> bool {
        let heard = *lock(&self.inner.heard_coordinator);
        heard.is_some_and(|(_, at)| at.elapsed() < self.inner.config.node_timeout())
    }

    /// Publishes, giving up after a heartbeat: while NATS is away the client's buffer fills
    /// and a publish would wait for it (`/healthz` says NATS is down meanwhile).
    async fn publish(&self, subject: String, payload: Vec<u8>) -> bool {
        let publish = self.inner.nats.publish(subject, payload.into());
        match tokio::time::timeout(self.inner.config.heartbeat(), publish).await {
            Ok(Ok(())) => true,
            Ok(Err(error)) => {
                tracing::warn!(error = %error, "cluster: publish failed");
                false
            }
            Err(_) => false,
        }
    }
}

/// Reads the saved settings again whenever a node says an admin saved them.
async fn reload_settings(
    mut saved: async_nats::Subscriber,
    settings: crate::settings::LiveSettings,
) {
    use futures_util::StreamExt;
    while saved.next().await.is_some() {
        let settings = settings.clone();
        let reloaded = tokio::task::spawn_blocking(move || settings.reload()).await;
        if !matches!(reloaded, Ok(Ok(()))) {
            tracing::warn!("saved settings could not be read again; the previous ones stand");
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
