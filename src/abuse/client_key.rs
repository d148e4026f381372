//! The per-client key: HMAC-SHA256 of the client address under a random secret that lives only
//! in memory and is replaced every hour. Counting needs *some* stable identity per client; this
//! one cannot be turned back into an address once its secret is gone (and the secret is never
//! written anywhere), so a memory dump an hour later links nothing to anyone.

use std::{
    net::{IpAddr, SocketAddr},
    sync::RwLock,
    time::Duration,
};

use axum::http::{HeaderMap, HeaderName};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use tokio::time::Instant;
use zeroize::Zeroizing;

/// How long one secret is used.
pub const ROTATE_EVERY: Duration = Duration::from_secs(3600);

/// An opaque key: 16 bytes of the HMAC. Deliberately no `Debug` that shows the bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey([u8; 16]);

impl ClientKey {
    /// The key as it crosses to the coordinator in cluster mode (still only a keyed hash).
    pub fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    pub fn from_bytes(bytes: [u8; 16]) -> ClientKey {
        ClientKey(bytes)
    }
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientKey(..)")
    }
}

struct Secret {
    bytes: Zeroizing<[u8; 32]>,
    created: Instant,
}

impl Secret {
    fn fresh() -> Secret {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        Secret {
            bytes,
            created: Instant::now(),
        }
    }
}

pub struct ClientKeys {
    secret: RwLock<Secret>,
    trusted_proxies: Vec<IpAddr>,
    header: Option<HeaderName>,
}

impl ClientKeys {
    pub fn new(trusted_proxies: Vec<IpAddr>, header: &str) -> ClientKeys {
        ClientKeys {
            secret: RwLock::new(Secret::fresh()),
            trusted_proxies,
            header: HeaderName::from_bytes(header.as_bytes()).ok(),
        }
    }

    /// Replaces the secret when it is an hour old; true when it did.
    pub fn rotate_if_due(&self) -> bool {
        let due = self
            .secret
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .created
            .elapsed()
            >= ROTATE_EVERY;
        if due {
            let mut secret = self.secret.write().unwrap_or_else(|p| p.into_inner());
            // Another request may have rotated it in between.
            if secret.created.elapsed() >= ROTATE_EVERY {
                *secret = Secret::fresh();
                return true;
            }
        }
        false
    }

    pub fn key_for(&self, peer: SocketAddr, headers: &HeaderMap) -> ClientKey {
        let address = self.client_address(peer.ip(), headers);
        let secret = self.secret.read().unwrap_or_else(|p| p.into_inner());
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret.bytes.as_ref()).expect("HMAC takes any key");
        mac.update(&address_bytes(address));
        let digest = mac.finalize().into_bytes();
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        ClientKey(key)
    }

    pub fn is_trusted_proxy(&self, peer: IpAddr) -> bool {
        let peer = canonical(peer);
        self.trusted_proxies.iter().any(|p| canonical(*p) == peer)
    }

    /// The peer, or what a trusted proxy says the client is (the header's last entry: the one
    /// the proxy itself added; earlier entries are whatever the client claimed).
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.is_trusted_proxy(peer) {
            return canonical(peer);
        }
        let peer = canonical(peer);
        self.header
            .as_ref()
            .and_then(|name| headers.get(name))
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .and_then(|last| last.trim().parse::<IpAddr>().ok())
            .map(canonical)
            .unwrap_or(peer)
    }
}

/// IPv4-mapped IPv6 addresses count as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// What is hashed: an IPv4 address whole, an IPv6 address by its /64 (one household or phone
/// usually holds a whole /64, so counting single addresses would be no limit at all).
fn address_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => {
            let mut bytes = v6.octets()[..8].to_vec();
            bytes.push(6);
            bytes
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 40000)
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    #[test]
    fn same_address_same_key_other_address_other_key() {
        let keys = ClientKeys::new(vec![], "x-forwarded-for");
        let none = HeaderMap::new();
        assert_eq!(
            keys.key_for(peer("192.0.2.1"), &none),
            keys.key_for(peer("192.0.2.1"), &none)
        );
        assert_ne!(
            keys.key_for(peer("192.0.2.1"), &none),
            keys.key_for(peer("192.0.2.2"), &none)
        );
        // One /64 is one client.
        assert_eq!(
            keys.key_for(peer("2001:db8::1"), &none),
            keys.key_for(peer("2001:db8::ffff"), &none)
        );
        assert_eq!(
            keys.key_for(peer("::ffff:192.0.2.1"), &none),
            keys.key_for(peer("192.0.2.1"), &none)
        );
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let keys = ClientKeys::new(vec!["10.0.0.1".parse().unwrap()], "x-forwarded-for");
        let direct = keys.key_for(peer("198.51.100.7"), &HeaderMap::new());
        // From the proxy: the last entry is the client.
        let via_proxy = keys.key_for(peer("10.0.0.1"), &forwarded("203.0.113.9, 198.51.100.7"));
        assert_eq!(via_proxy, direct);
        // Anyone else sending the header is counted by their own address.
        let spoofed = keys.key_for(peer("192.0.2.50"), &forwarded("198.51.100.7"));
        assert_eq!(spoofed, keys.key_for(peer("192.0.2.50"), &HeaderMap::new()));
        // A proxy that sends garbage is counted as itself.
        let garbage = keys.key_for(peer("10.0.0.1"), &forwarded("not an address"));
        assert_eq!(garbage, keys.key_for(peer("10.0.0.1"), &HeaderMap::new()));
    }

    #[tokio::test(start_paused = true)]
    async fn the_secret_rotates_hourly_and_keys_change_with_it() {
        let keys = ClientKeys::new(vec![], "x-forwarded-for");
        let none = HeaderMap::new();
        let before = keys.key_for(peer("192.0.2.1"), &none);
        assert!(!keys.rotate_if_due());
        tokio::time::advance(ROTATE_EVERY).await;
        assert!(keys.rotate_if_due());
        assert_ne!(keys.key_for(peer("192.0.2.1"), &none), before);
        assert_eq!(format!("{before:?}"), "ClientKey(..)");
    }
}
