//! Abuse resistance that needs to know something about the connection: the per-client key
//! (a keyed hash of the address, never the address itself), the limits counted against it, and
//! the process's file-descriptor budget. The hub never sees any of it.

mod client_key;
pub mod fd;
mod limits;
pub mod proof;

use std::{net::SocketAddr, sync::Arc};

use axum::http::HeaderMap;
use tokio::sync::OwnedSemaphorePermit;

pub use client_key::{ClientKey, ClientKeys};
pub use limits::{PerClient, SocketPermit};

use crate::config::ProtectionConfig;

/// What the server loop attaches to every request of one TCP connection. The address lives
/// only as long as the request and is turned into a [`ClientKey`] where a limit needs it; it is
/// never logged or stored.
#[derive(Clone)]
pub struct Connection {
    pub peer: SocketAddr,
    /// Held for as long as the connection lives, including after a WebSocket upgrade.
    pub permit: Arc<ConnectionPermit>,
}

/// The connection's place under the global cap and under its client's share.
pub struct ConnectionPermit {
    pub global: OwnedSemaphorePermit,
    /// `None` for a trusted proxy, which carries many clients.
    pub client: Option<SocketPermit>,
}

/// A client already has its share of connections open.
#[derive(Debug, thiserror::Error)]
#[error("this client already has its share of connections open")]
pub struct OverLimit;

/// The anonymous per-client limits, shared by every handler.
#[derive(Clone)]
pub struct Protection {
    keys: Arc<ClientKeys>,
    limits: Arc<PerClient>,
    /// TCP connections per client address (counted at accept, before any header is read).
    connections: Arc<PerClient>,
}

impl Protection {
    pub fn new(config: &ProtectionConfig) -> Protection {
        Protection {
            keys: Arc::new(ClientKeys::new(
                config.trusted_proxies.clone(),
                &config.client_ip_header,
            )),
            limits: Arc::new(PerClient::new(
                config.max_sockets_per_client,
                config.new_chats_per_client_per_minute,
            )),
            connections: Arc::new(PerClient::new(config.max_connections_per_client, 1)),
        }
    }

    /// A TCP connection's share of its client's allowance: `Err` when the client already has
    /// its share open; `Ok(None)` for a trusted proxy (its clients are told apart later, by
    /// the forwarded header, for the socket and chat limits).
    pub fn open_connection(&self, peer: SocketAddr) -> Result<Option<SocketPermit>, OverLimit> {
        if self.keys.is_trusted_proxy(peer.ip()) {
            return Ok(None);
        }
        let key = self.key(peer, &HeaderMap::new());
        self.connections.open_socket(key).map(Some).ok_or(OverLimit)
    }

    /// The client's key for this request; rotating the secret (hourly) also forgets every
    /// per-minute count made with the old one.
    pub fn key(&self, peer: SocketAddr, headers: &HeaderMap) -> ClientKey {
        if self.keys.rotate_if_due() {
            self.limits.forget_rates();
        }
        self.keys.key_for(peer, headers)
    }

    /// The client's address for this request: the peer, or what a trusted proxy says. For the
    /// login throttle, which keys it with its own secret; held only while the request lasts.
    pub fn client_address(&self, peer: SocketAddr, headers: &HeaderMap) -> std::net::IpAddr {
        self.keys.client_address(peer.ip(), headers)
    }

    /// A chatter socket for this client, or `None` when it already has its share open.
    pub fn open_socket(&self, key: ClientKey) -> Option<SocketPermit> {
        self.limits.open_socket(key)
    }

    /// Whether this client may start another chat now.
    pub fn allow_new_chat(&self, key: ClientKey) -> bool {
        self.limits.allow_new_chat(key)
    }
}
